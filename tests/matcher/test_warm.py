"""Warm starts from the previous cycle's prices: the same optimum and the same prices, sooner.

A warm start (:mod:`matcher.warm`) only changes where each product's solve begins. Checked here: the
result equals a cold start's (welfare, allocations' totals, every published price) and is certified by
HiGHS and the price certificate, on random and adversarial days with random (often wrong) previous
prices, in every pricing mode; an unchanged day publishes unchanged prices; a warm run is
deterministic; ``harvest match --warm-start`` reads a result folder and refuses a bad one (exit 2,
naming it, nothing written).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from harvest.cli import main
from matcher import MatchParams, match
from matcher.cycle import cost_scale
from matcher.day import Day
from matcher.previous import parse_previous
from matcher.product import SolveOptions
from matcher.solve import solve_product
from matcher.synthetic import synthetic_day
from tests.checks import check_cycle
from tests.frames import DATE, hubs_frame
from tests.matcher.test_cli import args
from tests.matcher.test_cli import day as day  # noqa: F401  (the CLI's small day on disk, a fixture)
from tests.matcher.test_oracle import build, instances


def _previous(offers: pl.DataFrame, prices: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame({"offer_id": offers["offer_id"], "farm_gate_price": prices}, schema={"offer_id": pl.String, "farm_gate_price": pl.Float64})


def _match(instance: dict, previous: pl.DataFrame | None):
    offers, demand = build(instance)
    params = MatchParams(workers=1, **instance["params"])
    return match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, dense=not instance["bounded"], previous=previous)


def _same(cold, warm) -> None:
    """Same optimum and the same published prices (the price rule's duals are unique)."""
    assert warm.summary["welfare"] == cold.summary["welfare"]
    assert warm.summary["allocated_kg"] == cold.summary["allocated_kg"]
    for name in ("offers", "demand"):
        assert_frame_equal(getattr(warm, name), getattr(cold, name))


@given(instance=instances(), data=st.data())
def test_warm_start_from_any_prices_is_certified_and_equals_cold(instance: dict, data: st.DataObject, oracle) -> None:
    offers, demand = build(instance)
    price = st.one_of(st.none(), st.floats(0, 8).map(lambda v: round(v, 2)))
    previous = _previous(offers, data.draw(st.lists(price, min_size=offers.height, max_size=offers.height)))
    warm = _match(instance, previous)
    assert warm.summary["warm_start"] is True
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_cycle(warm, offers, demand, instance["hubs"], DATE, oracle, **lane_args)
    _same(_match(instance, None), warm)


@given(instance=instances(adversarial=True))
def test_warm_start_from_its_own_prices_is_certified_and_equals_cold(instance: dict, oracle) -> None:
    """Ties everywhere: a day re-run from its own prices (the unchanged day) keeps them."""
    offers, demand = build(instance)
    cold = _match(instance, None)
    warm = _match(instance, parse_previous(cold.offers, source="offers_out.csv"))
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    check_cycle(warm, offers, demand, instance["hubs"], DATE, oracle, **lane_args)
    _same(cold, warm)


@given(instance=instances(), data=st.data())
def test_warm_start_on_a_given_lane_table_is_certified_and_equals_cold(instance: dict, data: st.DataObject, oracle) -> None:
    """A lane table (the trucks freight model's rounds give one) starts from the prices too (:func:`matcher.warm.lane_start`)."""
    offers, demand = build(instance)
    hubs = sorted(instance["hubs"])
    pairs = data.draw(st.lists(st.tuples(st.integers(0, offers.height - 1), st.sampled_from(hubs)), unique=True, max_size=30))
    km = data.draw(st.lists(st.floats(0, 3000), min_size=len(pairs), max_size=len(pairs)))
    lanes = pl.DataFrame(
        {"offer_id": [offers["offer_id"][i] for i, _ in pairs], "region_id": [r for _, r in pairs], "distance_km": km},
        schema={"offer_id": pl.String, "region_id": pl.String, "distance_km": pl.Float64},
    )
    price = st.one_of(st.none(), st.floats(0, 8).map(lambda v: round(v, 2)))
    previous = _previous(offers, data.draw(st.lists(price, min_size=offers.height, max_size=offers.height)))
    params = MatchParams(workers=1, **instance["params"])
    cold, warm = (match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=params, lanes=lanes, previous=p) for p in (None, previous))
    lane_args = {k: instance["params"][k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    given_lanes = {(o, r): {"distance_km": d, "transit_days": None, "cost_per_kg": None} for o, r, d in lanes.iter_rows()}
    check_cycle(warm, offers, demand, instance["hubs"], DATE, oracle, given=given_lanes, **lane_args)
    _same(cold, warm)


@pytest.fixture(scope="module")
def two_days() -> tuple[Day, Day, int]:
    """A day and the next: 80 % of the offers carry over, new ones join, each row's kg moves by up to 20 %."""
    rng = np.random.default_rng(7)
    ids = [f"r{k:03d}" for k in range(120)]
    lat, lon = rng.uniform(22, 42, 120), rng.uniform(100, 122, 120)
    pool, demand = synthetic_day(n_offers=700, n_products=3, region_ids=ids, region_lat=lat, region_lon=lon, date=DATE, towns=(3, 6), seed=7)
    hubs = pl.DataFrame({"region_id": ids, "hub_lat": lat, "hub_lon": lon})
    today = pool.head(600)
    tomorrow = pl.concat([today.filter(pl.Series(rng.random(600) < 0.8)), pool.tail(100)])
    moved = demand.with_columns(
        quantity_kg=pl.Series(np.maximum(np.rint(demand["quantity_kg"].to_numpy() * rng.uniform(0.8, 1.2, demand.height)), 1).astype(np.int64))
    )
    first, second = Day.build(today, demand, hubs, None, DATE), Day.build(tomorrow, moved, hubs, None, DATE)
    scale = cost_scale(max(first.max_margin, second.max_margin), max(first.max_nodes, second.max_nodes), max(first.max_flow, second.max_flow))
    return first, second, scale


@pytest.mark.parametrize("mode", ["dense", "bounded"])
def test_next_day_from_yesterdays_prices_same_optimum_fewer_pivots(two_days: tuple[Day, Day, int], mode: str) -> None:
    first, second, scale = two_days
    options = SolveOptions.of(MatchParams(), scale=scale, dense=mode == "dense")
    prices: dict[str, float] = {}
    for problem, start in zip(first.problems, first.offer_start):
        solution = solve_product(problem, options)
        prices.update(zip(first.open_offers["offer_id"][start : start + problem.supply.size], problem.supply.ask + solution.u))
    previous = pl.DataFrame({"offer_id": list(prices), "farm_gate_price": list(prices.values())})
    warm_day = Day.build(
        second.open_offers.drop("_pos", "_open", "_not_ready", "_expiry_days"),
        second.demand.drop("_region", "_due_days"),
        second.hubs.drop("_region"),
        None,
        DATE,
        previous=previous,
    )
    carried = np.isfinite(np.concatenate([p.supply.previous_price for p in warm_day.problems]))
    assert 0.7 < carried.mean() < 0.9
    cold = [solve_product(p, options) for p in second.problems]
    warm = [solve_product(p, options) for p in warm_day.problems]
    for c, w in zip(cold, warm):
        assert w.objective == c.objective
        np.testing.assert_array_equal(w.u, c.u)
        np.testing.assert_array_equal(w.w, c.w)
    pivots = sum(w.pivots for w in warm), sum(c.pivots for c in cold)
    # dense pricing starts from the prices; bounded pricing starts cold (matcher.warm)
    assert pivots[0] < 0.8 * pivots[1] if mode == "dense" else pivots[0] == pivots[1], pivots


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".csv"}


def test_cli_warm_start_unchanged_day_same_prices_and_deterministic(day: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    assert main(args(day, "--quiet")) == 0
    cold = _outputs(day["out"])
    yesterday = tmp_path / "yesterday"
    day["out"].rename(yesterday)
    runs = []
    for k in range(2):
        day["out"] = tmp_path / f"warm{k}"
        assert main(args(day, "--quiet", "--warm-start", str(yesterday))) == 0
        runs.append(_outputs(day["out"]))
    assert runs[0] == runs[1], "a warm run is deterministic"
    for name in ("offers_out.csv", "demand_out.csv"):
        assert runs[0][name] == cold[name], f"an unchanged day publishes unchanged prices ({name})"
    import json

    summary = json.loads((day["out"] / "summary.json").read_text())
    assert summary["warm_start"] is True and summary["inputs"]["warm_start"] == str(yesterday)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "missing: --warm-start: not a folder"),
        (lambda p: p.mkdir() or p, "--warm-start: no offers_out.csv in this folder"),
        (lambda p: _write(p, "offer_id,farm_gate_price\no0,1.5\no1,abc\n"), "offers_out.csv: row 2: column 'farm_gate_price'"),
        (lambda p: _write(p, "offer_id,price\no0,1.5\n"), "offers_out.csv: column 'farm_gate_price': missing column"),
        (lambda p: _write(p, "offer_id,farm_gate_price\no0,1.5\no0,2.0\n"), "offers_out.csv: row 2: column 'offer_id': duplicate"),
    ],
    ids=["not-a-folder", "no-offers-out", "bad-price", "no-price-column", "duplicate-offer"],
)
def test_bad_warm_start_folder_exits_2_naming_it(day: dict[str, Path], tmp_path: Path, make, message: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    folder = make(tmp_path / "previous")
    assert main(args(day, "--warm-start", str(folder))) == 2
    err = capsys.readouterr().err
    assert message in err and str(tmp_path / "previous") in err, err
    assert not day["out"].exists(), "nothing is written"


def _write(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "offers_out.csv").write_text(text)
    return folder


@given(
    margin=st.lists(st.lists(st.integers(-5, 40), min_size=4, max_size=4), min_size=1, max_size=6),
    data=st.data(),
)
def test_start_duals_are_feasible_and_keep_the_known_premiums(margin: list[list[int]], data: st.DataObject) -> None:
    """The dual start of matcher.warm: u, w >= 0 and u_i + w_j >= M_ij on every feasible cell, the known
    offers' premiums as given (at least 0), each row's w the least that allows; the flows it orders
    are a valid simplex start on every lane, dense or listed."""
    from matcher.dense import DenseMargins
    from matcher.simplex import TransportationSimplex
    from matcher.warm import lane_start, start_duals, warm_greedy
    from regions.lanes import Demand, Supply

    m_ = np.array(margin, np.int64)
    m, n = m_.shape
    no_lane = -(2**30)
    cells = np.where(m_ < -3, no_lane, m_).astype(np.int32)  # -5 and -4: no feasible lane
    zeros, ones = np.zeros(m), np.ones(n)
    supply = Supply(zeros, zeros, zeros, np.zeros(m, np.int8), np.zeros(m, np.int64))
    demand = Demand(np.zeros(n, np.int64), ones, np.zeros(n, np.int8), np.zeros(n, np.int64))
    pairs = np.zeros((m, 1))
    dense = DenseMargins(
        supply, demand, pairs, pairs.astype(np.int64), pairs, np.zeros(n, np.int64), cells, no_lane, 1, np.zeros(m, np.int8), np.zeros(n, np.int8)
    )
    premium = np.array(data.draw(st.lists(st.integers(-3, 30), min_size=m, max_size=m)), np.int64)
    known = np.array(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)), np.bool_)
    u, w = start_duals(dense, premium, known)
    feasible = cells > no_lane
    assert (u >= 0).all() and (w >= 0).all()
    assert ((u[:, None] + w[None, :] >= m_) | ~feasible).all()
    np.testing.assert_array_equal(u[known], np.maximum(premium[known], 0))
    q = np.array(data.draw(st.lists(st.integers(1, 50), min_size=m, max_size=m)), np.int64)
    d = np.array(data.draw(st.lists(st.integers(1, 50), min_size=n, max_size=n)), np.int64)
    offer, row, kg = warm_greedy(dense, u, w, q, d)
    assert (np.bincount(offer, kg, m) <= q).all() and (np.bincount(row, kg, n) <= d).all() and (m_[offer, row] > 0).all()
    every = np.argwhere(feasible)
    lane_offer, lane_row = every[:, 0].astype(np.int64), every[:, 1].astype(np.int64)
    flow = np.zeros(len(lane_offer), np.int64)
    flow[np.searchsorted(lane_offer * n + lane_row, offer * n + row)] = kg
    listed = lane_start(m, n, lane_offer, lane_row, m_[lane_offer, lane_row], premium, known, q, d)
    best = TransportationSimplex(q, d, lane_offer, lane_row, m_[lane_offer, lane_row]).solve().objective
    for start in (flow, listed):  # both greedy-shaped: the simplex takes them and reaches the optimum
        assert TransportationSimplex(q, d, lane_offer, lane_row, m_[lane_offer, lane_row], start).solve().objective == best
