"""One claimed cycle: snapshot the database, compute with the core, commit every result at once.

The snapshot is taken under the snapshot lock (:func:`api.db.lock_snapshot`), so a withdrawal or a
cancellation either lands before it (and the offer or order is not in the cycle) or is refused while
the cycle runs (409): nothing the cycle sells can be withdrawn under it. Offers and orders posted
after the snapshot wait for the next cycle. The cycle takes what is left of each waiting order, and
afterwards each order's status and filled kg follow from its current fills (:mod:`api.waiting`).
The snapshot also reads the cooperatives register (``PUT /cooperatives``), which tells the safety net
who is small (:mod:`matcher.safety_net`); a registration made after it counts from the next cycle.
It reads the fleet too (``PUT /fleets``, else the default fleets, :mod:`api.fleets_store`): the cycle
plans with it, and the ``trucks`` freight model prices with it even with planning switched off; a
cycle that used it (a plan, or ``trucks`` freight) keeps it on its row (``fleet``). It reads the
crossdocks (``PUT /crossdocks``, :mod:`api.crossdocks_store`) too: a cycle with ``trucks`` freight is
given them (its line haul may run through them, and its allocations say which one in ``via``) and
keeps them on its row (``crossdocks``); a ``linear`` cycle is given none and keeps none.
A cycle run with ``refund_adjust`` reads the cooperatives' delivered quality in the same snapshot: each
(cooperative, product) with history gets the expected refund rate ``1 - score`` (:mod:`matcher.scores`),
and each offer result keeps the rate that steered it, for the cycle's settlement.
Each cycle warm-starts from the farm-gate prices stored by the previous current cycle (the run a re-run
supersedes, else the latest earlier date; :func:`warm_start_prices`), as ``harvest match --warm-start``
does from a result folder: the optimum and the published prices are the same, it only comes sooner.
Frames are typed by the schemas below, never inferred from the rows, and sorted in binary order of
their ids whatever order the database returns.

The computation is :func:`matcher.pipeline.compute_cycle`, the same function ``harvest match --plan``
runs, with the parameters the operator queued the cycle with; it plans the transport of the result
right after the match, unless the service's configuration switches planning off (:mod:`api.planning`
gives its settings and turns the plan into rows). Every result (allocations,
demand rows, offer results with their safety-net floors, order fills, the plan's routes, stops and
unserved stops), the offers' remaining kg and the orders' fills are written in one transaction fenced
by the worker's lease: all of it, or nothing. A cycle is done with its plan, or not at all. The
cycle's ``stage`` follows the run: ``matching``, ``planning``, ``writing``.

A re-run of a date gives back what the date's current cycle sold and filled (in the snapshot),
supersedes it in the same transaction, and keeps it as history, its plan included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Float, Integer, MetaData, String, Table, select, text, update
from sqlalchemy import Column as SqlColumn
from sqlalchemy.orm import Session

from api import jobs
from api.after_sales import AfterSalesConfig
from api.books_store import published_lines, refunds_key, store_books
from api.crossdocks_store import Crossdocks, no_crossdocks, read_crossdocks
from api.db import Database, lock_snapshot, read_frame
from api.fleets_store import Fleet, default_fleet, read_fleet
from api.models import (
    Allocation,
    Cooperative,
    Cycle,
    Delivery,
    DemandRow,
    Offer,
    OfferResult,
    Order,
    OrderFill,
    PlanRoute,
    PlanStop,
    PlanUnserved,
    Region,
)
from api.planning import OFF, PlanConfig, PlannedCycle, planned_rows
from api.scores_store import refund_rates
from api.waiting import BOOK_SCHEMA, FILL_SCHEMA, settle, take
from harvestmatch.errors import InputError, Problem

OFFER_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(),
    "cooperative_id": pl.String(),
    "product": pl.String(),
    "grade": pl.String(),
    "quantity_kg": pl.Int64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "ready_date": pl.Date(),
    "shelf_life_days": pl.Int64(),
    "ask_per_kg": pl.Float64(),
    "status": pl.String(),
}
REGION_SCHEMA: dict[str, pl.DataType] = {
    "region_id": pl.String(),
    "geometry": pl.String(),
    "hub_lat": pl.Float64(),
    "hub_lon": pl.Float64(),
    "hub_derived": pl.Boolean(),
}
SOLD_SCHEMA: dict[str, pl.DataType] = {"offer_id": pl.String(), "sold_kg": pl.Int64()}
#: the prices a cycle warm-starts from (matcher.previous)
PRICE_SCHEMA: dict[str, pl.DataType] = {"offer_id": pl.String(), "farm_gate_price": pl.Float64()}
#: the cooperatives register as the safety net reads it (matcher.schemas.COOPERATIVES)
COOPERATIVE_SCHEMA: dict[str, pl.DataType] = {"cooperative_id": pl.String(), "small": pl.Boolean()}


@dataclass(frozen=True)
class Snapshot:
    """What a cycle sees: open offers (with any re-run's sales given back), the kg it takes of each
    order (``orders``), the regions, the cooperatives register (None when it is empty: everyone is then
    judged by the ``small_kg`` rule), the fleet and the crossdocks; the stored prices of the cycle it
    starts from (a warm start: :mod:`matcher.warm`); and, to settle the orders afterwards, the orders it
    read (``book``), their current fills and those it closes as expired (:mod:`api.waiting`)."""

    offers: pl.DataFrame
    orders: pl.DataFrame
    regions: pl.DataFrame
    previous_id: int | None
    book: pl.DataFrame
    fills: pl.DataFrame
    expired: pl.DataFrame
    cooperatives: pl.DataFrame | None = None
    quality: pl.DataFrame | None = None
    fleet: Fleet = field(default_factory=default_fleet)
    crossdocks: Crossdocks = field(default_factory=no_crossdocks)
    #: ``offer_id, farm_gate_price`` of the cycle it warm-starts from (:func:`warm_start_prices`), or None
    prices: pl.DataFrame | None = None


#: the function that computes a cycle from its snapshot (:func:`matcher.pipeline.compute_cycle`'s signature)
Compute = Callable[..., Any]


def run(
    db: Database, held: jobs.Lease, plan: PlanConfig = PlanConfig(), after_sales: AfterSalesConfig = AfterSalesConfig(), *, compute: Compute | None = None
) -> dict[str, Any]:
    """Snapshot, compute, plan (as ``plan`` says) and commit the held cycle; the summary that was committed.
    ``after_sales`` says how the scores forget, for the quality table of a cycle run with ``refund_adjust``;
    ``compute`` is the computation (default :func:`matcher.pipeline.compute_cycle`; tests hand in one
    that holds or fails). The cycle's parameters take the Dask scheduler's address from the
    environment when they name none (:meth:`matcher.params.MatchParams.resolved`).

    Raises
    ------
    InputError, ParameterError, SolverError
        The cycle cannot be computed or planned (no regions, a re-run not asked for, no proven optimum,
        a routing solution that fails its checks).
    LeaseLost
        Another worker took the cycle over; nothing was committed.
    """
    from matcher.pipeline import compute_cycle
    from regions.polygons import regions_from_stored

    started = time.perf_counter()
    snap = take_snapshot(db, held, forgetting=after_sales.forgetting)
    read = time.perf_counter()
    if snap.regions.height == 0:
        raise InputError(Problem("regions", None, None, "no regions uploaded yet: PUT /regions first"))
    regions = regions_from_stored(snap.regions)
    shaped = time.perf_counter()
    params = held.params.resolved(os.environ)
    # the plan's settings price the trucks model's freight even when no plan is published (routes off)
    plan_settings = plan.settings(params, snap.fleet.per_leg())
    # crossdocks are the trucks model's alone (the core refuses them with linear freight)
    crossdocks = snap.crossdocks.given() if params.freight == "trucks" else None
    with jobs.reporting_progress(db, held):
        result = (compute or compute_cycle)(
            snap.offers,
            regions,
            date=held.date,
            params=params,
            orders=snap.orders,
            cooperatives=snap.cooperatives,
            quality=snap.quality,
            plan=plan_settings,
            publish_plan=plan.routes,
            stage=lambda name: jobs.set_stage(db, held, name),
            crossdocks=crossdocks,
            previous=snap.prices,
        )
    summary = dict(result.summary)
    seconds = {"snapshot": read - started, "regions": shaped - read, **summary.pop("seconds", {})}
    seconds.setdefault("plan", 0.0)
    summary["seconds"] = seconds
    summary["cycle_id"], summary["attempt"] = held.cycle_id, held.attempt
    summary["orders_expired"] = snap.expired.height
    planned = planned_rows(held.cycle_id, result.plan) if result.plan is not None else None
    summary["plan"] = planned.summary if planned is not None else dict(OFF)
    jobs.set_stage(db, held, "writing")
    fleet = snap.fleet if planned is not None or params.freight == "trucks" else None
    used = snap.crossdocks if crossdocks is not None else None
    write_results(db, held, snap, result, summary, planned, fleet, used, seconds_so_far=time.perf_counter() - started)
    # the commit itself is timed only once it is over: the total is set on the done cycle afterwards
    summary["seconds"]["total"] = time.perf_counter() - started
    with db.write() as session:
        session.execute(update(Cycle).where(Cycle.id == held.cycle_id, Cycle.status == "done").values(summary=json.dumps(summary, default=str)))
    return summary


def take_snapshot(db: Database, held: jobs.Lease, *, forgetting: float = AfterSalesConfig.forgetting) -> Snapshot:
    """Read the cycle's inputs under the snapshot lock and stamp the cycle with the snapshot time.

    With ``refund_adjust`` it also reads each (cooperative, product)'s expected refund rate, ``1 -``
    its quality score weighed with ``forgetting`` (:func:`api.scores_store.refund_rates`; a re-run leaves out
    the cycle it supersedes): pairs without history have none.
    """
    with db.write() as session:
        lock_snapshot(session)
        previous = jobs.current_cycle(session, held.date, other_than=held.cycle_id)
        if previous is not None and not held.rerun:
            raise InputError(Problem("cycle", None, "rerun", f"{held.date} already has cycle {previous.id}; queue it with 'rerun': true"))
        previous_id = previous.id if previous is not None else None
        sold_query = select(OfferResult.offer_id, OfferResult.sold_kg).where(OfferResult.cycle_id == previous_id, OfferResult.sold_kg > 0)
        sold = read_frame(session, sold_query, SOLD_SCHEMA)
        # only offers open on the cycle's date; a withdrawn one only for what a superseded run sold of it
        # (withdrawing takes back the unsold rest, not a sale)
        open_on_date = (Offer.ready_date <= held.date) & (Offer.expires_on >= held.date)
        offers = read_frame(
            session,
            select(*(Offer.remaining_kg.label(c) if c == "quantity_kg" else getattr(Offer, c) for c in OFFER_SCHEMA))
            .where(open_on_date & ((Offer.status != "withdrawn") | Offer.offer_id.in_(sold_query.with_only_columns(OfferResult.offer_id))))
            .order_by(Offer.offer_id),
            OFFER_SCHEMA,
        )
        # the orders that wait, and those the superseded cycle had (a re-run gives back what it filled)
        candidates = Order.status == "pending"
        if previous_id is not None:
            candidates = candidates | Order.order_id.in_(select(OrderFill.order_id).where(OrderFill.cycle_id == previous_id))
        book = read_frame(session, select(*(getattr(Order, c) for c in BOOK_SCHEMA)).where(candidates).order_by(Order.order_id), BOOK_SCHEMA)
        fills = read_frame(
            session,
            select(*(Cycle.date if c == "date" else getattr(OrderFill, c) for c in FILL_SCHEMA))
            .join(Cycle, Cycle.id == OrderFill.cycle_id)
            .where(Cycle.current == 1, OrderFill.order_id.in_(select(Order.order_id).where(candidates))),
            FILL_SCHEMA,
        )
        regions = read_frame(session, select(*(getattr(Region, c) for c in REGION_SCHEMA)).order_by(Region.region_id), REGION_SCHEMA)
        cooperatives = read_frame(session, select(*(getattr(Cooperative, c) for c in COOPERATIVE_SCHEMA)), COOPERATIVE_SCHEMA)
        quality = refund_rates(session, forgetting, excluding=previous_id) if held.params.refund_adjust else None
        fleet = read_fleet(session)
        crossdocks = read_crossdocks(session)
        prices = warm_start_prices(session, held.date, other_than=held.cycle_id)
        at = jobs.now()
        stamped = session.execute(update(Cycle).where(*held.fence()).values(snapshot_at=at))
        if not stamped.rowcount:  # type: ignore[attr-defined]
            raise jobs.LeaseLost(f"cycle {held.cycle_id}: lease lost before the snapshot")
    # a re-run gives back what the superseded cycle sold; binary id order, whatever the database's collation
    unsold = pl.when(pl.col("status") == "withdrawn").then(0).otherwise(pl.col("quantity_kg"))
    offers = (
        offers.join(sold, on="offer_id", how="left")
        .with_columns(quantity_kg=unsold + pl.col("sold_kg").fill_null(0))
        .drop("sold_kg", "status")
        .filter(pl.col("quantity_kg") > 0)
        .sort("offer_id")
    )
    book, fills = book.sort("order_id"), fills.sort("order_id", "date")
    orders, expired = take(book, fills, date=held.date, today=at.date(), previous_id=previous_id)
    registered = cooperatives.sort("cooperative_id") if cooperatives.height else None
    return Snapshot(offers, orders, regions.sort("region_id"), previous_id, book, fills, expired, registered, quality, fleet, crossdocks, prices)


def warm_start_prices(session: Session, date: dt.date, *, other_than: int) -> pl.DataFrame | None:
    """``offer_id, farm_gate_price`` stored by the previous current cycle: the latest current cycle dated
    on or before ``date`` other than ``other_than`` (a re-run starts from the run it supersedes, a new
    day from the day before). None when there is none. Only a guess for the solve's start
    (:mod:`matcher.warm`): the result is the same without it."""
    latest = select(Cycle.id).where(Cycle.current == 1, Cycle.date <= date, Cycle.id != other_than).order_by(Cycle.date.desc(), Cycle.id.desc()).limit(1)
    cycle_id = session.scalars(latest).first()
    if cycle_id is None:
        return None
    query = select(OfferResult.offer_id, OfferResult.farm_gate_price).where(OfferResult.cycle_id == cycle_id, OfferResult.farm_gate_price.is_not(None))
    return read_frame(session, query, PRICE_SCHEMA).sort("offer_id")


def write_results(
    db: Database,
    held: jobs.Lease,
    snap: Snapshot,
    result: Any,
    summary: dict[str, Any],
    planned: PlannedCycle | None,
    fleet: Fleet | None = None,
    crossdocks: Crossdocks | None = None,
    *,
    seconds_so_far: float,
) -> None:
    """Write every result of the cycle (its plan too, when it was planned, and the ``fleet`` and
    ``crossdocks`` it used, if any), and the offers' and orders' new state, in one fenced transaction."""
    began = time.perf_counter()
    cycle_id = held.cycle_id
    tag = pl.lit(cycle_id, pl.Int64).alias("cycle_id")
    match = result.match
    rows = result.demand.select("demand_id", "quantity_kg", "price_per_kg")
    demand_rows = match.demand.join(rows, on="demand_id", how="left").with_columns(tag)
    fills = _order_fills(result.orders, snap.orders, cycle_id)
    settled = settle(snap.book, snap.fills, fills, snap.expired, cycle_id=cycle_id, date=held.date, previous_id=snap.previous_id)
    # the hubs as they were: a later PUT /regions must not move or drop the history's shipments
    hubs = snap.regions.select("region_id", "hub_lat", "hub_lon")
    allocations = match.allocations.join(hubs, on="region_id", how="left").with_columns(tag)
    deliveries = (
        match.allocations.group_by("cooperative_id", "product").agg(pl.col("quantity_kg").sum().alias("kg")).sort("cooperative_id", "product").with_columns(tag)
    )
    # the books as the cycle computed them: no claim has refunded any of its fills yet
    books = published_lines(result.settlement)
    with db.write() as session:
        jobs.hold(session, held)
        tables: list[tuple[Any, pl.DataFrame]] = [
            (Allocation, allocations),
            (DemandRow, demand_rows),
            (OfferResult, _offer_results(match, cycle_id)),
            (OrderFill, fills),
            (Delivery, deliveries),
        ]
        if planned is not None:  # routes before their stops (the stops' foreign key)
            tables += [(PlanRoute, planned.routes), (PlanStop, planned.stops), (PlanUnserved, planned.unserved)]
        if fleet is not None:
            session.execute(update(Cycle).where(*held.fence()).values(fleet=json.dumps(fleet.record())))
        if crossdocks is not None:
            session.execute(update(Cycle).where(*held.fence()).values(crossdocks=json.dumps(crossdocks.record())))
        for model, frame in tables:
            bulk_insert(session, model, frame)
        store_books(session, cycle_id, refunds_key(None), books, summary["settlement"])
        if snap.previous_id is not None:
            _give_back(session, snap.previous_id)
        _take(session, cycle_id)
        _settle_orders(session, settled)
        summary["seconds"]["write"] = time.perf_counter() - began
        summary["seconds"]["total"] = seconds_so_far + summary["seconds"]["write"]  # until the commit's own time is known
        jobs.finish(session, held, summary, snap.previous_id)


def bulk_insert(session: Session, model: Any, frame: pl.DataFrame) -> None:
    """Insert a frame's rows into a table (a model's, or a :class:`~sqlalchemy.Table`; only the table's
    columns), in bulk, inside the session's transaction: ``COPY`` on PostgreSQL (the frame written once
    as CSV), one driver-level executemany of plain tuples on SQLite (dates and times written as
    SQLAlchemy stores them there)."""
    if frame.height == 0:
        return
    table = model if isinstance(model, Table) else model.__table__
    columns = [c.key for c in table.columns if c.key in frame.columns]
    frame = frame.select(columns)
    raw = session.connection().connection.driver_connection
    names = ", ".join(columns)
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:  # type: ignore[union-attr]
            copy.write(frame.write_csv(include_header=False, null_value=""))
        return
    plain = frame.with_columns(_sqlite_value(name, dtype) for name, dtype in frame.schema.items())
    marks = ", ".join("?" * len(columns))
    raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", plain.iter_rows())  # type: ignore[union-attr]


def _sqlite_value(name: str, dtype: pl.DataType) -> pl.Expr:
    """A column as SQLAlchemy stores it in SQLite: dates and UTC times as text, booleans as 0 or 1."""
    column = pl.col(name)
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return column.dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
    if dtype == pl.Boolean:
        return column.cast(pl.Int64)
    return column


def _offer_results(match: Any, cycle_id: int) -> pl.DataFrame:
    """The offers out, with the refund rate that steered each one's lanes (null without one): the
    settlement recomputes the cycle's books from it."""
    offers = match.offers.with_columns(pl.lit(cycle_id, pl.Int64).alias("cycle_id"))
    if match.refund_rate is None:
        return offers
    return offers.join(match.refund_rate.select("offer_id", "refund_rate"), on="offer_id", how="left", maintain_order="left")


def _order_fills(orders_out: pl.DataFrame | None, orders: pl.DataFrame, cycle_id: int) -> pl.DataFrame:
    if orders_out is None:
        return pl.DataFrame(
            schema={
                "order_id": pl.String(),
                "region_id": pl.String(),
                "filled_kg": pl.Int64(),
                "clearing_price": pl.Float64(),
                "status": pl.String(),
                "reason": pl.String(),
            }
        )
    return orders_out.join(orders.select("order_id", "buyer_id"), on="order_id", how="left").with_columns(pl.lit(cycle_id, pl.Int64).alias("cycle_id"))


#: the orders' state after a cycle, staged for one ``UPDATE ... FROM`` (a temporary table of the transaction)
_ORDER_STATE = Table(
    "order_state",
    MetaData(),
    SqlColumn("order_id", String(64), primary_key=True),
    SqlColumn("status", String(16), nullable=False),
    SqlColumn("filled_kg", BigInteger, nullable=False),
    SqlColumn("cycle_id", Integer),
    SqlColumn("region_id", String(64)),
    SqlColumn("clearing_price", Float),
    SqlColumn("reason", String(200)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _settle_orders(session: Session, settled: pl.DataFrame) -> None:
    """Write each settled order's status, filled kg and latest cycle (:func:`api.waiting.settle`)."""
    if settled.height == 0:
        return
    connection = session.connection()
    _ORDER_STATE.create(connection)
    bulk_insert(session, _ORDER_STATE, settled)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # fresh rows have no statistics: without them the planner would join them to the orders row by row
        session.execute(text("ANALYZE order_state"))
    state = _ORDER_STATE.c
    session.execute(
        update(Order)
        .where(Order.order_id == state.order_id)
        .values(
            status=state.status,
            filled_kg=state.filled_kg,
            cycle_id=state.cycle_id,
            region_id=state.region_id,
            clearing_price=state.clearing_price,
            reason=state.reason,
        )
        .execution_options(synchronize_session=False)
    )
    if not postgres:  # PostgreSQL drops it at the commit
        _ORDER_STATE.drop(connection)


def _give_back(session: Session, previous_id: int) -> None:
    """The superseded cycle's sales return to its offers."""
    sold = select(OfferResult.sold_kg).where(OfferResult.cycle_id == previous_id, OfferResult.offer_id == Offer.offer_id).scalar_subquery()
    sold_ids = select(OfferResult.offer_id).where(OfferResult.cycle_id == previous_id, OfferResult.sold_kg > 0)
    session.execute(
        update(Offer).where(Offer.offer_id.in_(sold_ids)).values(remaining_kg=Offer.remaining_kg + sold).execution_options(synchronize_session=False)
    )


def _take(session: Session, cycle_id: int) -> None:
    """This cycle's sales leave their offers; offers sold out (or given kg back) change status."""
    sold = select(OfferResult.sold_kg).where(OfferResult.cycle_id == cycle_id, OfferResult.offer_id == Offer.offer_id).scalar_subquery()
    sold_ids = select(OfferResult.offer_id).where(OfferResult.cycle_id == cycle_id, OfferResult.sold_kg > 0)
    quiet = {"synchronize_session": False}  # no ids back to Python: nothing in this session holds these rows
    session.execute(update(Offer).where(Offer.offer_id.in_(sold_ids)).values(remaining_kg=Offer.remaining_kg - sold).execution_options(**quiet))
    session.execute(update(Offer).where(Offer.status == "open", Offer.remaining_kg == 0).values(status="sold_out").execution_options(**quiet))
    session.execute(update(Offer).where(Offer.status == "sold_out", Offer.remaining_kg > 0).values(status="open").execution_options(**quiet))


def reason_for(exc: BaseException) -> str:
    """What a failed cycle says to everyone: the problems of bad input, else the error's own words."""
    if isinstance(exc, InputError):
        return "; ".join(str(p) for p in exc.problems)
    return str(exc) or type(exc).__name__
