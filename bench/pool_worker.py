"""Pool one orders file into one region file, in its own process; print stage timings as JSON.

Usage: python bench/pool_worker.py ORDERS.parquet REGIONS.gpkg
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from matcher.io import read_raw_table
    from matcher.schemas import ORDERS, parse_table
    from regions.polygons import read_regions
    from regions.pooling import pool

    t0 = time.perf_counter()
    raw = read_raw_table(sys.argv[1])
    t1 = time.perf_counter()
    orders = parse_table(raw, ORDERS, source="orders", key="order_id")
    del raw
    t2 = time.perf_counter()
    regions = read_regions(sys.argv[2])
    t3 = time.perf_counter()
    demand, placed = pool(orders, regions.shapes)
    t4 = time.perf_counter()
    print(
        json.dumps(
            {
                "orders": orders.height,
                "regions": regions.hubs.height,
                "demand_rows": demand.height,
                "rejected": int(placed["region_id"].null_count()),
                "snapped": int((placed["snapped_km"] > 0).sum()),
                "read": t1 - t0,
                "validate": t2 - t1,
                "regions_read": t3 - t2,
                "pool": t4 - t3,
                "total": t4 - t0,
            }
        )
    )


if __name__ == "__main__":
    main()
