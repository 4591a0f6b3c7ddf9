"""The pricing loop's knobs change how fast the optimum is reached, never the optimum itself."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from matcher.cycle import cost_scale
from matcher.day import Day
from matcher.params import MatchParams
from matcher.product import SolveOptions
from matcher.solve import solve_product
from matcher.synthetic import synthetic_day
from tests.frames import DATE


@pytest.fixture(scope="module")
def day() -> Day:
    """Products grown around two towns each and wanted everywhere: far markets that take rounds to find."""
    rng = np.random.default_rng(3)
    ids = [f"r{k:03d}" for k in range(150)]
    lat, lon = rng.uniform(22, 42, 150), rng.uniform(100, 122, 150)
    offers, demand = synthetic_day(n_offers=600, n_products=3, region_ids=ids, region_lat=lat, region_lon=lon, date=DATE, towns=(2, 2), seed=3)
    hubs = pl.DataFrame({"region_id": ids, "hub_lat": lat, "hub_lon": lon})
    return Day.build(offers, demand, hubs, None, DATE)


@pytest.fixture(scope="module")
def reference(day: Day) -> list:
    """The default knobs' solutions, which every other setting must match."""
    return _solve(day, lookahead=0.01, solver="ortools")


def _solve(day: Day, **knobs):
    """Bounded pricing (the look-ahead's mode) unless the knobs say otherwise."""
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    knobs = {"dense": False, **knobs}
    options = SolveOptions(costs=MatchParams().costs, scale=scale, k_nearest=1, k_best=1, keep_network=True, **knobs)
    return [solve_product(problem, options) for problem in day.problems]


@pytest.mark.parametrize("solver", ["simplex", "ortools"])
@pytest.mark.parametrize("dense", [True, False])
def test_every_solver_and_pricing_mode_gives_the_same_optimum_and_prices(day: Day, reference: list, solver: str, dense: bool) -> None:
    """The farmer rule's prices are the largest duals over every feasible lane: unique, whatever the
    solver, the pricing mode or the lanes each happened to solve."""
    for ref, sol in zip(reference, _solve(day, solver=solver, dense=dense)):
        assert sol.pricing == ("dense" if dense else "bounded")
        assert sol.objective == ref.objective
        np.testing.assert_array_equal(sol.u, ref.u)
        np.testing.assert_array_equal(sol.w, ref.w)
        np.testing.assert_array_equal(sol.offer_reach, ref.offer_reach)
        np.testing.assert_array_equal(sol.row_reach, ref.row_reach)
        assert (sol.pivots > 0) == (solver == "simplex")


@pytest.mark.parametrize("knobs", [{"lookahead": 0.0}, {"lookahead": 0.2}, {"lookahead": 5.0}, {"lookahead": 0.01, "lanes_per_round": 1, "lanes_per_row": 1}])
def test_look_ahead_and_caps_reach_the_same_optimum(day: Day, reference: list, knobs: dict) -> None:
    assert max(s.rounds for s in reference) >= 3, "the instance should need several pricing rounds"
    for ref, sol in zip(reference, _solve(day, **knobs)):
        assert sol.objective == ref.objective
        net = sol.network
        assert net is not None
        keys = net.offer * 1_000_000 + net.demand
        assert len(np.unique(keys)) == len(keys), "a lane was added twice"


def test_look_ahead_takes_fewer_rounds_than_none(day: Day) -> None:
    """Lanes that come within the look-ahead are the ones the next prices make worth adding."""
    none = sum(s.rounds for s in _solve(day, lookahead=0.0))
    some = sum(s.rounds for s in _solve(day, lookahead=0.05))
    assert some < none
