"""A village's households each posting 50 kg at one place: thousands of identical offers cost one node.

The pathology this guards against: 2,000 co-located 50 kg offers added to the demo day once stretched a
re-run's solve from 12 s to 220 s (57 pricing rounds, 2.27 million lanes). Identical offers are merged
before the solve (exact) and the optimum is handed back to them, first offer first.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matcher import MatchParams, match
from matcher.cycle import cost_scale
from matcher.day import Day
from matcher.product import SolveOptions
from matcher.solve import solve_product
from tests.checks import check_cycle
from tests.frames import DATE, demand_frame, hubs_frame, offers_frame

VILLAGE = 2_000
HUBS = {f"r{k}": (28.0 + k * 0.9, 104.0 + k * 1.7) for k in range(8)}


def _day():
    rng = np.random.default_rng(7)
    village = [{"lat": 30.5, "lon": 108.0, "quantity_kg": 50, "ask_per_kg": 1.2, "grade": "B", "shelf_life_days": 6} for _ in range(VILLAGE)]
    others = [
        {
            "lat": float(rng.uniform(27, 36)),
            "lon": float(rng.uniform(103, 117)),
            "quantity_kg": int(rng.integers(500, 5000)),
            "ask_per_kg": round(float(rng.uniform(0.8, 2.0)), 2),
            "grade": "ABC"[int(rng.integers(3))],
            "ready_date": DATE - dt.timedelta(days=int(rng.integers(0, 3))),
        }
        for _ in range(30)
    ]
    offers = offers_frame(village + others)
    demand = demand_frame(
        [
            {
                "region_id": f"r{k % 8}",
                "quantity_kg": int(rng.integers(1_000, 7_000)),
                "price_per_kg": round(float(rng.uniform(2.0, 4.0)), 2),
                "min_grade": "ABC"[int(rng.integers(3))],
            }
            for k in range(24)
        ]
    )
    return offers, demand


def test_a_village_of_identical_offers_is_solved_as_one_offer_and_matches_highs(oracle) -> None:
    offers, demand = _day()
    result = match(offers, demand, hubs_frame(HUBS), date=DATE, params=MatchParams(workers=1))
    check_cycle(result, offers, demand, HUBS, DATE, oracle)
    # the solver saw one village offer: the lanes it solved are far fewer than the village's offers
    assert result.summary["lanes"] < VILLAGE
    assert result.summary["rounds"] <= 5
    village = result.offers.join(offers.select("offer_id", "quantity_kg").head(VILLAGE), on="offer_id")
    sold = village["sold_kg"].to_numpy()
    assert 0 < sold.sum() < 50 * VILLAGE, "the instance should sell part of the village's harvest"
    assert int(((sold > 0) & (sold < 50)).sum()) <= 1, "members fill one after another: at most one partly sold"
    # every village offer gets the same farm-gate price: they are one market participant
    assert village["farm_gate_price"].n_unique() == 1


@pytest.mark.parametrize("solver", ["simplex", "ortools"])
def test_merging_does_not_change_the_optimum_or_the_prices(solver: str) -> None:
    """Solved merged and solved one by one (the same offers made distinct by a hair of ask), the
    welfare agrees to the rounding of that hair."""
    offers, demand = _day()
    hubs = hubs_frame(HUBS)
    day = Day.build(offers, demand, hubs, None, DATE)
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    options = SolveOptions(costs=MatchParams().costs, scale=scale, solver=solver)
    merged = solve_product(day.problems[0], options)
    assert merged.lanes_solved < VILLAGE
    apart = offers.with_columns(ask_per_kg=offers["ask_per_kg"] + np.arange(offers.height) * 1e-9)
    day_apart = Day.build(apart, demand, hubs, None, DATE)
    separate = solve_product(day_apart.problems[0], options)
    assert separate.lanes_solved > merged.lanes_solved
    # the hair lowers any allocation's welfare by at most 1e-9 * (offers) per kg sold
    hair = scale * 1e-9 * offers.height * int(demand["quantity_kg"].sum())
    assert 0 <= merged.objective - separate.objective <= hair
