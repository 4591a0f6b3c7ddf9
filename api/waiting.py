"""Orders that wait: what each cycle takes of an order, and the order's state after the cycle.

An order is filled over one or more cycles. The service keeps one fill row per cycle that took it
(``order_fills``); its *current* fills are those of current cycles (one per date; a re-run supersedes
the date's earlier cycle). Everything here is a pure function of the order, its current fills, the
cycle's date and the cycle it supersedes, if any::

    q        the order's kg                         F    its current fills, each (date t_f, kg x_f, status s_f)
    filled   sum of x_f over F                      L    the fill of F with the latest date (none when F is empty)
    P        the cycle superseded (a re-run), x_P its fill of the order (0 when none)

**What a cycle of date T takes.** An order is *open* when it is ``pending``, or when L is P's fill
and the order was neither cancelled nor expired (P's verdict is being redone). The cycle takes

    kg = x_P + (q - filled  if open  else 0)

of every order with kg > 0 that P had or that is due on or after T. So a re-run gives back what the
superseded cycle filled (as offers get back what it sold), a cancelled or expired order is offered no
more than that again, and the sum of an order's current fills never exceeds q:
``filled - x_P + x_new <= filled - x_P + kg <= q``. An order ``pending`` and due before T is not
taken; when its due date is also before the day the cycle runs (UTC), the cycle closes it as
``expired`` (reason ``due_date_passed``). A cycle dated far ahead, by mistake, therefore leaves it
pending rather than closing it.

**The order after the cycle.** F loses P's fill and gains the new one; then, in this order:

    cancelled                     stays cancelled (what was filled stays)
    filled = q                    filled
    expired                       stays expired
    F empty                       pending (never filled)
    s_L = rejected                rejected (the latest cycle found it outside every region)
    t_L < due date                pending: a later cycle may fill the rest
    filled > 0                    partly_filled
    otherwise                     unfilled

with the region, clearing price, cycle and reason of L (the reason is empty when filled and
``due_date_passed`` when expired). The status is decided by the latest-dated cycle, whatever order
cycles ran in: a re-run of an earlier date after a later one does not reopen what the later one
closed, and a date run late does not close what a later one left pending.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

#: the order columns a cycle reads (``quantity_kg`` becomes the kg it takes)
ORDER_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "buyer_id": pl.String(),
    "product": pl.String(),
    "min_grade": pl.String(),
    "quantity_kg": pl.Int64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "max_price_per_kg": pl.Float64(),
    "due_date": pl.Date(),
    "created_at": pl.Datetime("us"),
    "pickup_point_id": pl.String(),
}
#: an order as the snapshot reads it: what the cycle needs, and its status
BOOK_SCHEMA: dict[str, pl.DataType] = {**ORDER_SCHEMA, "status": pl.String()}
#: an order's current fills, one row per current cycle that took it
FILL_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "cycle_id": pl.Int64(),
    "date": pl.Date(),
    "filled_kg": pl.Int64(),
    "status": pl.String(),
    "region_id": pl.String(),
    "clearing_price": pl.Float64(),
    "reason": pl.String(),
}
#: an order's state after a cycle: the columns of ``orders`` the cycle writes
STATE_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "status": pl.String(),
    "filled_kg": pl.Int64(),
    "cycle_id": pl.Int64(),
    "region_id": pl.String(),
    "clearing_price": pl.Float64(),
    "reason": pl.String(),
}

#: why an order closed without a cycle: its due date passed while it waited
EXPIRED_REASON = "due_date_passed"
#: statuses no cycle reopens: a re-run may only fill again what the cycle it supersedes had filled
FOR_GOOD = ("cancelled", "expired")


def take(book: pl.DataFrame, fills: pl.DataFrame, *, date: dt.date, today: dt.date, previous_id: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the cycle of ``date`` takes of each order, and which orders it closes as expired.

    Parameters
    ----------
    book
        The orders that are ``pending`` or in the superseded cycle (:data:`BOOK_SCHEMA`).
    fills
        Their current fills (:data:`FILL_SCHEMA`), the superseded cycle's included.
    date
        The cycle date.
    today
        The day the cycle runs (UTC): only an order due before it, and before ``date``, expires.
    previous_id
        The cycle a re-run supersedes, or None.

    Returns
    -------
    (orders, expired)
        The orders taken (:data:`ORDER_SCHEMA`, ``quantity_kg`` the kg taken), in order of arrival; the
        ids of the orders to close as expired (``order_id``).
    """
    before = _standing(book, fills, previous_id)
    redone = (pl.col("latest_cycle") == previous_id).fill_null(False) if previous_id is not None else pl.lit(False)
    opened = (pl.col("status") == "pending") | (redone & ~pl.col("status").is_in(FOR_GOOD))
    kg = pl.col("previous_kg") + pl.when(opened).then(pl.col("quantity_kg") - pl.col("filled")).otherwise(0)
    sized = before.with_columns(kg=kg)
    taken = (
        sized.filter((pl.col("kg") > 0) & (pl.col("in_previous") | (pl.col("due_date") >= date)))
        .with_columns(quantity_kg=pl.col("kg"))
        .select(list(ORDER_SCHEMA))
        .sort("created_at", "order_id")
    )
    expired = sized.filter((pl.col("status") == "pending") & ~pl.col("in_previous") & (pl.col("due_date") < date) & (pl.col("due_date") < today)).select(
        "order_id"
    )
    return taken, expired


def settle(
    book: pl.DataFrame,
    fills: pl.DataFrame,
    new_fills: pl.DataFrame,
    expired: pl.DataFrame,
    *,
    cycle_id: int,
    date: dt.date,
    previous_id: int | None,
) -> pl.DataFrame:
    """Each order's state after the cycle (see the module docstring), for every order the cycle
    changes: those it took, those the superseded cycle had, those it closes as expired.

    Parameters
    ----------
    book, fills
        As given to :func:`take`.
    new_fills
        The cycle's ``orders_out`` (``order_id, region_id, filled_kg, clearing_price, status, reason``).
    expired
        The ``order_id`` of the orders :func:`take` closes.
    cycle_id, date, previous_id
        The cycle, its date, and the cycle it supersedes (or None).

    Returns
    -------
    polars.DataFrame
        :data:`STATE_SCHEMA`, by ``order_id``.
    """
    made = new_fills.select(
        "order_id",
        pl.lit(cycle_id, pl.Int64).alias("cycle_id"),
        pl.lit(date, pl.Date).alias("date"),
        "filled_kg",
        "status",
        "region_id",
        "clearing_price",
        "reason",
    ).cast(FILL_SCHEMA)  # type: ignore[arg-type]
    kept = fills.filter(pl.col("cycle_id") != previous_id) if previous_id is not None else fills
    after = pl.concat([kept.select(list(FILL_SCHEMA)), made], how="vertical")
    latest = after.group_by("order_id").agg(
        pl.col("filled_kg").sum().alias("filled"),
        *(pl.col(c).sort_by("date").last() for c in ("cycle_id", "date", "status", "region_id", "clearing_price", "reason")),
    )
    touched = pl.concat(
        [
            made.select("order_id"),
            fills.filter(pl.col("cycle_id") == previous_id).select("order_id") if previous_id is not None else made.select("order_id").clear(),
            expired.select("order_id"),
        ]
    ).unique()
    rows = (
        book.select("order_id", "quantity_kg", "due_date", pl.col("status").alias("was"))
        .join(touched, on="order_id", how="semi")
        .join(latest, on="order_id", how="left")
        .join(expired.select("order_id", expiring=pl.lit(True)), on="order_id", how="left")
        .with_columns(pl.col("filled").fill_null(0), pl.col("expiring").fill_null(False))
    )
    status = (
        pl.when(pl.col("was") == "cancelled")
        .then(pl.lit("cancelled"))
        .when(pl.col("filled") == pl.col("quantity_kg"))
        .then(pl.lit("filled"))
        .when((pl.col("was") == "expired") | pl.col("expiring"))
        .then(pl.lit("expired"))
        .when(pl.col("date").is_null())
        .then(pl.lit("pending"))
        .when(pl.col("status") == "rejected")
        .then(pl.lit("rejected"))
        .when(pl.col("date") < pl.col("due_date"))
        .then(pl.lit("pending"))
        .when(pl.col("filled") > 0)
        .then(pl.lit("partly_filled"))
        .otherwise(pl.lit("unfilled"))
    )
    reason = (
        pl.when(pl.col("new_status") == "filled")
        .then(pl.lit(None, pl.String))
        .when(pl.col("new_status") == "expired")
        .then(pl.lit(EXPIRED_REASON))
        .otherwise(pl.col("reason"))
    )
    return (
        rows.with_columns(new_status=status)
        .with_columns(reason=reason)
        .select("order_id", pl.col("new_status").alias("status"), pl.col("filled").alias("filled_kg"), "cycle_id", "region_id", "clearing_price", "reason")
        .cast(STATE_SCHEMA)  # type: ignore[arg-type]
        .sort("order_id")
    )


def _standing(book: pl.DataFrame, fills: pl.DataFrame, previous_id: int | None) -> pl.DataFrame:
    """The orders with what their current fills add up to (``filled``), the cycle of the latest
    (``latest_cycle``), and the superseded cycle's fill (``previous_kg``; ``in_previous``)."""
    held = fills.group_by("order_id").agg(pl.col("filled_kg").sum().alias("filled"), pl.col("cycle_id").sort_by("date").last().alias("latest_cycle"))
    previous = (
        fills.filter(pl.col("cycle_id") == previous_id).select("order_id", pl.col("filled_kg").alias("previous_kg"))
        if previous_id is not None
        else pl.DataFrame(schema={"order_id": pl.String(), "previous_kg": pl.Int64()})
    )
    return (
        book.join(held, on="order_id", how="left")
        .join(previous.with_columns(in_previous=pl.lit(True)), on="order_id", how="left")
        .with_columns(pl.col("filled").fill_null(0), pl.col("previous_kg").fill_null(0), pl.col("in_previous").fill_null(False))
    )
