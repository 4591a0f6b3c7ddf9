"""Assertions every solved cycle must pass: optimality against HiGHS, conservation, the price certificate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from tests.reference import RefLane, is_open, lp_inputs, reference_lanes

TOL = 1e-6


def check_cycle(result, offers: pl.DataFrame, demand: pl.DataFrame, hubs: dict, date: dt.date, oracle, **lane_args) -> float:
    """Check one cycle's result against an independent enumeration and HiGHS; return the LP optimum."""
    lanes = reference_lanes(offers, demand, hubs, date, **lane_args)
    lp = oracle(*lp_inputs(offers, demand, lanes))
    assert lp["optimal"], lp["status"]
    welfare = result.summary["welfare"]
    assert abs(welfare - lp["objective"]) <= TOL * max(1.0, abs(lp["objective"])), (welfare, lp["objective"])
    assert result.summary["status"] == "optimal"
    check_conservation(result, offers, demand, lanes)
    check_certificate(result, offers, demand, lanes, date)
    return lp["objective"]


def check_conservation(result, offers: pl.DataFrame, demand: pl.DataFrame, lanes: list[RefLane]) -> None:
    alloc = result.allocations
    assert (alloc["quantity_kg"] > 0).all()
    oid = offers["offer_id"].to_list()
    did = demand["demand_id"].to_list()
    feasible = {(oid[lane.offer], did[lane.row]): lane for lane in lanes}
    shipped_by_offer: dict[str, int] = defaultdict(int)
    shipped_by_row: dict[str, int] = defaultdict(int)
    for a in alloc.iter_rows(named=True):
        lane = feasible.get((a["offer_id"], a["demand_id"]))
        assert lane is not None, f"allocation on a lane that is not feasible: {a}"
        assert lane.margin > 0, f"allocation on a lane without margin: {a}"
        assert abs(a["distance_km"] - lane.distance_km) < 1e-6 and a["transit_days"] == lane.transit_days
        shipped_by_offer[a["offer_id"]] += a["quantity_kg"]
        shipped_by_row[a["demand_id"]] += a["quantity_kg"]
    out = {r["offer_id"]: r for r in result.offers.iter_rows(named=True)}
    assert sorted(out) == sorted(oid), "every offer must appear once in offers_out"
    for o in offers.iter_rows(named=True):
        r = out[o["offer_id"]]
        assert r["sold_kg"] == shipped_by_offer[o["offer_id"]] <= o["quantity_kg"]
        assert r["sold_kg"] + r["unsold_kg"] == o["quantity_kg"]
    dout = {r["demand_id"]: r for r in result.demand.iter_rows(named=True)}
    assert sorted(dout) == sorted(did)
    for d in demand.iter_rows(named=True):
        r = dout[d["demand_id"]]
        assert r["filled_kg"] == shipped_by_row[d["demand_id"]] <= d["quantity_kg"]
        assert r["filled_kg"] + r["unmet_kg"] == d["quantity_kg"]
    assert result.summary["allocated_kg"] == int(alloc["quantity_kg"].sum())


def check_certificate(result, offers: pl.DataFrame, demand: pl.DataFrame, lanes: list[RefLane], date: dt.date) -> None:
    """Farm-gate and clearing prices prove the allocation optimal (docs/design.md section 1)."""
    out = result.offers.sort("offer_id")
    f = dict(zip(out["offer_id"], out["farm_gate_price"]))
    unsold = dict(zip(out["offer_id"], out["unsold_kg"]))
    reason = dict(zip(out["offer_id"], out["reason"]))
    dout = result.demand
    p = dict(zip(dout["demand_id"], dout["clearing_price"]))
    unmet = dict(zip(dout["demand_id"], dout["unmet_kg"]))
    dreason = dict(zip(dout["demand_id"], dout["reason"]))
    oid, did = offers["offer_id"].to_list(), demand["demand_id"].to_list()
    shipped = {(a, b) for a, b in zip(result.allocations["offer_id"], result.allocations["demand_id"])}

    for o in offers.iter_rows(named=True):
        k = o["offer_id"]
        if not is_open(o, date):
            assert f[k] is None and reason[k] in ("not_ready", "expired")
            continue
        assert f[k] >= o["ask_per_kg"] - TOL, "farm-gate price below ask"
        if f[k] > o["ask_per_kg"] + TOL:
            assert unsold[k] == 0, "a premium over ask for an offer that did not sell out"
    for d in demand.iter_rows(named=True):
        k = d["demand_id"]
        assert p[k] <= d["price_per_kg"] + TOL, "clearing price above bid"
        if p[k] < d["price_per_kg"] - TOL:
            assert unmet[k] == 0, "a discount under bid for a row that was not filled"
    for lane in lanes:
        a, b = oid[lane.offer], did[lane.row]
        gap = f[a] + lane.cost_per_kg - p[b]
        assert gap >= -TOL, f"lane {a}->{b}: farm-gate {f[a]} + freight {lane.cost_per_kg} < clearing {p[b]}"
        if (a, b) in shipped:
            assert abs(gap) <= TOL, f"shipped lane {a}->{b} off its prices by {gap}"

    # reasons agree with the independent enumeration
    by_offer: dict[int, list[RefLane]] = defaultdict(list)
    by_row: dict[int, list[RefLane]] = defaultdict(list)
    for lane in lanes:
        by_offer[lane.offer].append(lane)
        by_row[lane.row].append(lane)
    for i, o in enumerate(offers.iter_rows(named=True)):
        k = o["offer_id"]
        if is_open(o, date) and unsold[k] == o["quantity_kg"]:
            assert reason[k] == _expected(by_offer[i]), (k, reason[k])
    for j, d in enumerate(demand.iter_rows(named=True)):
        k = d["demand_id"]
        if unmet[k] == d["quantity_kg"]:
            assert dreason[k] == _expected(by_row[j]), (k, dreason[k])


def _expected(lanes: list[RefLane]) -> str:
    if not lanes:
        return "no_feasible_lane"
    if all(lane.margin <= 1e-9 for lane in lanes):
        return "not_profitable"
    return "outbid"
