"""The safety net's floor against HiGHS, its prices and subsidy, and its reasons (matcher.floor).

The oracle solves the lexicographic problem by two LPs (most floor kg first, then most welfare); the
project's welfare with the floor, its floor kg sold, its welfare without the floor and the price of
fairness must equal the LP optima, and the published prices must be a certificate with the floor's
duals included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import MatchParams, match
from tests.frames import DATE, demand_frame, hubs_frame, offers_frame
from tests.matcher.test_oracle import build, instances
from tests.reference import is_open, lp_inputs, reference_lanes

TOL = 1e-6
COOPS = ["c0", "c1", "c2", "c3"]


def cooperatives(small: list[bool]) -> pl.DataFrame:
    return pl.DataFrame({"cooperative_id": COOPS, "small": small}, schema={"cooperative_id": pl.String, "small": pl.Boolean})


def floors(offers: pl.DataFrame, small: dict[str, bool], share: float, date: dt.date) -> list[int]:
    """The documented rule, independently: floor(share * kg) for a small cooperative's open offer, the
    share as written (a decimal)."""
    return [math.floor(Fraction(str(share)) * o["quantity_kg"]) if small[o["cooperative_id"]] and is_open(o, date) else 0 for o in offers.iter_rows(named=True)]


def check_floor_cycle(result, offers, demand, hubs, date, oracle, floor_oracle, *, share, cap, small, **lane_args) -> None:
    lanes = reference_lanes(offers, demand, hubs, date, **lane_args)
    floor = floors(offers, small, share, date)
    usable = [lane for lane in lanes if lane.margin >= -cap - 1e-9]
    lp = floor_oracle(
        offers.height,
        demand.height,
        np.array([lane.offer for lane in usable], np.int64),
        np.array([lane.row for lane in usable], np.int64),
        np.array([lane.margin for lane in usable]),
        offers["quantity_kg"].to_numpy(),
        demand["quantity_kg"].to_numpy(),
        np.array(floor, np.int64),
    )
    free = oracle(*lp_inputs(offers, demand, lanes))
    assert lp["optimal"] and free["optimal"]
    net = result.summary["safety_net"]
    assert net["floor_kg"] == sum(floor)
    assert net["floor_sold_kg"] == lp["floor_sold"], (net, lp)
    assert net["floor_shortfall_kg"] == sum(floor) - lp["floor_sold"]
    # the summary's welfare figures are the exact scaled optima: each kg's margin rounded to the cost unit
    rounding = (offers["quantity_kg"].sum() + 1) / result.summary["cost_scale"]
    assert abs(net["welfare"] - lp["welfare"]) <= TOL * max(1.0, abs(lp["welfare"])) + rounding, (net["welfare"], lp["welfare"])
    assert abs(result.summary["welfare"] - lp["welfare"]) <= TOL * max(1.0, abs(lp["welfare"]))
    assert abs(net["welfare_without_floor"] - free["objective"]) <= TOL * max(1.0, free["objective"]) + rounding
    assert abs(net["price_of_fairness"] - (free["objective"] - lp["welfare"])) <= 2 * (TOL * max(1.0, free["objective"]) + rounding)
    assert net["price_of_fairness"] >= -TOL

    out = {r["offer_id"]: r for r in result.offers.iter_rows(named=True)}
    dout = {r["demand_id"]: r for r in result.demand.iter_rows(named=True)}
    oid, did = offers["offer_id"].to_list(), demand["demand_id"].to_list()
    feasible = {(oid[lane.offer], did[lane.row]): lane for lane in lanes}
    by_offer: dict[str, int] = defaultdict(int)
    by_row: dict[str, int] = defaultdict(int)
    loss_kg: dict[str, int] = defaultdict(int)
    gap_money: dict[str, float] = defaultdict(float)
    for a in result.allocations.iter_rows(named=True):
        lane = feasible.get((a["offer_id"], a["demand_id"]))
        assert lane is not None and lane.margin >= -cap - 1e-9, f"allocation on a lane the floor may not use: {a}"
        by_offer[a["offer_id"]] += a["quantity_kg"]
        by_row[a["demand_id"]] += a["quantity_kg"]
        if lane.margin <= 0:
            loss_kg[a["offer_id"]] += a["quantity_kg"]
        o, d = out[a["offer_id"]], dout[a["demand_id"]]
        gap = o["farm_gate_price"] + lane.cost_per_kg - d["clearing_price"]
        dual = o["floor_dual"] or 0.0
        # a shipping lane is on its prices (gap 0) or is the floor's, paid by the platform (gap = dual)
        assert abs(gap) <= TOL or abs(gap - dual) <= TOL, (a, gap, dual)
        gap_money[a["offer_id"]] += (gap if gap > TOL else 0.0) * a["quantity_kg"]
    for k, o in enumerate(offers.iter_rows(named=True)):
        r = out[o["offer_id"]]
        assert r["sold_kg"] == by_offer[o["offer_id"]] <= o["quantity_kg"]
        assert r["floor_kg"] == floor[k]
        assert 0 <= r["floor_sold_kg"] <= r["floor_kg"]
        assert loss_kg[o["offer_id"]] <= r["floor_sold_kg"], "kg sold at a loss beyond the floor"
        if floor[k]:
            assert r["floor_met"] == (r["floor_sold_kg"] == floor[k])
            mine = [lane for lane in lanes if lane.offer == k]
            if r["floor_met"]:
                want = "met"
            elif r["floor_sold_kg"] > 0 or any(lane.margin >= -cap + 1e-9 for lane in mine):
                want = "demand_taken"
            elif any(lane.margin < -cap - 1e-9 for lane in mine) and not any(abs(lane.margin + cap) <= 1e-9 for lane in mine):
                want = "beyond_subsidy_cap"
            else:
                want = r["floor_reason"] if mine else "no_feasible_lane"  # a margin exactly at the cap: either
            assert r["floor_reason"] == want, (r, want)
        else:
            assert r["floor_met"] is None and r["floor_reason"] is None and r["subsidy"] == 0
        if not is_open(o, date):
            continue
        assert r["farm_gate_price"] >= o["ask_per_kg"] - TOL, "a cooperative paid below its ask"
        if r["farm_gate_price"] > o["ask_per_kg"] + TOL:
            assert r["unsold_kg"] == 0
        assert abs(r["subsidy"] - gap_money[o["offer_id"]]) <= TOL * max(1.0, r["sold_kg"]), (r, gap_money[o["offer_id"]])
    for d in demand.iter_rows(named=True):
        r = dout[d["demand_id"]]
        assert r["filled_kg"] == by_row[d["demand_id"]] <= d["quantity_kg"]
        assert r["clearing_price"] <= d["price_per_kg"] + TOL, "a buyer charged above its bid"
        if r["clearing_price"] < d["price_per_kg"] - TOL:
            assert r["unmet_kg"] == 0
    # the certificate with the floors' duals: no lane prices below its margin
    for lane in lanes:
        a, b = oid[lane.offer], did[lane.row]
        f, p = out[a]["farm_gate_price"], dout[b]["clearing_price"]
        if lane.margin > 0:
            assert f + lane.cost_per_kg - p >= -TOL, f"lane {a}->{b} prices below its margin"
        if out[a]["floor_sold_kg"] > 0 and lane.margin >= -cap:
            assert f - out[a]["floor_dual"] + lane.cost_per_kg - p >= -TOL, f"floor lane {a}->{b} prices below its margin"
    assert abs(net["subsidy"] - sum(gap_money.values())) <= TOL * max(1.0, result.summary["allocated_kg"])


def run(instance: dict, small: list[bool], share: float, cap: float, bounded: bool):
    offers, demand = build(instance)
    offers = offers.with_columns(cooperative_id=pl.Series([COOPS[k % len(COOPS)] for k in range(offers.height)]))
    params = MatchParams(workers=1, small_share=share, max_subsidy_per_kg=cap, **instance["params"])
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, cooperatives=cooperatives(small), dense=not bounded)
    return offers, demand, result


@st.composite
def floor_instances(draw: st.DrawFn) -> dict:
    """A day of :func:`instances` where most lanes are feasible (goods fresh long enough, rows due
    later, one product), so that floors, subsidies and shortfalls all happen often."""
    instance = draw(instances(adversarial=draw(st.booleans())))
    instance["params"]["km_per_day"] = draw(st.sampled_from([600.0, 3000.0]))
    one = draw(st.booleans())
    for o in instance["offers"]:
        o["ready"], o["shelf_life_days"] = draw(st.integers(-1, 0)), draw(st.integers(3, 6))
        o["product"] = "apple" if one else o["product"]
    for d in instance["demand"]:
        d["due"] = draw(st.integers(2, 5))
        d["product"] = "apple" if one else d["product"]
    return instance


@given(
    instance=floor_instances(),
    small=st.lists(st.booleans(), min_size=len(COOPS), max_size=len(COOPS)),
    share=st.sampled_from([0.25, 0.5, 1.0]),
    cap=st.sampled_from([0.0, 0.3, 2.0]),
    bounded=st.booleans(),
)
def test_the_floor_matches_the_lexicographic_lp(instance, small, share, cap, bounded, oracle, floor_oracle) -> None:
    offers, demand, result = run(instance, small, share, cap, bounded)
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_floor_cycle(
        result, offers, demand, instance["hubs"], DATE, oracle, floor_oracle, share=share, cap=cap, small=dict(zip(COOPS, small, strict=True)), **lane_args
    )


@given(instance=instances(adversarial=True), small=st.lists(st.booleans(), min_size=4, max_size=4), share=st.sampled_from([0.5, 1.0]))
def test_both_solvers_give_the_same_floor_and_welfare(instance, small, share) -> None:
    """The same lexicographic optimum value from both solvers. Prices may differ: which offers' floor
    kg sell is not unique when floors compete, and the prices are the duals of the allocation chosen
    (each solver's are certified by the oracle test)."""
    instance = {**instance, "params": {**instance["params"], "solver": "simplex"}}
    _, _, simplex = run(instance, small, share, 0.5, False)
    instance = {**instance, "params": {**instance["params"], "solver": "ortools"}}
    _, _, ortools = run(instance, small, share, 0.5, False)
    assert simplex.summary["welfare_scaled"] == ortools.summary["welfare_scaled"]
    for key in ("floor_sold_kg", "welfare", "welfare_without_floor", "price_of_fairness"):
        assert simplex.summary["safety_net"][key] == ortools.summary["safety_net"][key]


HUBS = {"r0": (30.5, 110.5), "far": (45.0, 125.0)}


def one_day(offers: list[dict], demand: list[dict], *, dense: bool = True, **params):
    settings = {"workers": 1, "small_share": 0.5, "max_subsidy_per_kg": 0.5, "small_kg": 500, **params}
    return match(offers_frame(offers), demand_frame(demand), hubs_frame(HUBS), date=DATE, params=MatchParams(**settings), dense=dense)


def row(frame: pl.DataFrame, key: str, value: str) -> dict:
    return frame.filter(pl.col(key) == value).row(0, named=True)


def test_a_floor_displaces_cheaper_supply_and_the_platform_pays_the_gap() -> None:
    """A small cooperative asks 2.00; the row bids 2.05 and a big one sells at 1.00: without the floor the
    big one fills the row; with it 50 kg go to the small one at a loss, the buyer still pays the
    market's clearing price, the small one gets its ask, and the platform pays the difference."""
    offers = [
        {"cooperative_id": "small", "quantity_kg": 100, "lat": 30.0, "lon": 110.0, "ask_per_kg": 2.0},
        {"cooperative_id": "big", "quantity_kg": 1000, "lat": 30.0, "lon": 110.1, "ask_per_kg": 1.0},
    ]
    demand = [{"quantity_kg": 500, "price_per_kg": 2.05}]
    off = one_day(offers, demand, small_share=0.0)
    on = one_day(offers, demand)
    assert row(off.offers, "offer_id", "o0")["sold_kg"] == 0
    small = row(on.offers, "offer_id", "o0")
    assert (small["sold_kg"], small["floor_kg"], small["floor_sold_kg"], small["floor_met"], small["floor_reason"]) == (50, 50, 50, True, "met")
    assert small["farm_gate_price"] == pytest.approx(2.0)
    d = row(on.demand, "demand_id", "d0")
    assert d["clearing_price"] == pytest.approx(row(off.demand, "demand_id", "d0")["clearing_price"])
    lane = row(on.allocations, "offer_id", "o0")
    assert small["floor_dual"] == pytest.approx(2.0 + lane["cost_per_kg"] - d["clearing_price"])
    assert small["subsidy"] == pytest.approx(50 * small["floor_dual"])
    net = on.summary["safety_net"]
    # here the platform's subsidy is exactly the welfare given up
    assert net["price_of_fairness"] == pytest.approx(net["subsidy"])
    assert net["welfare_without_floor"] == pytest.approx(off.summary["welfare"])
    assert net["price_of_fairness_pct"] == pytest.approx(100 * net["price_of_fairness"] / off.summary["welfare"])


def test_floor_reasons_name_what_stood_in_the_way() -> None:
    offers = [
        # met: a profitable lane
        {"cooperative_id": "a", "product": "kale", "quantity_kg": 100, "ask_per_kg": 1.0},
        # beyond the cap: the only lane loses 1.00 per kg, the cap is 0.50
        {"cooperative_id": "b", "product": "leek", "quantity_kg": 100, "ask_per_kg": 3.0},
        # no feasible lane: grade C, the row wants A
        {"cooperative_id": "c", "product": "plum", "quantity_kg": 100, "grade": "C"},
        # demand taken: two small offers, room for one floor
        {"cooperative_id": "d", "product": "pear", "quantity_kg": 100, "ask_per_kg": 1.0},
        {"cooperative_id": "e", "product": "pear", "quantity_kg": 100, "ask_per_kg": 1.2, "lat": 40.0, "lon": 120.0, "shelf_life_days": 30},
    ]
    demand = [
        {"product": "kale", "quantity_kg": 1000, "price_per_kg": 3.0},
        {"product": "leek", "quantity_kg": 1000, "price_per_kg": 2.1},
        {"product": "plum", "quantity_kg": 1000, "min_grade": "A"},
        {"product": "pear", "quantity_kg": 60, "price_per_kg": 3.0},
    ]
    r = one_day(offers, demand)
    got = {o["offer_id"]: (o["floor_kg"], o["floor_sold_kg"], o["floor_reason"]) for o in r.offers.iter_rows(named=True)}
    assert got["o0"] == (50, 50, "met")
    assert got["o1"] == (50, 0, "beyond_subsidy_cap")
    assert got["o2"] == (50, 0, "no_feasible_lane")
    assert {got["o3"][2], got["o4"][2]} == {"met", "demand_taken"}
    assert got["o3"][1] + got["o4"][1] == 60
    net = r.summary["safety_net"]
    assert net["shortfall_reasons"] == {"no_feasible_lane": 1, "beyond_subsidy_cap": 1, "demand_taken": 1}
    assert net["floors_met"] == 2 and net["floor_offers"] == 5
    # the floor of o0 is met on a profitable lane: no subsidy, no cost
    assert row(r.offers, "offer_id", "o0")["subsidy"] == 0
    # with a larger cap the leek offer's floor is met, at a loss of about 1.00 per kg (plus freight)
    wide = one_day(offers, demand, max_subsidy_per_kg=1.5)
    leek = row(wide.offers, "offer_id", "o1")
    assert (leek["floor_sold_kg"], leek["floor_reason"]) == (50, "met")
    assert leek["subsidy"] == pytest.approx(50 * leek["floor_dual"]) and leek["floor_dual"] > 0.9


@pytest.mark.parametrize("bounded", [False, True])
def test_a_whole_offer_under_the_floor_and_identical_offers(bounded: bool) -> None:
    """min_share 1: every kg of a small offer is floor; identical offers of big cooperatives still
    merge (exact), the small ones keep their own floors."""
    village = [{"cooperative_id": f"h{k}", "quantity_kg": 50, "ask_per_kg": 2.2} for k in range(6)]
    big = [{"cooperative_id": "big", "quantity_kg": 600, "ask_per_kg": 1.0} for _ in range(3)]
    demand = [{"quantity_kg": 400, "price_per_kg": 2.3}]
    r = one_day(village + big, demand, small_share=1.0, small_kg=100, dense=not bounded)
    out = r.offers.sort("offer_id")
    small = out.filter(pl.col("cooperative_id").str.starts_with("h"))
    assert small["floor_kg"].to_list() == [50] * 6
    assert small["sold_kg"].sum() == 300 and small["floor_met"].all()
    assert out.filter(pl.col("cooperative_id") == "big")["sold_kg"].sum() == 100
    assert r.summary["safety_net"]["floor_shortfall_kg"] == 0


def test_floors_are_whole_kg_of_the_share_as_written() -> None:
    """0.29 of 100,000,000 kg is 29,000,000 kg (floating point alone would make it 28,999,999)."""
    from matcher.safety_net import FloorPolicy, floor_kg

    frame = pl.DataFrame({"cooperative_id": ["a", "a", "b"], "quantity_kg": [100_000_000, 7, 10**12 - 1]})
    coops = pl.DataFrame({"cooperative_id": ["a", "b"], "small": [True, False]})
    assert floor_kg(frame, FloorPolicy(0.29, 0.0, 0.0, coops)).tolist() == [29_000_000, 2, 0]
    assert floor_kg(frame, FloorPolicy(1.0, 0.0, 0.0, coops)).tolist() == [100_000_000, 7, 0]
    assert floor_kg(frame, FloorPolicy(1e-7, 0.0, 1e13, None)).tolist() == [10, 0, 99_999]


def test_same_day_in_any_row_order_gives_the_same_floor() -> None:
    rng = np.random.default_rng(3)
    offers = [
        {
            "cooperative_id": f"c{int(rng.integers(6))}",
            "quantity_kg": int(rng.integers(50, 900)),
            "lat": float(rng.uniform(29, 32)),
            "lon": float(rng.uniform(109, 112)),
            "ask_per_kg": round(float(rng.uniform(0.5, 2.5)), 2),
        }
        for _ in range(30)
    ]
    demand = [{"quantity_kg": int(rng.integers(50, 500)), "price_per_kg": round(float(rng.uniform(1.5, 3.0)), 2)} for _ in range(8)]
    first = one_day(offers, demand, small_kg=1500)
    frame, rows = offers_frame(offers), demand_frame(demand)
    again = match(
        frame.sample(fraction=1.0, shuffle=True, seed=1),
        rows.sample(fraction=1.0, shuffle=True, seed=2),
        hubs_frame(HUBS),
        date=DATE,
        params=MatchParams(workers=1, small_share=0.5, max_subsidy_per_kg=0.5, small_kg=1500),
    )
    assert first.offers.equals(again.offers) and first.allocations.equals(again.allocations)
    assert first.summary["safety_net"] == again.summary["safety_net"]


@given(instance=floor_instances(), small=st.lists(st.booleans(), min_size=len(COOPS), max_size=len(COOPS)), data=st.data())
def test_the_floor_on_a_given_lane_table_matches_the_lp(instance, small, data, oracle, floor_oracle) -> None:
    """A lane table (road distances, negotiated rates) is the complete lane list, floors included."""
    offers, demand = build(instance)
    offers = offers.with_columns(cooperative_id=pl.Series([COOPS[k % len(COOPS)] for k in range(offers.height)]))
    hubs = sorted(instance["hubs"])
    pairs = data.draw(st.lists(st.tuples(st.integers(0, offers.height - 1), st.sampled_from(hubs)), unique=True, max_size=30))
    km = data.draw(st.lists(st.floats(0, 3000), min_size=len(pairs), max_size=len(pairs)))
    cost = data.draw(st.lists(st.one_of(st.none(), st.floats(0, 3)), min_size=len(pairs), max_size=len(pairs)))
    lanes = pl.DataFrame(
        {"offer_id": [offers["offer_id"][i] for i, _ in pairs], "region_id": [r for _, r in pairs], "distance_km": km, "cost_per_kg": cost},
        schema={"offer_id": pl.String, "region_id": pl.String, "distance_km": pl.Float64, "cost_per_kg": pl.Float64},
    )
    params = MatchParams(workers=1, small_share=0.5, max_subsidy_per_kg=0.4, **instance["params"])
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, lanes=lanes, cooperatives=cooperatives(small))
    given_lanes = {(o, r): {"distance_km": d, "transit_days": None, "cost_per_kg": c} for o, r, d, c in lanes.iter_rows()}
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_floor_cycle(
        result,
        offers,
        demand,
        instance["hubs"],
        DATE,
        oracle,
        floor_oracle,
        share=0.5,
        cap=0.4,
        small=dict(zip(COOPS, small, strict=True)),
        given=given_lanes,
        **lane_args,
    )
