"""The demo day through the service: where a cycle's time goes on SQLite and on PostgreSQL.

The demo day (370 cities, about 2,000 offers, about 150,000 household orders) is loaded straight into
a fresh database, one cycle is queued and run by a worker in this process, and the cycle's own
``summary.seconds`` is reported: snapshot (reading the database into typed frames), pooling, the
match, and the write (every result, the offers' remaining kg and the orders' fills, in one
transaction).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ADMIN_URL = os.environ.get("HARVEST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run(data: Path) -> list[dict[str, Any]]:
    """One cycle of the demo day on each database that answers; a row of seconds per database."""
    from harvest.demo.day import DEMO_DATE, build_demo_inputs

    paths = build_demo_inputs(data / "demo-input")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(_one(f"sqlite:///{Path(folder) / 'bench.db'}", paths, DEMO_DATE))
    url = _fresh_postgres()
    if url is not None:
        try:
            rows.append(_one(url, paths, DEMO_DATE))
        finally:
            _drop_postgres(url)
    return rows


def _one(url: str, paths: dict[str, Path], date: dt.date) -> dict[str, Any]:
    from api import create_app, jobs
    from api.db import create_key
    from api.models import Offer, Order, Product, Region
    from api.runner import bulk_insert
    from api.worker import Worker
    from matcher.params import MatchParams
    from regions.polygons import read_regions, regions_to_stored

    app = create_app({"DATABASE_URL": url})
    db = app.extensions["harvest_db"]
    create_key(db, "buyer", buyer_id="demo-buyers")
    now = dt.datetime.now(dt.UTC)
    offers = pl.read_csv(paths["offers"], try_parse_dates=True).with_columns(
        remaining_kg=pl.col("quantity_kg"),
        status=pl.lit("open"),
        created_at=pl.lit(now),
        expires_on=pl.col("ready_date") + pl.duration(days=pl.col("shelf_life_days")),
    )
    orders = pl.read_csv(paths["orders"], try_parse_dates=True).with_columns(
        buyer_key_id=pl.lit(1), buyer_id=pl.lit("demo-buyers"), status=pl.lit("pending"), filled_kg=pl.lit(0), created_at=pl.lit(now)
    )
    products = pl.read_csv(paths["products"]).select("product").unique()
    regions = regions_to_stored(read_regions(paths["regions"]))
    loaded = time.perf_counter()
    with db.write() as session:
        for model, frame in ((Product, products), (Region, regions), (Offer, offers), (Order, orders)):
            bulk_insert(session, model, frame)
    loaded = time.perf_counter() - loaded
    cycle_id = jobs.enqueue(db, date, rerun=False, params=MatchParams())
    started = time.perf_counter()
    Worker(db).run_once()
    wall = time.perf_counter() - started
    with db.session() as session:
        from api.models import Cycle

        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None and cycle.status == "done", cycle.reason if cycle else "no cycle"
        import json

        summary = json.loads(cycle.summary or "{}")
    db.engine.dispose()
    return {
        "database": db.dialect,
        "offers": offers.height,
        "orders": orders.height,
        "lanes_shipped": summary["lanes_shipped"],
        "load_seconds": loaded,
        "wall_seconds": wall,
        **{f"{k}_seconds": v for k, v in summary["seconds"].items()},
    }


def _fresh_postgres() -> str | None:
    try:
        import psycopg

        name = f"harvest_bench_{os.getpid()}"
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def _drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
