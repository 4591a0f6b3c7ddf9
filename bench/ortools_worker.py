"""Every-lane OR-Tools: a day's files solved by OR-Tools' min-cost flow on every feasible profitable lane
of every product at once, in its own process (no pricing rounds); print JSON.

Usage: python bench/ortools_worker.py OFFERS.parquet DEMAND.parquet REGIONS.gpkg YYYY-MM-DD

The baseline of ``bench/run.py ratios``: the lanes are built with the project's own lane builder
(:func:`regions.lanes.lanes_for_pairs`, every offer to every region), margins scaled to integers as
``harvest match`` scales them, and each product solved by :func:`matcher.flow.solve_flow`.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import numpy as np
    import polars as pl

    from matcher.cycle import cost_scale
    from matcher.day import Day
    from matcher.flow import solve_flow
    from matcher.params import MatchParams
    from regions.lanes import lanes_for_pairs
    from regions.polygons import read_regions

    started = time.perf_counter()
    offers_path, demand_path, regions_path, date = sys.argv[1], sys.argv[2], sys.argv[3], dt.date.fromisoformat(sys.argv[4])
    day = Day.build(pl.read_parquet(offers_path), pl.read_parquet(demand_path), read_regions(regions_path).hubs, None, date)
    costs = MatchParams().costs
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    welfare, lanes_total, build, solve = 0, 0, 0.0, 0.0
    for problem in day.problems:
        t = time.perf_counter()
        regions = np.unique(problem.demand.region)  # the regions this product has demand rows in
        n_off = len(problem.supply_kg)
        o = np.repeat(np.arange(n_off, dtype=np.int64), len(regions))
        r = np.tile(regions, n_off)
        lanes = lanes_for_pairs(o, r, problem.supply, problem.demand, problem.hubs, costs)
        lanes = lanes.take(lanes.margin > 0)
        margin = np.rint(lanes.margin * scale).astype(np.int64)
        t2 = time.perf_counter()
        flow = solve_flow(problem.supply_kg, problem.demand_kg, lanes.offer, lanes.demand, margin)
        solve += time.perf_counter() - t2
        build += t2 - t
        welfare += int(flow.objective)
        lanes_total += lanes.size
    print(
        json.dumps(
            {
                "welfare": welfare / scale,
                "lanes": lanes_total,
                "products": len(day.problems),
                "build_seconds": build,
                "solve_seconds": solve,
                "seconds": time.perf_counter() - started,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
