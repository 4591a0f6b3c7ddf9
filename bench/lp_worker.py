"""Solve one saved transportation LP with HiGHS or PuLP+CBC, in its own process; print JSON.

Usage: python bench/lp_worker.py INSTANCE.npz highs-simplex|highs-ipm|pulp-cbc TIME_LIMIT
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    path, solver, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    z = np.load(path)
    n, m = len(z["supply_kg"]), len(z["demand_kg"])
    started = time.perf_counter()
    if solver.startswith("highs"):
        from tests.oracle_highs import lp_optimum

        r = lp_optimum(n, m, z["lane_offer"], z["lane_demand"], z["margin"], z["supply_kg"], z["demand_kg"], solver=solver.split("-")[1], time_limit=limit)
        result = {
            "status": r["status"],
            "optimal": r["optimal"],
            "objective": r["objective"],
            "build_seconds": r["build_seconds"],
            "solve_seconds": r["solve_seconds"],
        }
    else:
        result = _pulp(z, n, m, limit)
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _pulp(z, n: int, m: int, limit: float) -> dict:
    import pulp

    t0 = time.perf_counter()
    prob = pulp.LpProblem("transport", pulp.LpMaximize)
    lanes = range(len(z["margin"]))
    x = [pulp.LpVariable(f"x{k}", lowBound=0) for k in lanes]
    prob += pulp.lpDot(z["margin"].tolist(), x)
    by_offer: list[list] = [[] for _ in range(n)]
    by_row: list[list] = [[] for _ in range(m)]
    for k, (i, j) in enumerate(zip(z["lane_offer"].tolist(), z["lane_demand"].tolist())):
        by_offer[i].append(x[k])
        by_row[j].append(x[k])
    for i, q in enumerate(z["supply_kg"].tolist()):
        if by_offer[i]:
            prob += pulp.lpSum(by_offer[i]) <= q
    for j, d in enumerate(z["demand_kg"].tolist()):
        if by_row[j]:
            prob += pulp.lpSum(by_row[j]) <= d
    t1 = time.perf_counter()
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit))
    t2 = time.perf_counter()
    # PuLP's status string can say Optimal for a stopped run: trust sol_status (docs/design.md section 5)
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    return {
        "status": pulp.LpStatus[status],
        "optimal": bool(optimal),
        "objective": float(pulp.value(prob.objective) or 0.0),
        "build_seconds": t1 - t0,
        "solve_seconds": t2 - t1,
    }


if __name__ == "__main__":
    main()
