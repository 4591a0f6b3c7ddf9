"""The service's tables (SQLAlchemy 2, typed). SQLite by default, PostgreSQL in production.

The schema in a database is made by the Alembic migrations in ``api/migrations`` (``harvest db
upgrade``); a change here needs a new revision there, and a test checks that they agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    cooperative_id: Mapped[str | None] = mapped_column(String(64))
    #: the buyer a buyer key speaks for: a new key for the same buyer sees the same orders
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Offer(Base):
    """A harvest offer posted by a cooperative; ``remaining_kg`` shrinks as cycles sell it.

    ``status`` is ``open``, ``withdrawn`` or ``sold_out``: whether an offer is ready or expired is a
    fact of the date a cycle asks about (between ``ready_date`` and ``expires_on``), never a status.
    """

    __tablename__ = "offers"

    offer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product: Mapped[str] = mapped_column(String(100), nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    quantity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    remaining_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    ready_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    shelf_life_days: Mapped[int] = mapped_column(Integer, nullable=False)
    #: ``ready_date + shelf_life_days``, kept so that a cycle selects the offers open on its date in SQL
    expires_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ask_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    #: the cooperative's own reference for the offer (a lot number, a field), shown back, never matched on
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_offers_coop_created", "cooperative_id", "created_at", "offer_id"),)


class IdempotentRequest(Base):
    """The stored answer to a POST made with an ``Idempotency-Key``, replayed to a retry. A key is
    scoped to its caller (the key's owner), the method and the path."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    method: Mapped[str] = mapped_column(String(8), primary_key=True)
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)


class Order(Base):
    """A buyer's (or pickup point's) order; pooled into regional demand by the cycles that take it.

    ``status`` is ``pending`` while it waits for a cycle: before the first, and after each that left
    some of it unfilled while its due date still allows a later one. Then ``filled``,
    ``partly_filled``, ``unfilled`` or ``rejected`` as the latest-dated cycle that took it decided,
    ``expired`` (its due date passed while it waited) or ``cancelled`` (by its buyer). ``filled_kg``
    is what the current cycles filled, summed over its ``order_fills``; ``cycle_id``, ``region_id``,
    ``clearing_price`` and ``reason`` are the latest-dated current fill's (:mod:`api.waiting`).
    """

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), nullable=False)
    buyer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100))
    product: Mapped[str] = mapped_column(String(100), nullable=False)
    min_grade: Mapped[str] = mapped_column(String(1), nullable=False)
    quantity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    max_price_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: the community pickup point it is delivered to: the last mile's stop (else its place, lat and lon)
    pickup_point_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    filled_kg: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    region_id: Mapped[str | None] = mapped_column(String(64))
    clearing_price: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_orders_buyer", "buyer_id", "order_id"),
        # a cycle's snapshot reads the waiting orders, not every order ever posted
        Index("ix_orders_status", "status", "due_date"),
    )


class OrderFill(Base):
    """What one cycle gave one order (orders_out.csv of the batch contract): ``filled_kg`` of the kg it
    took, ``unfilled_kg`` the rest, ``status`` its verdict (``pending`` when a later cycle could fill
    the rest)."""

    __tablename__ = "order_fills"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    region_id: Mapped[str | None] = mapped_column(String(64))
    demand_id: Mapped[str | None] = mapped_column(String(300))
    filled_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    unfilled_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    clearing_price: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_order_fills_buyer", "buyer_id", "cycle_id"),
        Index("ix_order_fills_order", "order_id", "cycle_id"),
    )


class Product(Base):
    """The product catalogue: offers and orders naming another product are refused."""

    __tablename__ = "products"

    product: Mapped[str] = mapped_column(String(100), primary_key=True)


class Region(Base):
    """A region polygon (GeoJSON geometry, WGS84) and its hub."""

    __tablename__ = "regions"

    region_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    geometry: Mapped[str] = mapped_column(Text, nullable=False)
    hub_lat: Mapped[float] = mapped_column(Float, nullable=False)
    hub_lon: Mapped[float] = mapped_column(Float, nullable=False)
    hub_derived: Mapped[bool] = mapped_column(nullable=False, default=False)


class FleetVehicle(Base):
    """One row of the operator's fleet (``PUT /fleets``, :mod:`api.fleets`): a vehicle type of a leg
    (``first_mile``, ``line_haul``, ``last_mile``), its capacity, count (null: as many as the stops
    need), costs and shift. ``seq`` is the row's place in the table as given (from 1). Without rows
    the service plans with the default fleets. ``depot`` is null: the service ties no vehicle to one hub."""

    __tablename__ = "fleet_vehicles"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leg: Mapped[str] = mapped_column(String(16), nullable=False)
    vehicle_type: Mapped[str] = mapped_column(String(64), nullable=False)
    capacity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    count: Mapped[int | None] = mapped_column(Integer)
    fixed_cost: Mapped[float] = mapped_column(Float, nullable=False)
    cost_per_km: Mapped[float] = mapped_column(Float, nullable=False)
    max_duration_min: Mapped[float] = mapped_column(Float, nullable=False)
    depot: Mapped[str | None] = mapped_column(String(64))


class Crossdock(Base):
    """One of the operator's crossdocks (``PUT /crossdocks``, :mod:`api.crossdocks`): a consolidation
    centre the ``trucks`` freight model's line haul may run through (origin hub -> crossdock ->
    destination hub), its place, the kg it handles a day and its handling cost per kg. ``seq`` is the
    row's place in the table as given (from 1). Without rows cycles have no crossdocks."""

    __tablename__ = "crossdocks"

    crossdock_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    capacity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    handling_per_kg: Mapped[float] = mapped_column(Float, nullable=False)


class Cooperative(Base):
    """The operator's register of a cooperative (``PUT /cooperatives/{id}``): whether the safety net
    treats it as small, whatever its offers weigh (one it does not list is judged by the cycle's
    ``small_kg`` rule, :mod:`matcher.safety_net`), and what it is (members, hectares) for the record."""

    __tablename__ = "cooperatives"

    cooperative_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    small: Mapped[bool] = mapped_column(Boolean, nullable=False)
    members: Mapped[int | None] = mapped_column(Integer)
    hectares: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)


class Cycle(Base):
    """One run of the daily matching, a durable job: ``queued`` -> ``running`` -> ``done`` or ``failed``.

    Two unique constraints keep the invariants in the database, not in a check-then-insert:
    ``active`` is 1 for the one queued or running cycle (NULL otherwise), so at most one cycle is
    active at a time; ``current`` is 1 for the done cycle of its date that has not been superseded, so
    each date has at most one current result. A worker holds a running cycle under a lease
    (``lease_owner``, ``lease_until``, renewed by a heartbeat); ``attempt`` fences a worker that lost
    its lease out of the commit. ``stage`` says what a running cycle is doing.
    """

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    #: while running: ``matching``, ``planning`` or ``writing``; NULL otherwise
    stage: Mapped[str | None] = mapped_column(String(16))
    rerun: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    params: Mapped[str | None] = mapped_column(Text)
    active: Mapped[int | None] = mapped_column(Integer)
    current: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    #: what only operators see: the exception and where it came from
    detail: Mapped[str | None] = mapped_column(Text)
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    snapshot_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: JSON of the latest progress line of the cycle's fan-out (matcher.fanout.ProgressLog)
    progress: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    #: JSON of the fleet the cycle's plan or ``trucks`` freight used (:meth:`api.fleets_store.Fleet.record`:
    #: source, sha256, vehicles); null when it used none
    fleet: Mapped[str | None] = mapped_column(Text)
    #: JSON of the crossdocks the cycle's ``trucks`` freight was given (:meth:`api.crossdocks_store.Crossdocks.record`:
    #: sha256, crossdocks); null when it was given none (none stored, or ``linear`` freight)
    crossdocks: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("active", name="uq_cycles_active"),
        UniqueConstraint("date", "current", name="uq_cycles_current_date"),
    )


class Allocation(Base):
    """One shipped lane of a cycle (allocations.csv of the batch contract)."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False, index=True)
    offer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    cooperative_id: Mapped[str] = mapped_column(String(64), nullable=False)
    demand_id: Mapped[str] = mapped_column(String(300), nullable=False)
    region_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product: Mapped[str] = mapped_column(String(100), nullable=False)
    quantity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    distance_km: Mapped[float] = mapped_column(Float, nullable=False)
    transit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    cost_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    ask_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    price_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    farm_gate_price: Mapped[float] = mapped_column(Float, nullable=False)
    clearing_price: Mapped[float] = mapped_column(Float, nullable=False)
    #: the region's hub when the cycle ran (regions may be replaced later; shipments keep their ends)
    hub_lat: Mapped[float | None] = mapped_column(Float)
    hub_lon: Mapped[float | None] = mapped_column(Float)
    #: the crossdock the lane's line haul runs through (``trucks`` freight with crossdocks); null: direct
    via: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_allocations_cycle_coop", "cycle_id", "cooperative_id"),)


class Delivery(Base):
    """What a cooperative delivered of a product in a cycle: its allocations' kg summed when the cycle is
    written, so that the scorecards and refund rates read one row per (cycle, cooperative, product)
    instead of grouping every allocation on each call."""

    __tablename__ = "deliveries"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product: Mapped[str] = mapped_column(String(100), primary_key=True)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_deliveries_coop", "cooperative_id", "product"),)


class BooksLine(Base):
    """One party's line of a done cycle's books, as last computed (:mod:`api.settlement`): written with
    the cycle, and again when the refunds on the cycle's fills have changed since (``refunds_key``)."""

    __tablename__ = "books_lines"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    party: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: money as published: decimal text to the cent
    gross: Mapped[str] = mapped_column(String(48), nullable=False)
    refunds: Mapped[str] = mapped_column(String(48), nullable=False)
    subsidy: Mapped[str] = mapped_column(String(48), nullable=False)
    reserve: Mapped[str] = mapped_column(String(48), nullable=False)
    net: Mapped[str] = mapped_column(String(48), nullable=False)
    #: the order of the lines as the books give them
    seq: Mapped[int] = mapped_column(Integer, nullable=False)


class Books(Base):
    """A done cycle's books as last computed: their totals, and the refunds they include (``refunds_key``,
    a SHA-256 of the refunds; the lines are :class:`BooksLine`)."""

    __tablename__ = "books"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    refunds_key: Mapped[str] = mapped_column(String(64), nullable=False)
    #: JSON of the totals (matcher.settlement.settle)
    totals: Mapped[str] = mapped_column(Text, nullable=False)


class DemandRow(Base):
    """One pooled demand row of a cycle and how it cleared (demand_out.csv)."""

    __tablename__ = "demand_rows"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    demand_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    region_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product: Mapped[str] = mapped_column(String(100), nullable=False)
    quantity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    price_per_kg: Mapped[float] = mapped_column(Float, nullable=False)
    filled_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    unmet_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    clearing_price: Mapped[float] = mapped_column(Float, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)


class OfferResult(Base):
    """How one offer fared in a cycle (offers_out.csv)."""

    __tablename__ = "offer_results"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(64), nullable=False)
    sold_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    unsold_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    farm_gate_price: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    #: the safety net (matcher.floor): the offer's floor in whole kg (0 without one) and the kg sold through it
    floor_kg: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    floor_sold_kg: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    #: null without a floor; ``floor_reason`` is ``met``, ``no_feasible_lane``, ``beyond_subsidy_cap`` or ``demand_taken``
    floor_met: Mapped[bool | None] = mapped_column(Boolean)
    floor_reason: Mapped[str | None] = mapped_column(String(32))
    #: the per-kg cost of the producer's safety net (null where none)
    floor_dual: Mapped[float | None] = mapped_column(Float)
    #: money the platform pays for the floor's sales of this offer
    subsidy: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    #: the expected refund rate that steered this offer's lanes (``refund_adjust``, :mod:`matcher.quality`);
    #: null when it was off or the offer had none. The settlement recomputes the cycle's books from it.
    refund_rate: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_offer_results_offer", "offer_id", "cycle_id"),
        Index("ix_offer_results_coop", "cooperative_id", "cycle_id"),
    )


class PlanRoute(Base):
    """One vehicle's tour in a cycle's transport plan (routes.csv of ``harvest match --plan``), with its
    depot's place as it was when the cycle ran."""

    __tablename__ = "plan_routes"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: ``first_mile``, ``line_haul`` or ``last_mile``
    leg: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the region whose hub the leg's problem belongs to: the origin (first mile, line haul) or the destination
    #: (last mile); ``crossdock:<crossdock_id>`` for the line haul onward from a crossdock
    hub: Mapped[str] = mapped_column(String(200), nullable=False)
    problem_id: Mapped[str] = mapped_column(String(200), nullable=False)
    depot_id: Mapped[str] = mapped_column(String(200), nullable=False)
    depot_lat: Mapped[float] = mapped_column(Float, nullable=False)
    depot_lon: Mapped[float] = mapped_column(Float, nullable=False)
    vehicle_type: Mapped[str] = mapped_column(String(64), nullable=False)
    capacity_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    stops: Mapped[int] = mapped_column(Integer, nullable=False)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    load_factor: Mapped[float] = mapped_column(Float, nullable=False)
    km: Mapped[float] = mapped_column(Float, nullable=False)
    start_min: Mapped[float] = mapped_column(Float, nullable=False)
    end_min: Mapped[float] = mapped_column(Float, nullable=False)
    duration_min: Mapped[float] = mapped_column(Float, nullable=False)
    cost: Mapped[float] = mapped_column(Float, nullable=False)

    __table_args__ = (Index("ix_plan_routes_hub", "cycle_id", "hub"),)


class PlanStop(Base):
    """One stop of a route, in the order driven (``seq`` from 1). A first-mile stop is an offer
    (``stop_id`` is its ``offer_id``), a line-haul stop a destination hub (``hub:<region_id>``) or a
    crossdock (``crossdock:<crossdock_id>``, its ``region_id`` null), a last-mile stop a pickup point
    (its location, ``lat,lon``). Times are minutes from the start of the leg's working day."""

    __tablename__ = "plan_stops"

    cycle_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    leg: Mapped[str] = mapped_column(String(16), nullable=False)
    problem_id: Mapped[str] = mapped_column(String(200), nullable=False)
    stop_id: Mapped[str] = mapped_column(String(200), nullable=False)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    arrive_min: Mapped[float] = mapped_column(Float, nullable=False)
    start_min: Mapped[float] = mapped_column(Float, nullable=False)
    depart_min: Mapped[float] = mapped_column(Float, nullable=False)
    load_kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    region_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        ForeignKeyConstraint(["cycle_id", "route_id"], ["plan_routes.cycle_id", "plan_routes.route_id"], name="fk_plan_stops_route"),
        Index("ix_plan_stops_stop", "cycle_id", "stop_id"),
        Index("ix_plan_stops_region", "cycle_id", "region_id"),
    )


class PlanUnserved(Base):
    """What a cycle's plan could not route, and why (a stop may be listed once per reason: pieces of a
    heavy stop can fail for different reasons)."""

    __tablename__ = "plan_unserved"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    problem_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    stop_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), primary_key=True)
    leg: Mapped[str] = mapped_column(String(16), nullable=False)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Claim(Base):
    """A buyer's after-sales claim on an order's delivered kg (``POST /claims``, the views of :mod:`api.claims`;
    the rules are :mod:`matcher.claims`, what is read and written :mod:`api.claims_store`).

    ``status`` is ``approved``, ``needs_evidence``, ``awaiting_return``, ``rejected`` or ``unreasonable``
    (a refund approved earlier and later found unreasonable: the buyer keeps it, the protection fund
    bears it); ``bearer`` who pays an approved refund (``cooperative``, ``freight``,
    ``protection_fund``); ``rule`` the rule of the latest decision (``instant_refund_only``,
    ``evidence_required``, ``return_required``, ``operator``). ``value_cents`` is the claim's money in
    cents: its kg at the clearing prices the order paid. ``decided_on`` is the latest current cycle
    date when the latest decision was made: the date its outcome counts from in the scores
    (:mod:`matcher.scores`, read by :mod:`api.scores_store`).
    """

    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), nullable=False)
    buyer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product: Mapped[str] = mapped_column(String(100), nullable=False)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    evidence: Mapped[str | None] = mapped_column(String(500))
    remedy: Mapped[str] = mapped_column(String(16), nullable=False)
    value_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    bearer: Mapped[str | None] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(32), nullable=False)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)

    __table_args__ = (
        Index("ix_claims_buyer", "buyer_id", "claim_id"),
        Index("ix_claims_order", "order_id"),
        Index("ix_claims_status", "status", "claim_id"),
    )


class ClaimPart(Base):
    """The part of a claim on one cycle's fill that one cooperative supplied: the claim's kg are taken
    from the order's fills oldest first (after the kg earlier claims took), and each fill's kg are
    attributed to the cooperatives whose allocations supplied its demand row in that cycle, pro rata by
    kg (largest remainder, ties by ``cooperative_id``; :func:`matcher.claims.claim_parts`). ``amount_cents``
    is the part's money."""

    __tablename__ = "claim_parts"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    demand_id: Mapped[str] = mapped_column(String(300), nullable=False)
    kg: Mapped[int] = mapped_column(BigInteger, nullable=False)
    clearing_price: Mapped[float] = mapped_column(Float, nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        Index("ix_claim_parts_coop", "cooperative_id", "claim_id"),
        Index("ix_claim_parts_cycle", "cycle_id"),
    )


class ClaimDecision(Base):
    """One entry of a claim's history, in order (``seq`` from 1): the rule chain's decision at intake,
    the operator's decisions, and the buyer's evidence given while the claim waits (rule
    ``evidence_given``, status unchanged). ``by`` is ``rules``, ``operator`` or ``buyer``; ``decided_by``
    the key that made it (``key:<id>``)."""

    __tablename__ = "claim_decisions"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    bearer: Mapped[str | None] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(32), nullable=False)
    by: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class ClaimResponse(Base):
    """A cooperative's answer to a claim on its sales, in order (``seq`` from 1)."""

    __tablename__ = "claim_responses"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, nullable=False)
