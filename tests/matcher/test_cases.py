"""Small cases whose answers are worked out by hand, including degenerate ones."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from matcher import MatchParams, match
from matcher.schemas import DEMAND, OFFERS, empty_table
from matcher.synthetic import synthetic_day
from tests.checks import check_cycle
from tests.frames import DATE, demand_frame, hubs_frame, offers_frame

HERE = {"r0": (30.0, 110.0)}
FLAT = {"freight_per_kg_km": 0.0, "handling_per_kg": 0.1}  # cost 0.1 per kg everywhere


def run(offers, demand, hubs, *, dense=True, **params):
    return match(offers, demand, hubs_frame(hubs), date=DATE, params=MatchParams(workers=1, **params), dense=dense)


def row(frame: pl.DataFrame, key: str, value: str) -> dict:
    return frame.filter(pl.col(key) == value).to_dicts()[0]


def test_offer_larger_than_demand_sells_part_at_ask() -> None:
    r = run(offers_frame([{"quantity_kg": 100}]), demand_frame([{"quantity_kg": 60}]), HERE, **FLAT)
    o, d = row(r.offers, "offer_id", "o0"), row(r.demand, "demand_id", "d0")
    assert (o["sold_kg"], o["unsold_kg"], o["reason"]) == (60, 40, "partly_sold")
    assert o["farm_gate_price"] == pytest.approx(1.0)  # unsold kg: no premium over ask
    assert d["clearing_price"] == pytest.approx(1.1)  # farm-gate plus freight
    assert (d["filled_kg"], d["reason"]) == (60, "filled")
    assert r.summary["welfare"] == pytest.approx(60 * 1.9)


def test_scarce_offer_takes_the_surplus_under_the_farmer_rule() -> None:
    r = run(offers_frame([{"quantity_kg": 50}]), demand_frame([{"quantity_kg": 60}]), HERE, **FLAT)
    o, d = row(r.offers, "offer_id", "o0"), row(r.demand, "demand_id", "d0")
    assert (o["reason"], d["reason"]) == ("sold", "partly_filled")
    assert d["clearing_price"] == pytest.approx(3.0)  # unmet kg: buyers pay their bid
    assert o["farm_gate_price"] == pytest.approx(2.9)


@pytest.mark.parametrize(
    ("rule", "farm_gate", "clearing"),
    [("farmer", 2.9, 3.0), ("buyer", 1.0, 1.1), ("midpoint", 1.95, 2.05)],
)
def test_price_rules_on_an_exact_match(rule: str, farm_gate: float, clearing: float) -> None:
    """Supply equals demand: any split of the 1.9 margin is optimal; the rule picks one."""
    r = run(offers_frame([{"quantity_kg": 60}]), demand_frame([{"quantity_kg": 60}]), HERE, price_rule=rule, **FLAT)
    assert row(r.offers, "offer_id", "o0")["farm_gate_price"] == pytest.approx(farm_gate)
    assert row(r.demand, "demand_id", "d0")["clearing_price"] == pytest.approx(clearing)


def test_zero_margin_ships_nothing() -> None:
    r = run(
        offers_frame([{"ask_per_kg": 1.0}]),
        demand_frame([{"price_per_kg": 1.5}]),
        HERE,
        freight_per_kg_km=0.0,
        handling_per_kg=0.5,
    )
    assert r.allocations.height == 0
    assert row(r.offers, "offer_id", "o0")["reason"] == "not_profitable"
    assert row(r.demand, "demand_id", "d0")["reason"] == "not_profitable"
    assert r.summary["welfare"] == 0.0


def test_ties_are_broken_the_same_way_whatever_the_input_order() -> None:
    offers = offers_frame([{"quantity_kg": 100}, {"quantity_kg": 100}, {"quantity_kg": 100}])
    demand = demand_frame([{"quantity_kg": 150}, {"quantity_kg": 70, "demand_id": "d9"}])
    first = run(offers, demand, HERE, **FLAT)
    again = run(offers.reverse(), demand.reverse(), HERE, **FLAT)
    assert_frame_equal(first.allocations, again.allocations)
    assert_frame_equal(first.offers, again.offers)
    assert_frame_equal(first.demand, again.demand)
    assert first.summary["welfare"] == pytest.approx(220 * 1.9)


def test_region_nobody_reaches_in_time() -> None:
    hubs = {"near": (30.0, 110.0), "far": (30.0, 140.0)}  # about 2,900 km apart
    r = run(
        offers_frame([{"shelf_life_days": 2}]),
        demand_frame([{"region_id": "far"}, {"region_id": "near"}]),
        hubs,
    )
    assert row(r.demand, "region_id", "far")["reason"] == "no_feasible_lane"
    assert row(r.demand, "region_id", "near")["filled_kg"] == 100


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        ({"grade": "B"}, "no_feasible_lane"),  # the row wants grade A
        ({"product": "kale"}, "no_feasible_lane"),
        ({"ready_date": DATE + dt.timedelta(days=1)}, "not_ready"),
        ({"ready_date": DATE - dt.timedelta(days=5), "shelf_life_days": 3}, "expired"),
        ({"ask_per_kg": 5.0}, "not_profitable"),
    ],
)
def test_reasons_for_an_unsold_offer(offer: dict, reason: str) -> None:
    r = run(offers_frame([offer]), demand_frame([{"min_grade": "A"}]), HERE)
    o = row(r.offers, "offer_id", "o0")
    assert (o["sold_kg"], o["reason"]) == (0, reason)


def test_outbid_offer_loses_to_a_cheaper_one() -> None:
    r = run(
        offers_frame([{"ask_per_kg": 1.0}, {"ask_per_kg": 2.0}]),
        demand_frame([{"quantity_kg": 100}]),
        HERE,
        **FLAT,
    )
    assert row(r.offers, "offer_id", "o1")["reason"] == "outbid"
    # the loser's ask caps the clearing price: no cooperative could have sold for more
    assert row(r.demand, "demand_id", "d0")["clearing_price"] == pytest.approx(2.1)
    assert row(r.offers, "offer_id", "o0")["farm_gate_price"] == pytest.approx(2.0)


def test_pricing_loop_finds_the_far_market_in_several_rounds(oracle) -> None:
    """Bounded pricing (the mode for products too large for a dense matrix, forced here): k_nearest=1
    starts every offer at its own poor local market; the duals must find the far one."""
    hubs = {f"r{k}": (30.0, 110.0 + k) for k in range(8)}
    offers = offers_frame([{"lat": 30.0, "lon": 110.0 + k * 0.2, "quantity_kg": 500, "ask_per_kg": 1.0} for k in range(6)])
    demand = demand_frame(
        [{"region_id": f"r{k}", "price_per_kg": 1.5, "quantity_kg": 200} for k in range(7)] + [{"region_id": "r7", "price_per_kg": 4.0, "quantity_kg": 1200}]
    )
    few = run(offers, demand, hubs, k_nearest=1, dense=False)
    many = run(offers, demand, hubs, k_nearest=16, dense=False)
    assert few.summary["pricing"]["bounded"] == 1
    assert few.summary["rounds"] >= 2
    assert few.summary["lanes_considered"] > few.summary["lanes"]
    assert few.summary["welfare"] == pytest.approx(many.summary["welfare"], rel=1e-9)
    assert row(few.demand, "region_id", "r7")["filled_kg"] == 1200
    check_cycle(few, offers, demand, hubs, DATE, oracle)


def test_given_lanes_replace_distances_and_are_the_only_lanes() -> None:
    hubs = {"r0": (30.0, 110.0), "r1": (30.0, 110.1)}
    lanes = pl.DataFrame(
        {"offer_id": ["o0"], "region_id": ["r1"], "distance_km": [1000.0], "transit_days": [None], "cost_per_kg": [0.2]},
        schema={"offer_id": pl.String, "region_id": pl.String, "distance_km": pl.Float64, "transit_days": pl.Int64, "cost_per_kg": pl.Float64},
    )
    r = match(
        offers_frame([{}]),
        demand_frame([{"region_id": "r0"}, {"region_id": "r1"}]),
        hubs_frame(hubs),
        date=DATE,
        params=MatchParams(workers=1),
        lanes=lanes,
    )
    a = r.allocations.to_dicts()
    assert len(a) == 1 and a[0]["region_id"] == "r1"
    assert (a[0]["distance_km"], a[0]["transit_days"], a[0]["cost_per_kg"]) == (1000.0, 2, 0.2)
    assert row(r.demand, "region_id", "r0")["reason"] == "no_feasible_lane"


def test_same_output_with_one_worker_or_two() -> None:
    rng = np.random.default_rng(3)
    ids = [f"R{k:02d}" for k in range(30)]
    lat, lon = rng.uniform(22, 44, 30), rng.uniform(100, 121, 30)
    offers, demand = synthetic_day(n_offers=400, n_products=5, region_ids=ids, region_lat=lat, region_lon=lon, date=DATE)
    hubs = pl.DataFrame({"region_id": ids, "hub_lat": lat, "hub_lon": lon})
    one = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=1))
    two = match(offers, demand, hubs, date=DATE, params=MatchParams(workers=2))
    assert two.summary["workers"] == 2
    for a, b in ((one.allocations, two.allocations), (one.offers, two.offers), (one.demand, two.demand)):
        assert_frame_equal(a, b)
    assert one.summary["welfare"] == two.summary["welfare"]


def test_pricing_finds_a_lane_of_zero_length(oracle) -> None:
    """Found by hypothesis: two offers on the hub itself, shelf life 0, due today, one starting lane.
    Rounding in the chord bound once put the second offer 1e-4 km away, out of its zero-day reach, so
    its lane was never priced and the published prices broke the certificate."""
    hubs = {"r0": (31.0, 110.0)}
    offers = offers_frame([{"product": "kale", "quantity_kg": 1, "lat": 31.0, "lon": 110.0, "shelf_life_days": 0, "ask_per_kg": 0.5}] * 2)
    demand = demand_frame([{"product": "kale", "min_grade": "A", "quantity_kg": 1, "price_per_kg": 1.0, "due_date": DATE}])
    result = run(offers, demand, hubs, freight_per_kg_km=0.0, handling_per_kg=0.0, km_per_day=200.0, k_nearest=1)
    check_cycle(result, offers, demand, hubs, DATE, oracle, freight_per_kg_km=0.0, handling_per_kg=0.0, km_per_day=200.0)
    assert result.offers["farm_gate_price"].to_list() == [0.5, 0.5]


@pytest.mark.parametrize("empty", ["offers", "demand", "both"])
def test_empty_tables_give_typed_empty_results(empty: str) -> None:
    offers, demand = offers_frame([{}]), demand_frame([{}])
    usual = run(offers, demand, HERE)
    if empty in ("offers", "both"):
        offers = empty_table(OFFERS)
    if empty in ("demand", "both"):
        demand = empty_table(DEMAND)
    got = run(offers, demand, HERE)
    for a, b in ((got.allocations, usual.allocations), (got.offers, usual.offers), (got.demand, usual.demand)):
        assert a.schema == b.schema
    assert got.allocations.height == 0
    assert (got.offers.height, got.demand.height) == (offers.height, demand.height)
    assert (got.summary["status"], got.summary["welfare"], got.summary["allocated_kg"]) == ("optimal", 0.0, 0)
    assert set(got.summary) == set(usual.summary)


def test_the_result_is_frozen_and_states_its_status() -> None:
    r = run(offers_frame([{}]), demand_frame([{}]), HERE)
    assert r.summary["status"] == "optimal"  # anything else raises SolverError
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.summary = {"status": "infeasible"}  # type: ignore[misc]
