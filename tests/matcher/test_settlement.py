"""The cycle's books (matcher.settlement): every party's line from its own definition, in decimal money;
the lines sum to zero to the cent on random days, with floors, expected refunds and refunds decided."""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvestmatch.errors import SolverError
from matcher import MatchParams, match
from matcher.settlement import SETTLEMENT_COLUMNS, settle
from tests.frames import DATE, hubs_frame
from tests.matcher.test_oracle import PRODUCTS, build, instances

COOPS = ["c0", "c1", "c2"]
CENT = Decimal("0.01")


def dec(value: float) -> Decimal:
    return Decimal(repr(value))


def day(instance: dict, floors: bool, refunds_on: bool):
    offers, demand = build(instance)
    offers = offers.with_columns(cooperative_id=pl.Series([COOPS[k % 3] for k in range(offers.height)]))
    quality = pl.DataFrame({"cooperative_id": ["c1"], "product": [PRODUCTS[0]], "refund_rate": [0.15]})
    params = MatchParams(workers=1, small_share=0.5 if floors else 0.0, max_subsidy_per_kg=1.0, small_kg=3000, refund_adjust=refunds_on, **instance["params"])
    return match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, quality=quality)


@given(instance=instances(), floors=st.booleans(), refunds_on=st.booleans(), data=st.data())
def test_the_books_balance_to_the_cent(instance: dict, floors: bool, refunds_on: bool, data: st.DataObject) -> None:
    result = day(instance, floors, refunds_on)
    buyers = result.demand.select(pl.col("demand_id").alias("buyer_id"), "demand_id", "filled_kg")
    filled = buyers.filter(pl.col("filled_kg") > 0)
    claims = []
    if filled.height and result.allocations.height:
        coops = result.allocations["cooperative_id"].unique().sort().to_list()
        for _ in range(data.draw(st.integers(0, 4))):
            claims.append(
                {
                    "buyer_id": data.draw(st.sampled_from(filled["buyer_id"].to_list())),
                    "cooperative_id": data.draw(st.sampled_from(coops)),
                    "amount": str(data.draw(st.decimals(Decimal("0.01"), Decimal("500"), places=2))),
                    "bearer": data.draw(st.sampled_from(["cooperative", "freight", "protection_fund"])),
                }
            )
    refunds = pl.DataFrame(claims, schema={"buyer_id": pl.String, "cooperative_id": pl.String, "amount": pl.String, "bearer": pl.String})
    books, totals = settle(result.allocations, result.offers, buyers, scale=result.summary["cost_scale"], refund_rate=result.refund_rate, refunds=refunds)
    assert tuple(books.columns) == SETTLEMENT_COLUMNS
    net = [Decimal(v) for v in books["net"].cast(pl.String)]
    assert sum(net) == 0 and totals["balanced"] is True
    assert totals["cents_allocated"] <= books.height / 2
    for r in books.iter_rows(named=True):  # each net within a cent of what its own columns say
        own = r["gross"] - r["refunds"] if r["party"] in ("cooperative", "freight") else r["refunds"] - r["gross"]
        if r["party"] == "platform":
            own = r["reserve"] - r["subsidy"] - r["refunds"]
        assert abs(r["net"] - own) <= CENT + CENT / 2, r  # a cent of allocation, half a cent of rounding

    line = {(p, i): r for p, i, r in zip(books["party"], books["party_id"], books.iter_rows(named=True), strict=True)}
    a = result.allocations
    for coop, part in a.group_by("cooperative_id"):
        want = sum((x * dec(f) for x, f in zip(part["quantity_kg"], part["farm_gate_price"], strict=True)), Decimal(0))
        got = line[("cooperative", coop[0])]
        assert abs(Decimal(str(got["gross"])) - want) <= CENT, (coop, got, want)
        charged = sum((Decimal(c["amount"]) for c in claims if c["bearer"] == "cooperative" and c["cooperative_id"] == coop[0]), Decimal(0))
        assert Decimal(str(got["refunds"])) == charged
    clearing = dict(zip(result.demand["demand_id"], result.demand["clearing_price"], strict=True))
    for b in filled.iter_rows(named=True):
        got = line[("buyer", b["buyer_id"])]
        assert abs(Decimal(str(got["gross"])) - b["filled_kg"] * dec(clearing[b["demand_id"]])) <= CENT
        back = sum((Decimal(c["amount"]) for c in claims if c["buyer_id"] == b["buyer_id"]), Decimal(0))
        assert Decimal(str(got["refunds"])) == back
    if a.height:
        freight = line[("freight", "freight")]
        want = sum((x * dec(c) for x, c in zip(a["quantity_kg"], a["cost_per_kg"], strict=True)), Decimal(0))
        assert abs(Decimal(str(freight["gross"])) - want) <= CENT + Decimal(a["quantity_kg"].sum()) * Decimal("1e-6")
    platform = line[("platform", "platform")]
    assert abs(Decimal(str(platform["subsidy"])) - dec(result.summary["safety_net"]["subsidy"])) <= CENT
    if refunds_on and a.height:
        rates = dict(zip(result.refund_rate["offer_id"], result.refund_rate["refund_rate"], strict=True))
        reserve = sum((x * dec(bid) * dec(rates.get(o, 0.0)) for x, bid, o in zip(a["quantity_kg"], a["price_per_kg"], a["offer_id"], strict=True)), Decimal(0))
        assert abs(Decimal(str(platform["reserve"])) - reserve) <= CENT
    fund = sum((Decimal(c["amount"]) for c in claims if c["bearer"] == "protection_fund"), Decimal(0))
    assert Decimal(str(platform["refunds"])) == fund


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (pl.col("clearing_price") + 0.01, "charge a buyer above its bid"),
        (pl.col("farm_gate_price") - 0.01, "leave the platform a margin"),
        (pl.col("farm_gate_price") + 0.01, "its lanes' subsidy is not its floor kg sold times its floor's dual"),
        (pl.col("ask_per_kg") - 0.5, "pay a cooperative below its ask"),
    ],
    ids=["buyer-above-bid", "commission", "subsidy-without-floor", "below-ask"],
)
def test_prices_that_are_not_the_optimums_do_not_settle(tamper: pl.Expr, message: str) -> None:
    """The books are checked, not assumed: prices moved off the optimum's are refused, not booked."""
    from tests.frames import demand_frame, offers_frame

    offers = offers_frame([{"quantity_kg": 100, "ask_per_kg": 1.0}])
    demand = demand_frame([{"quantity_kg": 100, "price_per_kg": 3.0}, {"quantity_kg": 50, "price_per_kg": 2.0}])
    result = match(offers, demand, hubs_frame({"r0": (30.2, 110.2)}), date=DATE, params=MatchParams(workers=1))
    buyers = result.demand.select(pl.col("demand_id").alias("buyer_id"), "demand_id", "filled_kg")
    settle(result.allocations, result.offers, buyers, scale=result.summary["cost_scale"])
    column = tamper.meta.root_names()[0]
    moved = result.allocations.with_columns(tamper.alias(column))
    if column == "ask_per_kg":  # the cooperative paid its old price, now below the ask it is said to have
        moved = moved.with_columns(farm_gate_price=pl.col("ask_per_kg") - 0.1, clearing_price=pl.col("clearing_price"))
    with pytest.raises(SolverError, match=re.escape(message)):
        settle(moved, result.offers, buyers, scale=result.summary["cost_scale"])


def test_buyers_filled_from_a_row_that_shipped_nothing_do_not_settle() -> None:
    from tests.frames import demand_frame, offers_frame

    offers = offers_frame([{"quantity_kg": 100, "ask_per_kg": 1.0}])
    demand = demand_frame([{"quantity_kg": 100, "price_per_kg": 3.0}])
    result = match(offers, demand, hubs_frame({"r0": (30.2, 110.2)}), date=DATE, params=MatchParams(workers=1))
    buyers = pl.DataFrame({"buyer_id": ["b"], "demand_id": ["nowhere"], "filled_kg": [5]})
    with pytest.raises(SolverError, match="shipped nothing"):
        settle(result.allocations, result.offers, buyers, scale=result.summary["cost_scale"])


@pytest.mark.parametrize(
    ("offers_kg", "rows", "column", "step", "message"),
    [
        ([(100, 1.0)], [(60, 3.0), (60, 2.9)], "farm_gate_price", 0.01, "an offer has two prices"),
        ([(50, 1.0), (50, 1.1)], [(100, 3.0)], "clearing_price", -0.01, "a demand row has two prices"),
    ],
    ids=["offer", "demand-row"],
)
def test_a_party_with_two_prices_does_not_settle(offers_kg: list, rows: list, column: str, step: float, message: str) -> None:
    """One lane of an offer (or of a demand row) moved off the price its other lanes carry is refused."""
    from tests.frames import demand_frame, offers_frame

    offers = offers_frame([{"quantity_kg": kg, "ask_per_kg": ask} for kg, ask in offers_kg])
    demand = demand_frame([{"quantity_kg": kg, "price_per_kg": bid} for kg, bid in rows])
    result = match(offers, demand, hubs_frame({"r0": (30.2, 110.2)}), date=DATE, params=MatchParams(workers=1))
    assert result.allocations.height == 2
    buyers = result.demand.select(pl.col("demand_id").alias("buyer_id"), "demand_id", "filled_kg")
    moved = (
        result.allocations.with_row_index("_k")
        .with_columns(pl.when(pl.col("_k") == 0).then(pl.col(column) + step).otherwise(pl.col(column)).alias(column))
        .drop("_k")
    )
    with pytest.raises(SolverError, match=message):
        settle(moved, result.offers, buyers, scale=result.summary["cost_scale"])
