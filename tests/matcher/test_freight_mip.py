"""The trucks model against the exact per-truck MIP on small generated days (tests/freight_mip_oracle.py,
the oracle bench/freight_mip.py reports): 3 products, 8 to 15 offers, 20 regions.

The MIP is the **direct-truck** problem: every kg in whole trucks, one group of trucks per offer (first
mile), per corridor (line haul) and per region (last mile), ``DEFAULT_FLEETS``, great circle x the
plan's circuity, the match's handling. What is compared with what:

- the trucks model's ``freight.bound`` is round 0's match with every leg at its cheapest full vehicle's
  rate, the last mile to the region's order nearest its hub: exactly the LP relaxation of the direct
  model with that last mile (``build_model(..., last_mile="nearest")``), checked to the cent; an LP
  relaxation bounds its MIP, so the bound is >= that MIP's optimum by construction. The MIP the ratios
  use (the bench's) drives the last mile to the centroid of a region's orders instead, which can be nearer
  the hub than the nearest order; the bound is >= it too, with a wide margin (checked, not a theorem);
- realized welfare is a cycle's flows with its routed multi-stop tours paid, which can consolidate what
  direct trucks cannot: trucks' realized / MIP can exceed 1 (it does on seeds 1, 8, 9). The issue's "within
  5 % of the optimum on average" is this ratio's mean over :data:`SEEDS`.

The seeds are 1 to 10, the bench's: per seed the ratio ranges 0.84 to 1.19, so a mean over four seeds
would be mostly noise (seeds 1 to 4 alone average 0.94).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely

from matcher.params import MatchParams
from matcher.routing.tables import DEFAULT_FLEETS, Travel
from matcher.schemas import OFFERS, ORDERS, parse_table
from regions.geodesy import haversine_km
from regions.polygons import parse_regions
from tests.freight_mip_oracle import DATE, Instance, Model, build_model, cheapest_trucks, direct_value, make_instance, run_cycle, solve_mip

#: the bench's seeds (bench/freight_mip.py's default); fixed, not chosen
SEEDS = range(1, 11)
#: routing iterations per problem, as the bench
ITERATIONS = 200
#: HiGHS' time limit per MIP (each takes at most a few seconds)
MIP_SECONDS = 30.0
#: the issue's target: trucks' realized welfare within 5 % of the MIP's optimum on average
MEAN_RATIO = 0.95


def _solution_problems(m: Model, sol: dict[str, Any], tol: float = 1e-6) -> list[str]:
    """What is wrong with a MIP solution in its own model (empty: feasible, and its objective is its
    flows' value less its trucks)."""
    x, n = sol["x"], sol["n"]
    problems = []
    if (x < -tol).any():
        problems.append(f"negative kg on {int((x < -tol).sum())} lanes")
    for name, rows, cap in (("offer", m.lanes["_s"].to_numpy(), m.supply), ("demand row", m.lanes["_d"].to_numpy(), m.demand)):
        used = np.bincount(rows, weights=x, minlength=len(cap))
        over = np.flatnonzero(used > cap + tol)
        if len(over):
            problems.append(f"{name}s {over.tolist()} over their kg: {used[over].tolist()} > {cap[over].tolist()}")
    if (n < -tol).any() or (np.abs(n - np.round(n)) > tol).any():
        problems.append(f"truck counts not whole and non-negative: {n[(n < -tol) | (np.abs(n - np.round(n)) > tol)].tolist()}")
    capacity = np.zeros(len(m.groups))
    cost = 0.0
    for (g, v), count in zip(sol["trucks"], np.round(n), strict=True):
        capacity[g] += m.groups[g][2][v] * count
        cost += m.groups[g][3][v] * count
    for g, (leg, key, _, _) in enumerate(m.groups):
        kg = float(x[m.member[g]].sum())
        if kg > capacity[g] + tol * max(1.0, kg):
            problems.append(f"{leg} {key}: {kg:,.1f} kg on trucks of {capacity[g]:,.0f} kg")
    objective = float(m.lanes["margin"].to_numpy() @ x) - cost
    if abs(objective - sol["objective"]) > 1e-6 * max(1.0, abs(objective)):
        problems.append(f"objective {sol['objective']:,.4f} is not its flows less its trucks, {objective:,.4f}")
    return problems


# ------------------------------------------------------------------------ the oracle is not trivial
def _one_lane(truck_cost: float) -> Model:
    """One offer of 2,500 kg, one demand row of 5,000 kg at a margin of 1 per kg, and three groups
    (first mile, line haul, last mile), each of one vehicle type of 1,000 kg at ``truck_cost``."""
    lanes = pl.DataFrame({"_s": [0], "_d": [0], "offer_id": ["o"], "region_id": ["b"], "margin": [1.0]}, schema_overrides={"_s": pl.UInt32, "_d": pl.UInt32})
    groups = [(leg, key, np.array([1_000.0]), np.array([truck_cost])) for leg, key in (("first_mile", "o"), ("line_haul", "a->b"), ("last_mile", "b"))]
    return Model(lanes, np.array([2_500.0]), np.array([5_000.0]), groups, [np.array([0])] * 3, {"o": "a"}, {"b": 1.0}, 0.0)


@pytest.mark.parametrize(
    ("truck_cost", "kg", "trucks", "optimum", "relaxation"),
    [
        # the last 500 kg (worth 500) pay for a third truck on each leg (300): ceil(2,500 / 1,000) = 3 each
        (100.0, 2_500.0, 3, 2_500 - 9 * 100, 2_500 * (1 - 3 * 0.1)),
        # they do not (600): 2,000 kg on 2 trucks each; the relaxation would ship all at 0.2 per kg per leg
        (200.0, 2_000.0, 2, 2_000 - 6 * 200, 2_500 * (1 - 3 * 0.2)),
    ],
    ids=["last-truck-pays", "last-truck-does-not-pay"],
)
def test_the_mip_buys_whole_trucks(truck_cost: float, kg: float, trucks: int, optimum: float, relaxation: float) -> None:
    m = _one_lane(truck_cost)
    mip = solve_mip(m, integral=True, time_limit=MIP_SECONDS)
    assert mip["status"] == 0
    assert mip["objective"] == pytest.approx(optimum, abs=1e-6)
    assert mip["kg"] == pytest.approx(kg, abs=1e-6)
    assert np.round(mip["n"]).tolist() == [trucks] * 3
    assert _solution_problems(m, mip) == []
    lp = solve_mip(m, integral=False, time_limit=MIP_SECONDS)
    assert lp["objective"] == pytest.approx(relaxation, abs=1e-6)
    assert lp["objective"] > mip["objective"] + 100  # the integrality is what makes the difference


def test_a_hand_made_day_costs_trucks_from_the_fleets() -> None:
    """One region, one offer of 2,500 kg in it and one order of 2,500 kg: no line haul; the first mile
    takes a 5 t truck (cheaper than two 2 t vans), the last mile a 2 t van and a 1 t van, each a round
    trip; the MIP ships everything and its optimum is the margin less those trucks."""
    box = shapely.box(110.0, 30.0, 110.6, 30.6)
    regions = parse_regions(gpd.GeoDataFrame({"region_id": ["r"], "hub_lat": [30.3], "hub_lon": [110.3]}, geometry=[box], crs="EPSG:4326"), source="regions")
    offer = {"offer_id": "o", "cooperative_id": "c", "product": "apple", "grade": "A", "quantity_kg": "2500", "lat": "30.1", "lon": "110.1"}
    offers = parse_table(
        pl.DataFrame([{**offer, "ready_date": DATE.isoformat(), "shelf_life_days": "10", "ask_per_kg": "1.0"}]), OFFERS, source="offers", key="offer_id"
    )
    order = {"order_id": "b", "product": "apple", "min_grade": "C", "quantity_kg": "2500", "lat": "30.5", "lon": "110.4", "max_price_per_kg": "3.0"}
    orders = parse_table(pl.DataFrame([{**order, "due_date": "2026-11-28"}]), ORDERS, source="orders", key="order_id")
    m = build_model(Instance(0, offers, orders, regions))

    circuity, handling = Travel().circuity, MatchParams().handling_per_kg
    fm_km = 2 * circuity * float(haversine_km(np.array([30.1]), np.array([110.1]), np.array([30.3]), np.array([110.3]))[0])
    lm_km = 2 * circuity * float(haversine_km(np.array([30.3]), np.array([110.3]), np.array([30.5]), np.array([110.4]))[0])
    fm, lm = DEFAULT_FLEETS["first_mile"], DEFAULT_FLEETS["last_mile"]
    truck_5t = float(fm.filter(pl.col("capacity_kg") == 5_000)["fixed_cost"][0] + fm.filter(pl.col("capacity_kg") == 5_000)["cost_per_km"][0] * fm_km)
    vans = sum(float(row["fixed_cost"] + row["cost_per_km"] * lm_km) for row in lm.iter_rows(named=True))  # one of each: 1 t and 2 t
    assert [g[0] for g in m.groups] == ["first_mile", "last_mile"]
    assert cheapest_trucks(2_500, *m.groups[0][2:]) == pytest.approx(truck_5t)
    assert cheapest_trucks(2_500, *m.groups[1][2:]) == pytest.approx(vans)

    mip = solve_mip(m, integral=True, time_limit=MIP_SECONDS)
    assert mip["status"] == 0
    assert mip["kg"] == pytest.approx(2_500)
    assert mip["objective"] == pytest.approx(2_500 * (3.0 - 1.0 - handling) - truck_5t - vans, abs=1e-4)
    assert mip["truck_count"] == 3
    assert _solution_problems(m, mip) == []


# ------------------------------------------------------------------------------ the generated days
@pytest.fixture(scope="module")
def days() -> list[dict[str, Any]]:
    """Per seed: both cycles (linear, trucks), the direct-truck MIP (last mile to the centroid) and its
    LP relaxation, and the LP relaxation with the last mile to the nearest order (the bound's)."""
    out = []
    for seed in SEEDS:
        inst = make_instance(seed)
        m = build_model(inst)
        near = build_model(inst, last_mile="nearest")
        out.append(
            {
                "seed": seed,
                "model": m,
                "linear": run_cycle(inst, "linear", ITERATIONS),
                "trucks": run_cycle(inst, "trucks", ITERATIONS),
                "mip": solve_mip(m, integral=True, time_limit=MIP_SECONDS),
                "lp": solve_mip(m, integral=False, time_limit=MIP_SECONDS),
                "lp_nearest": solve_mip(near, integral=False, time_limit=MIP_SECONDS),
            }
        )
    return out


def _table(days: list[dict[str, Any]]) -> str:
    lines = ["seed  linear realized  trucks realized  trucks bound   MIP       LP (nearest)  trucks/MIP  linear/MIP"]
    for d in days:
        lin, tru, best = d["linear"]["freight"]["realized_welfare"], d["trucks"]["freight"]["realized_welfare"], d["mip"]["objective"]
        lines.append(
            f"{d['seed']:>4}  {lin:>15,.0f}  {tru:>15,.0f}  {d['trucks']['freight']['bound']:>12,.0f}  {best:>8,.0f}  "
            f"{d['lp_nearest']['objective']:>12,.0f}  {tru / best:>10.3f}  {lin / best:>10.3f}"
        )
    return "\n".join(lines)


@pytest.mark.slow
def test_highs_proves_every_mip_optimal(days: list[dict[str, Any]]) -> None:
    for d in days:
        mip = d["mip"]
        assert mip["status"] == 0, f"seed {d['seed']}: {mip['message']}"
        assert mip["gap"] <= 1e-6, f"seed {d['seed']}: gap {mip['gap']}"
        assert mip["objective"] > 0, f"seed {d['seed']}: a day with nothing to gain tests nothing"
        assert d["lp"]["objective"] >= mip["objective"], f"seed {d['seed']}: the LP relaxation below its MIP"


@pytest.mark.slow
def test_the_mip_solution_is_feasible_and_no_cycle_beats_it_in_its_model(days: list[dict[str, Any]]) -> None:
    """Its flows within every offer and demand row, every group's kg on its trucks, its objective its
    flows less its trucks; each group's trucks the cheapest whole trucks for its kg; and neither cycle's
    flows, costed as direct trucks, above it."""
    for d in days:
        m, mip = d["model"], d["mip"]
        assert _solution_problems(m, mip) == [], f"seed {d['seed']}"
        kg = [float(mip["x"][member].sum()) for member in m.member]
        cheapest = sum(cheapest_trucks(k, caps, costs) for k, (_, _, caps, costs) in zip(kg, m.groups, strict=True))
        value = float(m.lanes["margin"].to_numpy() @ mip["x"])
        assert value - cheapest == pytest.approx(mip["objective"], rel=1e-6), f"seed {d['seed']}"
        for model in ("linear", "trucks"):
            direct = direct_value(m, d[model]["alloc"])["welfare"]
            assert direct <= mip["objective"] + 1e-6 * abs(mip["objective"]), f"seed {d['seed']}: {model}'s flows {direct:,.2f} > MIP {mip['objective']:,.2f}"


@pytest.mark.slow
def test_the_trucks_bound_is_the_lp_relaxation_and_above_the_mip(days: list[dict[str, Any]]) -> None:
    for d in days:
        bound = d["trucks"]["freight"]["bound"]
        assert bound is not None, f"seed {d['seed']}"
        # the summary rounds the welfare to the cent
        assert bound == pytest.approx(d["lp_nearest"]["objective"], abs=0.01), f"seed {d['seed']}\n{_table(days)}"
        assert bound >= d["mip"]["objective"], f"seed {d['seed']}\n{_table(days)}"
        assert bound >= d["trucks"]["freight"]["realized_welfare"], f"seed {d['seed']}"


@pytest.mark.slow
def test_trucks_never_below_linear(days: list[dict[str, Any]]) -> None:
    for d in days:
        lin, tru = d["linear"]["freight"]["realized_welfare"], d["trucks"]["freight"]["realized_welfare"]
        assert tru >= lin, f"seed {d['seed']}: trucks {tru:,.2f} < linear {lin:,.2f}\n{_table(days)}"


@pytest.mark.slow
def test_trucks_within_five_percent_of_the_mip_on_average(days: list[dict[str, Any]]) -> None:
    ratios = [d["trucks"]["freight"]["realized_welfare"] / d["mip"]["objective"] for d in days]
    assert float(np.mean(ratios)) >= MEAN_RATIO, f"mean {np.mean(ratios):.3f} < {MEAN_RATIO}\n{_table(days)}"
