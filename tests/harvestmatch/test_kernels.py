"""The kernels give the same bits interpreted as compiled (:mod:`harvestmatch.kernels`): a small call
runs interpreted in a process that has not loaded numba, so both ways must agree exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvestmatch.kernels import INTERPRETED_MAX_LEN, interpreted, runs_interpreted
from matcher.cycle import cost_scale
from matcher.day import Day
from matcher.params import MatchParams
from matcher.product import ProductSolution, SolveOptions
from matcher.solve import solve_product
from matcher.synthetic import synthetic_day
from regions.geodesy import compiled_arcsin, haversine_km
from tests.frames import DATE


def _day(seed: int, n_offers: int, n_regions: int) -> Day:
    rng = np.random.default_rng(seed)
    ids = [f"r{k:03d}" for k in range(n_regions)]
    lat, lon = rng.uniform(22, 42, n_regions), rng.uniform(100, 122, n_regions)
    offers, demand = synthetic_day(n_offers=n_offers, n_products=2, region_ids=ids, region_lat=lat, region_lon=lon, date=DATE, seed=seed)
    hubs = pl.DataFrame({"region_id": ids, "hub_lat": lat, "hub_lon": lon})
    return Day.build(offers, demand, hubs, None, DATE)


def _solve(day: Day, *, dense: bool) -> list[ProductSolution]:
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    options = SolveOptions(costs=MatchParams().costs, scale=scale, dense=dense, k_nearest=2, k_best=1)
    return [solve_product(problem, options) for problem in day.problems]


def _assert_same(a: ProductSolution, b: ProductSolution) -> None:
    assert (a.objective, a.pivots, a.rounds, a.lanes_solved) == (b.objective, b.pivots, b.rounds, b.lanes_solved)
    for name in ("shipped", "unsold", "unmet", "u", "w", "offer_reach", "row_reach"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("offer", "demand", "distance_km", "transit_days", "cost_per_kg", "margin"):
        np.testing.assert_array_equal(getattr(a.lanes, name), getattr(b.lanes, name), err_msg=f"lanes.{name}")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n_offers=st.integers(2, 24), n_regions=st.integers(1, 10), dense=st.booleans())
def test_a_solve_interpreted_equals_the_compiled_one_bit_for_bit(seed: int, n_offers: int, n_regions: int, dense: bool) -> None:
    day = _day(seed, n_offers, n_regions)
    compiled = _solve(day, dense=dense)
    with interpreted():
        assert runs_interpreted(10**9)
        slow = _solve(day, dense=dense)
    assert not runs_interpreted(10**9)  # the block ends the forcing
    assert len(compiled) == len(slow) > 0
    for a, b in zip(compiled, slow):
        _assert_same(a, b)


def test_distances_interpreted_equal_the_compiled_ones() -> None:
    rng = np.random.default_rng(5)
    lat1, lon1, lat2, lon2 = rng.uniform(-80, 80, 200), rng.uniform(-180, 180, 200), rng.uniform(-80, 80, 200), rng.uniform(-180, 180, 200)
    compiled = haversine_km(lat1, lon1, lat2, lon2)
    with interpreted():
        slow = haversine_km(lat1, lon1, lat2, lon2)
        scalar = compiled_arcsin(0.5)
    np.testing.assert_array_equal(compiled, slow)
    assert float(scalar) == float(compiled_arcsin(0.5))


@pytest.mark.parametrize("size", [0, 1, INTERPRETED_MAX_LEN])
def test_only_the_forced_block_runs_large_calls_interpreted_once_numba_is_loaded(size: int) -> None:
    import numba  # noqa: F401  # loaded in a test process anyway: then every call runs compiled

    assert not runs_interpreted(size)
    assert not runs_interpreted(INTERPRETED_MAX_LEN + 1)
    with interpreted():
        assert runs_interpreted(INTERPRETED_MAX_LEN + 1)


def test_a_process_without_numba_interprets_small_calls_until_its_budget_is_spent() -> None:
    """In a fresh interpreter: small calls run interpreted, a large one or the budget's end turns to
    compiled, and nothing of this loads numba by itself."""
    code = (
        "import sys\n"
        "from harvestmatch.kernels import INTERPRETED_BUDGET, INTERPRETED_MAX_LEN, runs_interpreted\n"
        "assert not runs_interpreted(INTERPRETED_MAX_LEN + 1)\n"
        "calls = 0\n"
        "while runs_interpreted(INTERPRETED_MAX_LEN):\n"
        "    calls += 1\n"
        "assert calls == INTERPRETED_BUDGET // INTERPRETED_MAX_LEN, calls\n"
        "left = INTERPRETED_BUDGET - calls * INTERPRETED_MAX_LEN\n"
        "assert left == 0 or runs_interpreted(left)\n"
        "assert not runs_interpreted(1)\n"
        "assert 'numba' not in sys.modules\n"
        "print('ok')\n"
    )
    _fresh_interpreter_says_ok(code)


def test_warm_up_compiles_every_kernel_although_its_problem_is_tiny() -> None:
    """``make venv`` fills numba's cache with :func:`matcher.fanout.warm_up`, whose problem is small
    enough to run interpreted: it must compile anyway. A kernel only other kernels call is compiled
    inside its callers."""
    code = (
        "from matcher.fanout import warm_up\n"
        "from harvestmatch.kernels import _KERNELS\n"
        "warm_up()\n"
        "called_inside = {name for k in _KERNELS for name in k.py_func.__code__.co_names}\n"
        "cold = [k.__name__ for k in _KERNELS if k.compiled is None or (not k.compiled.signatures and k.__name__ not in called_inside)]\n"
        "assert len(_KERNELS) >= 10 and not cold, cold\n"
        "print('ok')\n"
    )
    _fresh_interpreter_says_ok(code)


def _fresh_interpreter_says_ok(code: str) -> None:
    """Run ``code`` in a new Python process (where numba is not loaded yet); it must print ``ok``."""
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
