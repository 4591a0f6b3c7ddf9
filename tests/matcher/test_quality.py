"""Expected refunds steer the matching (matcher.quality): exact against HiGHS, prices that carry them.

With ``refund_adjust`` a lane is worth ``bid * (1 - refund_rate) - ask - cost``; the independent
reference enumerates the lanes with that margin, HiGHS solves the LP on them, and the published prices
must certify the allocation: ``farm_gate + cost - clearing + refund_rate * bid >= 0`` on every lane,
``= 0`` where goods move.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import MatchParams, match
from tests.checks import check_conservation
from tests.frames import DATE, demand_frame, hubs_frame, offers_frame
from tests.matcher.test_oracle import PRODUCTS, build, instances
from tests.reference import RefLane, is_open, lp_inputs, reference_lanes

TOL = 1e-6
COOPS = ["c0", "c1", "c2"]


def adjusted(lanes: list[RefLane], offers: pl.DataFrame, demand: pl.DataFrame, rate: dict[tuple[str, str], float]) -> list[RefLane]:
    """The reference lanes with the refund-aware margin, computed independently."""
    coop, product = offers["cooperative_id"].to_list(), offers["product"].to_list()
    bid = demand["price_per_kg"].to_list()
    out = []
    for lane in lanes:
        rho = rate.get((coop[lane.offer], product[lane.offer]), 0.0)
        value = bid[lane.row] * (1.0 - rho)
        out.append(replace(lane, margin=value - (bid[lane.row] - lane.margin - lane.cost_per_kg) - lane.cost_per_kg))
    return out


@given(
    instance=instances(),
    rates=st.dictionaries(st.tuples(st.sampled_from(COOPS), st.sampled_from(PRODUCTS)), st.sampled_from([0.0, 0.05, 0.3, 0.9, 1.0])),
    bounded=st.booleans(),
)
def test_refund_aware_matching_is_the_lp_optimum(instance, rates, bounded, oracle) -> None:
    offers, demand = build(instance)
    offers = offers.with_columns(cooperative_id=pl.Series([COOPS[k % len(COOPS)] for k in range(offers.height)]))
    quality = pl.DataFrame(
        {"cooperative_id": [c for c, _ in rates], "product": [p for _, p in rates], "refund_rate": list(rates.values())},
        schema={"cooperative_id": pl.String, "product": pl.String, "refund_rate": pl.Float64},
    )
    params = MatchParams(workers=1, refund_adjust=True, **instance["params"])
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, quality=quality, dense=not bounded)
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    lanes = adjusted(reference_lanes(offers, demand, instance["hubs"], DATE, **lane_args), offers, demand, rates)
    lp = oracle(*lp_inputs(offers, demand, lanes))
    assert lp["optimal"]
    assert abs(result.summary["welfare"] - lp["objective"]) <= TOL * max(1.0, lp["objective"])
    check_conservation(result, offers, demand, lanes)

    f = dict(zip(result.offers["offer_id"], result.offers["farm_gate_price"]))
    p = dict(zip(result.demand["demand_id"], result.demand["clearing_price"]))
    oid, did = offers["offer_id"].to_list(), demand["demand_id"].to_list()
    coop, product, bid = offers["cooperative_id"].to_list(), offers["product"].to_list(), demand["price_per_kg"].to_list()
    shipped = set(zip(result.allocations["offer_id"], result.allocations["demand_id"]))
    for lane in lanes:
        a, b = oid[lane.offer], did[lane.row]
        gap = f[a] + lane.cost_per_kg - p[b] + rates.get((coop[lane.offer], product[lane.offer]), 0.0) * bid[lane.row]
        assert gap >= -TOL, f"lane {a}->{b} prices below its refund-aware margin"
        if (a, b) in shipped:
            assert abs(gap) <= TOL, f"shipped lane {a}->{b} off its prices by {gap}"
    for o in offers.iter_rows(named=True):
        if is_open(o, DATE):
            assert f[o["offer_id"]] >= o["ask_per_kg"] - TOL
    q = result.summary["quality"]
    assert q["refund_adjust"] is True
    assert q["welfare_moved"] >= -TOL * max(1.0, lp["objective"]), "ignoring refunds cannot do better at the refund-aware margins"


def test_the_cooperative_with_refunds_gets_the_lower_farm_gate_price() -> None:
    """Two cooperatives, same place, same ask; one has upheld quality claims (20% of its kg refunded).
    The region wants 150 kg of their 200: the clean one sells out and its farm-gate price carries the
    difference, 20% of the bid per kg."""
    offers = offers_frame(
        [
            {"cooperative_id": "clean", "ask_per_kg": 1.0, "quantity_kg": 100},
            {"cooperative_id": "claims", "ask_per_kg": 1.0, "quantity_kg": 100},
        ]
    )
    demand = demand_frame([{"quantity_kg": 150, "price_per_kg": 3.0}])
    hubs = hubs_frame({"r0": (30.2, 110.2)})
    quality = pl.DataFrame({"cooperative_id": ["claims"], "product": ["apple"], "refund_rate": [0.2]})
    plain = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=1), quality=quality)
    assert plain.summary["quality"] == {"refund_adjust": False, "offers_with_refund_rate": 1}
    assert plain.offers["farm_gate_price"].to_list() == pytest.approx([1.0, 1.0])  # a tie: neither sells out
    r = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=1, refund_adjust=True), quality=quality)
    out = {o["cooperative_id"]: o for o in r.offers.iter_rows(named=True)}
    assert (out["clean"]["sold_kg"], out["claims"]["sold_kg"]) == (100, 50)
    assert out["clean"]["farm_gate_price"] - out["claims"]["farm_gate_price"] == pytest.approx(0.2 * 3.0)
    assert out["claims"]["farm_gate_price"] == pytest.approx(1.0)
    q = r.summary["quality"]
    assert q["expected_refunds"] == pytest.approx(50 * 3.0 * 0.2)
    # identical but for their refunds, the two offers are not merged into one
    assert r.allocations.height == 2


def test_identical_cooperatives_without_refunds_change_nothing() -> None:
    rng = np.random.default_rng(2)
    offers = offers_frame(
        [
            {
                "cooperative_id": f"c{k % 3}",
                "quantity_kg": int(rng.integers(50, 500)),
                "lat": float(rng.uniform(29, 31)),
                "ask_per_kg": round(float(rng.uniform(0.5, 2)), 2),
            }
            for k in range(12)
        ]
    )
    demand = demand_frame([{"quantity_kg": int(rng.integers(50, 400))} for _ in range(5)])
    hubs = hubs_frame({"r0": (30.2, 110.2)})
    zero = pl.DataFrame({"cooperative_id": ["c0"], "product": ["apple"], "refund_rate": [0.0]})
    a = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=1))
    b = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=1, refund_adjust=True), quality=zero)
    assert a.allocations.equals(b.allocations) and a.offers.equals(b.offers) and a.demand.equals(b.demand)
    assert b.summary["quality"]["welfare_moved"] == 0
