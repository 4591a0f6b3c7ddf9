"""Running a cycle inside the service: snapshot, solve with the same core as ``harvest match``, commit.

The snapshot takes the open offers and pending orders that exist when the run starts; anything
posted later waits for the next cycle. The solve is :func:`regions.pooling.pool` and
:func:`matcher.cycle.match`, exactly as in the batch job. All results (allocations, demand rows,
offer results, the offers' remaining kg, the orders' fills) are written in one transaction, or
nothing is, and the cycle says ``failed`` with the reason.

A re-run of a date first gives back what the earlier cycle of that date sold (in memory, for the
snapshot); its results stay as history, marked superseded, in the same transaction that commits the
new ones.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import traceback
from typing import Any

import numpy as np
import polars as pl
from flask import Flask
from sqlalchemy import insert, select, update

from api.db import Database
from api.models import Allocation, Cycle, DemandRow, Offer, OfferResult, Order, Region
from harvestmatch.errors import HarvestError, InputError

_lock = threading.Lock()  # one cycle at a time per process
_threads: list[threading.Thread] = []


def start(app: Flask, cycle_id: int) -> threading.Thread:
    """Run the cycle in a background thread (the request that queued it returns at once)."""
    thread = threading.Thread(target=run, args=(app.extensions["harvest_db"], cycle_id), name=f"cycle-{cycle_id}", daemon=True)
    _threads.append(thread)
    thread.start()
    return thread


def wait_idle(timeout: float = 60.0) -> bool:
    """Wait for every cycle started in this process to end (for shutdown and tests); True if they did."""
    for thread in list(_threads):
        thread.join(timeout)
    _threads[:] = [t for t in _threads if t.is_alive()]
    return not _threads


def run(db: Database, cycle_id: int) -> None:
    with _lock:
        try:
            _run(db, cycle_id)
        except Exception as exc:  # the cycle must end in a status, whatever happened
            reason = "; ".join(str(p) for p in exc.problems) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, HarvestError):
                reason += "\n" + traceback.format_exc(limit=5)
            with db.session() as session:
                cycle = session.get(Cycle, cycle_id)
                if cycle is not None:
                    cycle.status, cycle.reason, cycle.finished_at = "failed", reason[:4000], dt.datetime.now(dt.UTC)


def _run(db: Database, cycle_id: int) -> None:
    from matcher.cycle import match
    from regions.pooling import fill_orders, pool

    snapshot_at = dt.datetime.now(dt.UTC)
    with db.session() as session:
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        cycle.status, cycle.snapshot_at = "running", snapshot_at
        date = cycle.date
        previous = session.scalars(
            select(Cycle).where(Cycle.date == date, Cycle.status == "done", Cycle.superseded_by.is_(None), Cycle.id != cycle_id)
        ).first()
        previous_id = previous.id if previous is not None else None

    with db.engine.connect() as conn:
        offers = pl.read_database(select(Offer).where(Offer.created_at <= snapshot_at), conn)
        orders = pl.read_database(select(Order).where(Order.created_at <= snapshot_at), conn)
        regions = pl.read_database(select(Region), conn)
        sold_before = (
            pl.read_database(select(OfferResult.offer_id, OfferResult.sold_kg).where(OfferResult.cycle_id == previous_id), conn)
            if previous_id is not None
            else pl.DataFrame(schema={"offer_id": pl.String, "sold_kg": pl.Int64})
        )
    if regions.height == 0:
        raise InputError([_problem("no regions uploaded yet: PUT /regions first")])

    # a re-run gives back what the superseded cycle sold and takes its orders again
    offers = offers.join(sold_before, on="offer_id", how="left").with_columns(
        remaining_kg=pl.col("remaining_kg") + pl.col("sold_kg").fill_null(0)
    )
    open_offers = offers.filter((pl.col("status") != "withdrawn") & (pl.col("remaining_kg") > 0))
    taken = pl.col("status") == "pending"
    if previous_id is not None:
        taken = taken | (pl.col("cycle_id") == previous_id)
    open_orders = orders.filter(taken)

    shapes = _shapes(regions)
    hubs = regions.select("region_id", "hub_lat", "hub_lon", "hub_derived")
    offer_frame = open_offers.select(
        "offer_id", "cooperative_id", "product", "grade", pl.col("remaining_kg").alias("quantity_kg"), "lat", "lon",
        pl.col("ready_date").cast(pl.Date), "shelf_life_days", "ask_per_kg",
    )
    order_frame = open_orders.select(
        "order_id", "product", "min_grade", "quantity_kg", "lat", "lon", "max_price_per_kg", pl.col("due_date").cast(pl.Date), "created_at"
    )
    demand, placed = pool(order_frame, shapes)
    result = match(offer_frame, demand.drop("orders"), hubs, date=date)
    filled = fill_orders(placed, result.demand, arrival="created_at")
    _commit(db, cycle_id, previous_id, result, demand, filled, offers)


def _commit(db: Database, cycle_id: int, previous_id: int | None, result: Any, demand: pl.DataFrame, filled: pl.DataFrame, offers: pl.DataFrame) -> None:
    """Write every result of the cycle, and the offers' and orders' new state, in one transaction."""
    remaining = (
        offers.select("offer_id", "remaining_kg")
        .join(result.offers.select("offer_id", "sold_kg"), on="offer_id", how="inner")
        .select("offer_id", (pl.col("remaining_kg") - pl.col("sold_kg")).alias("remaining_kg"))
    )
    in_cycle = result.offers.filter(~pl.col("reason").is_in(["not_ready", "expired"]))
    rows = result.demand.join(demand.select("demand_id", "quantity_kg", "price_per_kg"), on="demand_id")
    fills = filled.select("order_id", "status", "filled_kg", "region_id", "clearing_price", "reason").with_columns(cycle_id=pl.lit(cycle_id))
    with db.session() as session:
        for table, frame in ((Allocation, result.allocations), (DemandRow, rows), (OfferResult, in_cycle)):
            if frame.height:
                session.execute(insert(table), frame.with_columns(cycle_id=pl.lit(cycle_id)).to_dicts())
        # bulk updates by primary key (executemany), then the statuses that follow from them; an offer
        # withdrawn while the cycle ran keeps its status (its kg in the snapshot were sold all the same)
        if remaining.height:
            session.execute(update(Offer), remaining.to_dicts())
        session.execute(update(Offer).where(Offer.status == "open", Offer.remaining_kg == 0).values(status="sold_out"))
        session.execute(update(Offer).where(Offer.status == "sold_out", Offer.remaining_kg > 0).values(status="open"))
        expired = result.offers.filter(pl.col("reason") == "expired")["offer_id"].to_list()
        if expired:
            session.execute(update(Offer).where(Offer.offer_id.in_(expired), Offer.status == "open").values(status="expired"))
        if fills.height:
            session.execute(update(Order), fills.to_dicts())
        if previous_id is not None:
            session.execute(update(Cycle).where(Cycle.id == previous_id).values(superseded_by=cycle_id))
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        cycle.status, cycle.finished_at = "done", dt.datetime.now(dt.UTC)
        cycle.summary = json.dumps(_clean(result.summary | {"orders": filled.height}), default=str)


def _shapes(regions: pl.DataFrame):  # type: ignore[no-untyped-def]
    import geopandas as gpd
    import shapely

    geometry = shapely.from_geojson(regions["geometry"].to_list())
    return gpd.GeoDataFrame({"region_id": regions["region_id"].to_list()}, geometry=np.asarray(geometry), crs="EPSG:4326")


def _clean(summary: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(summary, default=str))


def _problem(message: str):  # type: ignore[no-untyped-def]
    from harvestmatch.errors import Problem

    return Problem("cycle", None, None, message)
