"""The exact direct-truck MIP of small generated days: the oracle of tests/matcher/test_freight_mip.py and
of bench/freight_mip.py (whose docstring states the model and the generator in full).

:func:`make_instance` draws a small day (3 products, 8 to 15 offers, 20 regions as boxes on a 5 x 4
grid); :func:`run_cycle` runs it through ``matcher.compute_cycle`` with a plan; :func:`build_model` and
:func:`solve_mip` set up and solve (HiGHS through ``scipy.optimize.milp``) the per-truck problem on the
same pooled demand rows:

    maximize  sum_ij x_ij (bid_j - ask_i - handling_per_kg) - sum of whole trucks' costs
    first mile   per offer: its kg <= its trucks' capacity, a truck F_v + c_v x 2 x km(farm -> its hub)
    line haul    per corridor (a, r), a != r: likewise, a truck F_v + c_v x km(hub a -> hub r)
    last mile    per region r: likewise, a truck F_v + c_v x 2 x km(hub r -> the last mile's point)

The last mile's point is the kg-weighted centroid of the region's orders (``last_mile="centroid"``,
the bench's) or the region's order nearest its hub (``"nearest"``: the trucks model's bound drives
there, so this model's LP relaxation is exactly the bound's match). :func:`direct_value` costs a
cycle's flows as the cheapest direct whole trucks (like for like with the MIP).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

DATE = dt.date(2026, 11, 23)
PRODUCTS = ("apple", "pear", "cabbage")
GRID = (5, 4)  # boxes east-west x north-south
STEP, SIZE = 0.9, 0.6  # degrees between box corners, box side
LON0, LAT0 = 110.0, 30.0


@dataclass
class Instance:
    seed: int
    offers: pl.DataFrame  # typed OFFERS
    orders: pl.DataFrame  # typed ORDERS
    regions: Any  # regions.polygons.Regions


def make_instance(seed: int) -> Instance:
    import geopandas as gpd
    import shapely

    from matcher.schemas import OFFERS, ORDERS, parse_table
    from regions.polygons import parse_regions

    rng = np.random.default_rng(seed)
    boxes, ids, hub_lat, hub_lon = [], [], [], []
    for gx, gy in itertools.product(range(GRID[0]), range(GRID[1])):
        x0, y0 = LON0 + STEP * gx, LAT0 + STEP * gy
        boxes.append(shapely.box(x0, y0, x0 + SIZE, y0 + SIZE))
        ids.append(f"r{gx}{gy}")
        hub_lat.append(y0 + SIZE / 2)
        hub_lon.append(x0 + SIZE / 2)
    shapes = gpd.GeoDataFrame({"region_id": ids, "hub_lat": hub_lat, "hub_lon": hub_lon}, geometry=boxes, crs="EPSG:4326")
    regions = parse_regions(shapes, source="regions")
    n_regions = len(ids)

    def inside(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gy = k // GRID[1], k % GRID[1]
        lat = LAT0 + STEP * gy + rng.uniform(0.05, SIZE - 0.05, len(k))
        lon = LON0 + STEP * gx + rng.uniform(0.05, SIZE - 0.05, len(k))
        return np.round(lat, 5), np.round(lon, 5)

    n = int(rng.integers(8, 16))
    where = rng.integers(0, n_regions, n)
    lat, lon = inside(where)
    raw_offers = pl.DataFrame(
        {
            "offer_id": [f"o{k:02d}" for k in range(n)],
            "cooperative_id": [f"c{k:02d}" for k in range(n)],
            "product": rng.choice(np.array(PRODUCTS), n),
            "grade": "A",
            "quantity_kg": (rng.integers(10, 120, n) * 100).astype(str),
            "lat": lat.astype(str),
            "lon": lon.astype(str),
            "ready_date": DATE.isoformat(),
            "shelf_life_days": "10",
            "ask_per_kg": np.round(rng.uniform(1.0, 2.0, n), 2).astype(str),
        }
    )
    rows = []
    for r in range(n_regions):
        points = int(rng.integers(2, 7))
        plat, plon = inside(np.full(points, r))
        for product in PRODUCTS:
            if rng.random() > 0.7:
                continue
            level = rng.uniform(2.2, 3.2)
            for p in range(points):
                if rng.random() < 0.3:
                    continue
                rows.append((product, int(rng.integers(1, 10)) * 100, plat[p], plon[p], round(level * (1.08 if rng.random() < 0.3 else 1.0), 2)))
    raw_orders = pl.DataFrame(
        {
            "order_id": [f"b{k:03d}" for k in range(len(rows))],
            "product": [r[0] for r in rows],
            "min_grade": "C",
            "quantity_kg": [str(r[1]) for r in rows],
            "lat": [str(r[2]) for r in rows],
            "lon": [str(r[3]) for r in rows],
            "max_price_per_kg": [str(r[4]) for r in rows],
            "due_date": (DATE + dt.timedelta(days=5)).isoformat(),
        }
    )
    offers = parse_table(raw_offers, OFFERS, source="offers", key="offer_id")
    orders = parse_table(raw_orders, ORDERS, source="orders", key="order_id")
    return Instance(seed, offers, orders, regions)


# ------------------------------------------------------------------------------------- the cycles
def run_cycle(inst: Instance, model: str, iterations: int) -> dict[str, Any]:
    """One cycle of ``inst`` with ``MatchParams(freight=model, workers=1)`` and a plan (the default
    fleets, ``iterations`` per routing problem)."""
    from matcher import MatchParams, compute_cycle
    from matcher.routing.plan import PlanSettings
    from matcher.routing.tables import DEFAULT_FLEETS, LEGS
    from matcher.routing.vrp import SolveSettings

    plan = PlanSettings(solve=SolveSettings(iterations=iterations), fleets={leg: DEFAULT_FLEETS[leg] for leg in LEGS}, workers=1)
    began = time.perf_counter()
    got = compute_cycle(inst.offers, inst.regions, date=DATE, params=MatchParams(freight=model, workers=1), orders=inst.orders, plan=plan)
    seconds = time.perf_counter() - began
    alloc = got.match.allocations.select("offer_id", "region_id", "quantity_kg", "price_per_kg", "ask_per_kg")
    unserved = got.plan.plan.unserved if got.plan is not None else pl.DataFrame()
    return {
        "freight": got.summary["freight"],
        "welfare": float(got.summary["welfare"]),
        "alloc": alloc,
        "kg": int(alloc["quantity_kg"].sum()),
        "unserved_kg": int(unserved["kg"].sum()) if unserved.height else 0,
        "seconds": seconds,
    }


# ------------------------------------------------------------------------------- the direct trucks
@dataclass
class Model:
    """The direct-truck model of one instance: its lanes, groups (first mile, line haul, last mile) and
    each group's per-truck cost by vehicle type."""

    lanes: pl.DataFrame  # offer_id, region_id, demand_id, margin (bid - ask - handling), supply row _s, demand row _d
    supply: np.ndarray
    demand: np.ndarray
    groups: list[tuple[str, str, np.ndarray, np.ndarray]]  # (leg, key, capacities, cost per truck) per group
    member: list[np.ndarray]  # lanes in each group
    node: dict[str, str]  # offer -> its origin region
    last_mile_km: dict[str, float]  # region -> km from its hub to the last mile's point (one way)
    handling: float


def build_model(inst: Instance, *, last_mile: Literal["centroid", "nearest"] = "centroid") -> Model:
    """The direct-truck model of ``inst`` (the module docstring): the same pooling, circuity, handling
    and fleets (``DEFAULT_FLEETS``) as the cycle's; the last mile to the centroid of a region's orders or
    to its order nearest the hub."""
    from matcher.params import MatchParams
    from matcher.routing.plan import offer_regions
    from matcher.routing.tables import DEFAULT_FLEETS, Travel
    from regions.geodesy import haversine_km
    from regions.pooling import pool

    params = MatchParams()
    circuity = Travel().circuity
    demand, placed = pool(inst.orders, inst.regions.shapes, max_snap_km=params.max_snap_km, price_step=params.price_step)
    hubs = inst.regions.hubs.select("region_id", "hub_lat", "hub_lon")
    hub = {r: (la, lo) for r, la, lo in hubs.iter_rows()}
    where = offer_regions(inst.offers, inst.regions.shapes, hubs)
    node = dict(zip(where["offer_id"], where["region_id"], strict=True))
    offers = inst.offers.with_row_index("_s")
    demand = demand.with_row_index("_d")
    lanes = offers.select("_s", "offer_id", "product", "ask_per_kg").join(
        demand.select("_d", "demand_id", "region_id", "product", "price_per_kg"), on="product", how="inner"
    )
    lanes = lanes.with_columns(margin=pl.col("price_per_kg") - pl.col("ask_per_kg") - params.handling_per_kg).filter(pl.col("margin") > 0)
    lanes = lanes.with_columns(node=pl.col("offer_id").replace_strict(node)).sort("_s", "_d")

    def km(a: tuple[float, float], b: tuple[float, float]) -> float:
        return float(circuity * haversine_km(np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))[0])

    def per_truck(leg: str, distance: float) -> tuple[np.ndarray, np.ndarray]:
        f = DEFAULT_FLEETS[leg]
        return f["capacity_kg"].to_numpy().astype(float), (f["fixed_cost"] + f["cost_per_km"] * distance).to_numpy().astype(float)

    groups, member = [], []
    offer_at = {o: (la, lo) for o, la, lo in inst.offers.select("offer_id", "lat", "lon").iter_rows()}
    for (offer,), idx in lanes.with_row_index("_k").group_by("offer_id", maintain_order=True):
        groups.append(("first_mile", offer, *per_truck("first_mile", 2 * km(offer_at[offer], hub[node[offer]]))))
        member.append(idx["_k"].to_numpy())
    for (a, r), idx in lanes.with_row_index("_k").filter(pl.col("node") != pl.col("region_id")).group_by("node", "region_id", maintain_order=True):
        groups.append(("line_haul", f"{a}->{r}", *per_truck("line_haul", km(hub[a], hub[r]))))
        member.append(idx["_k"].to_numpy())
    placed = placed.filter(pl.col("region_id").is_not_null())
    if last_mile == "centroid":
        centroid = placed.group_by("region_id").agg(
            ((pl.col("lat") * pl.col("quantity_kg")).sum() / pl.col("quantity_kg").sum()).alias("lat"),
            ((pl.col("lon") * pl.col("quantity_kg")).sum() / pl.col("quantity_kg").sum()).alias("lon"),
        )
        lm_km = {r: km(hub[r], (la, lo)) for r, la, lo in centroid.iter_rows()}
    elif last_mile == "nearest":
        lm_km = {}
        for r, la, lo in placed.select("region_id", "lat", "lon").iter_rows():
            lm_km[r] = min(lm_km.get(r, math.inf), km(hub[r], (la, lo)))
    else:
        raise ValueError(f"last_mile: {last_mile!r}")
    for (r,), idx in lanes.with_row_index("_k").group_by("region_id", maintain_order=True):
        groups.append(("last_mile", r, *per_truck("last_mile", 2 * lm_km[r])))
        member.append(idx["_k"].to_numpy())
    return Model(
        lanes,
        offers["quantity_kg"].to_numpy().astype(float),
        demand["quantity_kg"].to_numpy().astype(float),
        groups,
        member,
        node,
        lm_km,
        params.handling_per_kg,
    )


def solve_mip(m: Model, *, integral: bool, time_limit: float) -> dict[str, Any]:
    """The model by HiGHS (``scipy.optimize.milp``, relative gap 1e-6): with ``integral``, whole trucks;
    else its LP relaxation (truck counts continuous). ``x`` are the kg per lane, ``n`` the trucks of
    each (group, vehicle type) in ``trucks``."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    n_x = m.lanes.height
    trucks = [(g, v) for g, (_, _, caps, _) in enumerate(m.groups) for v in range(len(caps))]
    n = n_x + len(trucks)
    c = np.zeros(n)
    c[:n_x] = -m.lanes["margin"].to_numpy()
    c[n_x:] = [m.groups[g][3][v] for g, v in trucks]
    rows, cols, vals, ub = [], [], [], []
    r = 0
    s_idx, d_idx = m.lanes["_s"].to_numpy(), m.lanes["_d"].to_numpy()
    for idx, cap in ((s_idx, m.supply), (d_idx, m.demand)):
        for k in np.unique(idx):
            lanes_k = np.flatnonzero(idx == k)
            rows += [r] * len(lanes_k)
            cols += lanes_k.tolist()
            vals += [1.0] * len(lanes_k)
            ub.append(float(cap[k]))
            r += 1
    group_row = -1
    for t, (g, v) in enumerate(trucks):
        if v == 0:  # the group's row: its kg <= its trucks' capacity
            lanes_g = m.member[g]
            rows += [r] * len(lanes_g)
            cols += lanes_g.tolist()
            vals += [1.0] * len(lanes_g)
            group_row = r
            ub.append(0.0)
            r += 1
        rows.append(group_row)
        cols.append(n_x + t)
        vals.append(-float(m.groups[g][2][v]))
    a = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr()
    integrality = np.r_[np.zeros(n_x), np.ones(len(trucks))] if integral else np.zeros(n)
    began = time.perf_counter()
    res = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, np.array(ub)),
        integrality=integrality,
        bounds=Bounds(0, np.inf),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6, "disp": False},
    )
    seconds = time.perf_counter() - began
    if res.x is None:
        raise RuntimeError(f"HiGHS found no solution: {res.message}")
    out = {
        "objective": -float(res.fun),
        "status": res.status,
        "message": res.message,
        "seconds": seconds,
        "vars": n,
        "int_vars": len(trucks),
        "rows": r,
        "x": res.x[:n_x].copy(),
        "n": res.x[n_x:].copy(),
        "trucks": trucks,
    }
    if integral:
        out["dual_bound"] = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else float("nan")
        out["gap"] = float(getattr(res, "mip_gap", float("nan")) or 0.0)
        out["truck_count"] = int(round(res.x[n_x:].sum()))
    out["kg"] = float(res.x[:n_x].sum())
    return out


def cheapest_trucks(kg: float, caps: np.ndarray, costs: np.ndarray) -> float:
    """The cheapest whole trucks (any mix of the types) carrying ``kg``: exact, by enumeration (a few types)."""
    if kg <= 0:
        return 0.0
    order = np.argsort(caps)
    caps, costs = caps[order], costs[order]

    def best(k: int, rest: float) -> float:
        if rest <= 0:
            return 0.0
        if k == len(caps) - 1:
            return math.ceil(rest / caps[k] - 1e-9) * costs[k]
        top = math.ceil(rest / caps[k] - 1e-9)
        return min(j * costs[k] + best(k + 1, rest - j * caps[k]) for j in range(top + 1))

    return best(0, kg)


def direct_value(m: Model, alloc: pl.DataFrame) -> dict[str, float]:
    """A cycle's flows costed as direct whole trucks (the MIP's model): value, trucks per leg, welfare."""
    by = {(leg, key): (caps, costs) for leg, key, caps, costs in m.groups}
    q = alloc["quantity_kg"].cast(pl.Float64)
    value = float((q * (alloc["price_per_kg"] - alloc["ask_per_kg"] - m.handling)).sum())
    alloc = alloc.with_columns(node=pl.col("offer_id").replace_strict(m.node))
    cost = {"first_mile": 0.0, "line_haul": 0.0, "last_mile": 0.0}
    for (o,), g in alloc.group_by("offer_id"):
        cost["first_mile"] += cheapest_trucks(float(g["quantity_kg"].sum()), *by[("first_mile", o)])
    for (a, r), g in alloc.filter(pl.col("node") != pl.col("region_id")).group_by("node", "region_id"):
        cost["line_haul"] += cheapest_trucks(float(g["quantity_kg"].sum()), *by[("line_haul", f"{a}->{r}")])
    for (r,), g in alloc.group_by("region_id"):
        cost["last_mile"] += cheapest_trucks(float(g["quantity_kg"].sum()), *by[("last_mile", r)])
    return {"value": value, **cost, "welfare": value - sum(cost.values())}


__all__ = ["DATE", "Instance", "Model", "build_model", "cheapest_trucks", "direct_value", "make_instance", "run_cycle", "solve_mip"]
