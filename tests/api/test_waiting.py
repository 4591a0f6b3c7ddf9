"""Orders that wait, as pure functions (no database): what each cycle takes, each order's state after
it, and the conservation of an order's kg over any sequence of cycles, re-runs and cancellations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.waiting import BOOK_SCHEMA, FILL_SCHEMA, settle, take

DAY0 = dt.date(2026, 11, 23)


@dataclass
class Book:
    """The service's orders and order fills, in memory, as the runner reads and writes them."""

    quantity: dict[str, int]
    due: dict[str, dt.date]
    status: dict[str, str] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    fills: list[dict] = field(default_factory=list)  # every fill row ever, with its cycle
    current: dict[dt.date, int] = field(default_factory=dict)  # the current cycle of each date
    dates: dict[int, dt.date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.status = {k: "pending" for k in self.quantity}
        self.filled = {k: 0 for k in self.quantity}

    def frames(self, previous: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """What the snapshot reads: the waiting orders and the superseded cycle's, and their current fills."""
        in_previous = {f["order_id"] for f in self.fills if f["cycle_id"] == previous}
        ids = sorted(k for k in self.quantity if self.status[k] == "pending" or k in in_previous)
        book = pl.DataFrame(
            [
                {
                    "order_id": k,
                    "buyer_id": "b",
                    "product": "apple",
                    "min_grade": "C",
                    "quantity_kg": self.quantity[k],
                    "lat": 30.0,
                    "lon": 110.0,
                    "max_price_per_kg": 3.0,
                    "due_date": self.due[k],
                    "created_at": dt.datetime(2026, 11, 20),
                    "pickup_point_id": None,
                    "status": self.status[k],
                }
                for k in ids
            ],
            schema=BOOK_SCHEMA,
            orient="row",
        )
        live = set(self.current.values())
        fills = pl.DataFrame([f for f in self.fills if f["cycle_id"] in live and f["order_id"] in ids], schema=FILL_SCHEMA, orient="row")
        return book, fills

    def current_total(self, order_id: str) -> int:
        live = set(self.current.values())
        return sum(f["filled_kg"] for f in self.fills if f["cycle_id"] in live and f["order_id"] == order_id)

    def run(self, date: dt.date, fill: dict[str, int], *, today: dt.date, rejected: frozenset[str] = frozenset()) -> pl.DataFrame:
        """A cycle of ``date`` (a re-run when the date has one) filling ``fill[k]`` kg of order k, at
        most what it takes; the orders it took (``order_id, kg``)."""
        previous = self.current.get(date)
        cycle_id = max(self.dates, default=0) + 1
        book, fills = self.frames(previous)
        taken, expired = take(book, fills, date=date, today=today, previous_id=previous)
        out = taken.select("order_id", kg=pl.col("quantity_kg"), due=pl.col("due_date")).with_columns(
            filled_kg=pl.min_horizontal(pl.col("kg"), pl.col("order_id").replace_strict(fill, default=0, return_dtype=pl.Int64)),
            rejected=pl.col("order_id").is_in(sorted(rejected)),
        )
        out = out.with_columns(filled_kg=pl.when(pl.col("rejected")).then(0).otherwise(pl.col("filled_kg")))
        # each order's verdict as compute_cycle gives it (regions.pooling.fill_orders)
        out = out.with_columns(
            status=pl.when(pl.col("rejected"))
            .then(pl.lit("rejected"))
            .when(pl.col("filled_kg") == pl.col("kg"))
            .then(pl.lit("filled"))
            .when(pl.col("due") > date)
            .then(pl.lit("pending"))
            .when(pl.col("filled_kg") > 0)
            .then(pl.lit("partly_filled"))
            .otherwise(pl.lit("unfilled")),
            region_id=pl.lit("r0"),
            clearing_price=pl.lit(2.0),
            reason=pl.lit("outbid"),
        )
        state = settle(book, fills, out, expired, cycle_id=cycle_id, date=date, previous_id=previous)
        self.dates[cycle_id] = date
        self.current[date] = cycle_id
        self.fills += [
            {
                "order_id": r["order_id"],
                "cycle_id": cycle_id,
                "date": date,
                "filled_kg": r["filled_kg"],
                "status": r["status"],
                "region_id": "r0",
                "clearing_price": 2.0,
                "reason": "outbid",
            }
            for r in out.iter_rows(named=True)
        ]
        for r in state.iter_rows(named=True):
            self.status[r["order_id"]], self.filled[r["order_id"]] = r["status"], r["filled_kg"]
        return taken.select("order_id", kg=pl.col("quantity_kg"))


def test_an_order_filled_over_two_cycles_then_the_first_date_rerun() -> None:
    book = Book({"o": 100}, {"o": DAY0 + dt.timedelta(days=3)})
    first = DAY0
    assert book.run(first, {"o": 60}, today=DAY0).rows() == [("o", 100)]
    assert (book.status["o"], book.filled["o"]) == ("pending", 60)
    assert book.run(first + dt.timedelta(days=1), {"o": 100}, today=DAY0).rows() == [("o", 40)]  # the rest, not the whole order
    assert (book.status["o"], book.filled["o"]) == ("filled", 100)
    # the first date again: it gets back its 60 kg, and may fill at most those
    assert book.run(first, {"o": 100}, today=DAY0).rows() == [("o", 60)]
    assert (book.status["o"], book.filled["o"]) == ("filled", 100)
    # once more, filling less: the order waits again for the rest (the second date is before its due date)
    assert book.run(first, {"o": 25}, today=DAY0).rows() == [("o", 60)]
    assert (book.status["o"], book.filled["o"]) == ("pending", 65)
    assert book.run(first + dt.timedelta(days=2), {"o": 100}, today=DAY0).rows() == [("o", 35)]
    assert (book.status["o"], book.filled["o"]) == ("filled", 100)


def test_the_latest_dated_cycle_decides() -> None:
    """A cycle on the due date closes the order; a re-run of an earlier date does not reopen it."""
    due = DAY0 + dt.timedelta(days=2)
    book = Book({"o": 100}, {"o": due})
    book.run(DAY0, {"o": 30}, today=DAY0)
    book.run(due, {"o": 20}, today=DAY0)
    assert (book.status["o"], book.filled["o"]) == ("partly_filled", 50)
    assert book.run(DAY0, {"o": 10}, today=DAY0).rows() == [("o", 30)]  # what it filled, nothing of the closed rest
    assert (book.status["o"], book.filled["o"]) == ("partly_filled", 30)
    # a date run late, before a later one's verdict: the later one still decides
    assert book.run(DAY0 + dt.timedelta(days=1), {"o": 100}, today=DAY0).rows() == []


def test_waiting_orders_expire_only_when_their_due_date_has_passed_for_the_cycle_and_the_clock() -> None:
    due = DAY0 + dt.timedelta(days=1)
    book = Book({"o": 100, "p": 10}, {"o": due, "p": due})
    book.run(DAY0, {"o": 40}, today=DAY0)
    assert (book.status["o"], book.status["p"]) == ("pending", "pending")
    far = DAY0 + dt.timedelta(days=365)
    assert book.run(far, {"o": 100, "p": 100}, today=DAY0).rows() == []  # dated ahead by mistake: nothing expires
    assert (book.status["o"], book.status["p"]) == ("pending", "pending")
    book.run(DAY0 + dt.timedelta(days=3), {}, today=DAY0 + dt.timedelta(days=3))
    assert (book.status["o"], book.filled["o"], book.status["p"], book.filled["p"]) == ("expired", 40, "expired", 0)


def test_a_cancelled_order_keeps_its_fills_and_a_rerun_gives_it_no_more() -> None:
    book = Book({"o": 100}, {"o": DAY0 + dt.timedelta(days=3)})
    book.run(DAY0, {"o": 60}, today=DAY0)
    book.status["o"] = "cancelled"  # POST /orders/{id}/cancel
    assert book.run(DAY0 + dt.timedelta(days=1), {"o": 100}, today=DAY0).rows() == []
    assert book.run(DAY0, {"o": 100}, today=DAY0).rows() == [("o", 60)]
    assert (book.status["o"], book.filled["o"]) == ("cancelled", 60)


events = st.lists(
    st.one_of(
        st.tuples(st.just("run"), st.integers(0, 4), st.dictionaries(st.sampled_from("abc"), st.integers(0, 60)), st.sets(st.sampled_from("abc"))),
        st.tuples(st.just("cancel"), st.sampled_from("abc")),
    ),
    max_size=8,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=3, max_size=3), st.lists(st.integers(0, 4), min_size=3, max_size=3), events)
def test_no_sequence_of_cycles_fills_an_order_beyond_its_kg(quantities: list[int], dues: list[int], steps: list[tuple]) -> None:
    ids = "abc"
    book = Book(dict(zip(ids, quantities)), {k: DAY0 + dt.timedelta(days=d) for k, d in zip(ids, dues)})
    cancelled_with: dict[str, int] = {}
    for step in steps:
        if step[0] == "cancel":
            k = step[1]
            if book.status[k] == "pending":
                book.status[k] = "cancelled"
                cancelled_with[k] = book.filled[k]
            continue
        _, day, fill, rejected = step
        date = DAY0 + dt.timedelta(days=day)
        before = {k: book.current_total(k) for k in ids}
        previous = book.current.get(date)
        given_back = {f["order_id"]: f["filled_kg"] for f in book.fills if f["cycle_id"] == previous}
        taken = dict(book.run(date, fill, today=DAY0 + dt.timedelta(days=2), rejected=frozenset(rejected)).rows())
        for k in ids:
            total = book.current_total(k)
            assert book.filled[k] == total <= book.quantity[k]
            # a cycle takes at most what the superseded one filled plus what was left
            assert taken.get(k, 0) <= given_back.get(k, 0) + book.quantity[k] - before[k]
            status = book.status[k]
            assert (status == "filled") == (total == book.quantity[k] and status != "cancelled")
            if status == "cancelled":
                assert total <= cancelled_with[k]  # cancelling never gives back a fill, nor takes more
            if status == "pending":
                assert total < book.quantity[k]
            if k in taken and date > book.due[k]:
                assert k in given_back  # only a re-run takes an order past its due date, to redo its fill
