"""The optimum checked against HiGHS on random and adversarial instances (hypothesis and fixed seeds).

Every instance runs with both exact solvers (``simplex``, ``ortools``) and both pricing modes (dense, and
bounded: the dense threshold set to zero), drawn by hypothesis or crossed for the fixed seeds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import MatchParams, match
from tests.checks import check_cycle
from tests.frames import DATE, demand_frame, hubs_frame, offers_frame

PRODUCTS = ["apple", "kale"]


@st.composite
def instances(draw: st.DrawFn, *, adversarial: bool = False) -> dict:
    """A small day. Adversarial draws come from tiny value sets: ties, zero margins, equal distances."""
    n_regions = draw(st.integers(1, 6))
    if adversarial:
        spot = st.sampled_from([(30.0, 110.0), (31.0, 110.0), (30.0, 112.0), (35.0, 115.0)])
        money = st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
        kg = st.sampled_from([1, 2, 5, 100, 1000, 10**7])
    else:
        spot = st.tuples(st.floats(25, 40), st.floats(100, 120))
        money = st.floats(0.2, 6.0).map(lambda v: round(v, 2))
        kg = st.integers(1, 5000)
    hubs = {f"r{k}": draw(spot) for k in range(n_regions)}
    offers = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "product": st.sampled_from(PRODUCTS),
                    "grade": st.sampled_from("ABC"),
                    "quantity_kg": kg,
                    "latlon": spot,
                    "ready": st.integers(-3, 1),
                    "shelf_life_days": st.integers(0, 6),
                    "ask_per_kg": money,
                }
            ),
            min_size=1,
            max_size=14,
        )
    )
    demand = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "region_id": st.sampled_from(sorted(hubs)),
                    "product": st.sampled_from(PRODUCTS),
                    "min_grade": st.sampled_from("ABC"),
                    "quantity_kg": kg,
                    "price_per_kg": money,
                    "due": st.integers(-1, 5),
                }
            ),
            min_size=1,
            max_size=14,
        )
    )
    params = draw(
        st.fixed_dictionaries(
            {
                "freight_per_kg_km": st.sampled_from([0.0, 0.0005, 0.002]),
                "handling_per_kg": st.sampled_from([0.0, 0.1]),
                "km_per_day": st.sampled_from([200.0, 600.0]),
                "k_nearest": st.sampled_from([1, 2, 16]),
                "price_rule": st.sampled_from(["farmer", "buyer", "midpoint"]),
                "solver": st.sampled_from(["simplex", "ortools"]),
            }
        )
    )
    return {"hubs": hubs, "offers": offers, "demand": demand, "params": params, "bounded": draw(st.booleans())}


def build(instance: dict):
    offers = offers_frame(
        [
            {
                "product": o["product"],
                "grade": o["grade"],
                "quantity_kg": o["quantity_kg"],
                "lat": o["latlon"][0],
                "lon": o["latlon"][1],
                "ready_date": DATE + dt.timedelta(days=o["ready"]),
                "shelf_life_days": o["shelf_life_days"],
                "ask_per_kg": o["ask_per_kg"],
            }
            for o in instance["offers"]
        ]
    )
    demand = demand_frame(
        [
            {
                "region_id": d["region_id"],
                "product": d["product"],
                "min_grade": d["min_grade"],
                "quantity_kg": d["quantity_kg"],
                "price_per_kg": d["price_per_kg"],
                "due_date": DATE + dt.timedelta(days=d["due"]),
            }
            for d in instance["demand"]
        ]
    )
    return offers, demand


def solve_and_check(instance: dict, oracle) -> None:
    offers, demand = build(instance)
    p = instance["params"]
    params = MatchParams(workers=1, **p)
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, dense=not instance.get("bounded"))
    assert set(result.summary["pricing"]) == {"dense", "bounded", "given"}
    used = {mode for mode, count in result.summary["pricing"].items() if count}
    assert used <= {"bounded" if instance.get("bounded") else "dense"}
    lane_args = {k: p[k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_cycle(result, offers, demand, instance["hubs"], DATE, oracle, **lane_args)


@given(instance=instances())
def test_random_instances_match_highs(instance: dict, oracle) -> None:
    solve_and_check(instance, oracle)


@given(instance=instances(adversarial=True))
def test_adversarial_instances_match_highs(instance: dict, oracle) -> None:
    solve_and_check(instance, oracle)


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("solver", ["simplex", "ortools"])
@pytest.mark.parametrize("seed", range(6))
def test_fixed_seed_instances_match_highs(seed: int, solver: str, bounded: bool, oracle) -> None:
    """Larger than hypothesis draws: 40 offers, 12 regions, 3 products, starting from one hub each."""
    rng = np.random.default_rng(seed)
    hubs = {f"r{k:02d}": (float(rng.uniform(25, 40)), float(rng.uniform(100, 120))) for k in range(12)}
    products = ["apple", "kale", "rice"]
    offers = [
        {
            "product": products[int(rng.integers(3))],
            "grade": "ABC"[int(rng.integers(3))],
            "quantity_kg": int(rng.integers(1, 3000)),
            "latlon": (float(rng.uniform(25, 40)), float(rng.uniform(100, 120))),
            "ready": int(rng.integers(-3, 1)),
            "shelf_life_days": int(rng.integers(1, 8)),
            "ask_per_kg": round(float(rng.uniform(0.5, 3.0)), 2),
        }
        for _ in range(40)
    ]
    demand = [
        {
            "region_id": f"r{int(rng.integers(12)):02d}",
            "product": products[int(rng.integers(3))],
            "min_grade": "ABC"[int(rng.integers(3))],
            "quantity_kg": int(rng.integers(1, 3000)),
            "price_per_kg": round(float(rng.uniform(1.0, 5.0)), 2),
            "due": int(rng.integers(0, 6)),
        }
        for _ in range(50)
    ]
    params = {"freight_per_kg_km": 0.0008, "handling_per_kg": 0.1, "km_per_day": 500.0, "k_nearest": 1, "price_rule": "farmer", "solver": solver}
    solve_and_check({"hubs": hubs, "offers": offers, "demand": demand, "params": params, "bounded": bounded}, oracle)


@given(instance=instances(), data=st.data())
def test_given_lane_tables_match_highs(instance: dict, data: st.DataObject, oracle) -> None:
    """A lane table (road distances, some negotiated rates) is the complete lane list."""
    import polars as pl

    offers, demand = build(instance)
    hubs = sorted(instance["hubs"])
    pairs = data.draw(st.lists(st.tuples(st.integers(0, offers.height - 1), st.sampled_from(hubs)), unique=True, max_size=30))
    km = data.draw(st.lists(st.floats(0, 3000), min_size=len(pairs), max_size=len(pairs)))
    days = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=len(pairs), max_size=len(pairs)))
    cost = data.draw(st.lists(st.one_of(st.none(), st.floats(0, 3)), min_size=len(pairs), max_size=len(pairs)))
    lanes = pl.DataFrame(
        {
            "offer_id": [offers["offer_id"][i] for i, _ in pairs],
            "region_id": [r for _, r in pairs],
            "distance_km": km,
            "transit_days": days,
            "cost_per_kg": cost,
        },
        schema={"offer_id": pl.String, "region_id": pl.String, "distance_km": pl.Float64, "transit_days": pl.Int64, "cost_per_kg": pl.Float64},
    )
    p = instance["params"]
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=MatchParams(workers=1, **p), lanes=lanes)
    given_lanes = {(o, r): {"distance_km": d, "transit_days": t, "cost_per_kg": c} for o, r, d, t, c in lanes.iter_rows()}
    lane_args = {k: p[k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_cycle(result, offers, demand, instance["hubs"], DATE, oracle, given=given_lanes, **lane_args)


@given(instance=instances(adversarial=True))
def test_both_solvers_reach_the_same_optimum_and_the_same_prices(instance: dict) -> None:
    """The simplex and OR-Tools, each under the certificate: the same scaled objective (exactly), and
    the same published prices (each price rule picks one dual solution over every feasible lane),
    whatever alternative optimum each one's allocation is."""
    offers, demand = build(instance)
    p = {k: v for k, v in instance["params"].items() if k != "solver"}
    results = {
        solver: match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=MatchParams(workers=1, solver=solver, **p))
        for solver in ("simplex", "ortools")
    }
    simplex, ortools = results["simplex"], results["ortools"]
    assert simplex.summary["welfare_scaled"] == ortools.summary["welfare_scaled"]
    for frame, price in (("offers", "farm_gate_price"), ("demand", "clearing_price")):
        a, b = getattr(simplex, frame), getattr(ortools, frame)
        assert a[price].to_list() == b[price].to_list()
