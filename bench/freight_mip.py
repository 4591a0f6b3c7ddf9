"""The trucks model against an exact per-truck MIP on small days:
``.venv/bin/python bench/freight_mip.py [--write bench/RESULTS.md]``.

Small generated days (``--seeds``, default 10): 3 products, 8 to 15 offers, 20 regions as boxes of
0.6 x 0.6 degrees on a 5 x 4 grid (about 430 x 400 km), a hub at each box's centre, pickup points in
the boxes (2 to 6 per region) with orders of 100 to 900 kg, each product wanted in 70% of the regions at a
regional bid of 2.2 to 3.2 per kg (8% more for a premium order), offers of 1 to 12 t asking 1 to 2 per kg. Each day goes through the project's own cycle,
``matcher.compute_cycle`` with ``MatchParams(freight=..., workers=1)`` and a plan
(``PlanSettings(solve=SolveSettings(iterations=200))``, the default fleets), once with ``linear`` and
once with ``trucks``; and through an exact MIP (HiGHS, through ``scipy.optimize.milp``) of the
**direct-truck** model on the same pooled demand rows:

    maximize  sum_ij x_ij (bid_j - ask_i - handling_per_kg) - sum of whole trucks' costs
    x_ij      kg from offer i to demand row j (same product; every such lane is feasible here)
    first mile   per offer i, one integer count per vehicle type v:  sum_j x_ij <= sum_v Q_v n_iv,
                 a truck costs F_v + c_v x 2 x km(farm -> hub of the offer's region)
    line haul    per corridor (a, r), a != r:  sum over i in a, j in r of x_ij <= sum_v Q_v n_arv,
                 a truck costs F_v + c_v x km(hub a -> hub r)  (one way: the plan's line haul is open-ended)
    last mile    per region r:  sum over j in r of x_ij <= sum_v Q_v n_rv,
                 a truck costs F_v + c_v x 2 x km(hub r -> the kg-weighted centroid of r's orders)

(km = great circle x circuity 1.3; ``DEFAULT_FLEETS``' capacities and costs; duration limits left out.)
Its LP relaxation (the counts continuous: every kg at its cheapest full vehicle's rate) is reported too.
Both cycles' flows are costed under the same direct-truck model (the cheapest whole trucks per offer,
corridor and region for their kg), so the comparison is like for like.

The direct-truck MIP is a reference, not the optimum of the routed problem: a multi-stop tour can carry
several offers or corridors in one vehicle and cost less than direct trucks, so a cycle's routed
(realized) welfare may exceed the MIP's optimum.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from freight import load, section, write_section  # noqa: E402

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

    lanes: pl.DataFrame  # offer_id, region_id, demand_id, margin (bid - ask - handling), supply row, demand row
    supply: np.ndarray
    demand: np.ndarray
    groups: list[tuple[str, str, np.ndarray, np.ndarray]]  # (leg, key, capacities, cost per truck) per group
    member: list[np.ndarray]  # lanes in each group
    node: dict[str, str]  # offer -> its origin region
    centroid_km: dict[str, float]
    handling: float


def build_model(inst: Instance) -> Model:
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
    centroid = placed.group_by("region_id").agg(
        ((pl.col("lat") * pl.col("quantity_kg")).sum() / pl.col("quantity_kg").sum()).alias("lat"),
        ((pl.col("lon") * pl.col("quantity_kg")).sum() / pl.col("quantity_kg").sum()).alias("lon"),
    )
    centroid_km = {r: km(hub[r], (la, lo)) for r, la, lo in centroid.iter_rows()}
    for (r,), idx in lanes.with_row_index("_k").group_by("region_id", maintain_order=True):
        groups.append(("last_mile", r, *per_truck("last_mile", 2 * centroid_km[r])))
        member.append(idx["_k"].to_numpy())
    return Model(
        lanes,
        offers["quantity_kg"].to_numpy().astype(float),
        demand["quantity_kg"].to_numpy().astype(float),
        groups,
        member,
        node,
        centroid_km,
        params.handling_per_kg,
    )


def solve_mip(m: Model, *, integral: bool, time_limit: float) -> dict[str, Any]:
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
    out = {"objective": -float(res.fun), "status": res.status, "message": res.message, "seconds": seconds, "vars": n, "int_vars": len(trucks), "rows": r}
    if integral:
        out["dual_bound"] = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else float("nan")
        out["gap"] = float(getattr(res, "mip_gap", float("nan")) or 0.0)
        out["trucks"] = int(round(res.x[n_x:].sum()))
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


# ------------------------------------------------------------------------------------------ report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--write", type=Path, help="replace the freight-mip section in this Markdown file")
    parser.add_argument("--seeds", type=int, default=10, help="instances (seeds 1..N; default 10)")
    parser.add_argument("--iterations", type=int, default=200, help="routing iterations per problem (default 200)")
    parser.add_argument("--mip-seconds", type=float, default=30.0, help="HiGHS' time limit per MIP (default 30)")
    args = parser.parse_args()
    started, clock = load(), time.perf_counter()
    rows = []
    for seed in range(1, args.seeds + 1):
        inst = make_instance(seed)
        lin = run_cycle(inst, "linear", args.iterations)
        tru = run_cycle(inst, "trucks", args.iterations)
        m = build_model(inst)
        mip = solve_mip(m, integral=True, time_limit=args.mip_seconds)
        lp = solve_mip(m, integral=False, time_limit=args.mip_seconds)
        dl, dt_ = direct_value(m, lin["alloc"]), direct_value(m, tru["alloc"])
        rows.append(
            {
                "seed": seed,
                "offers": inst.offers.height,
                "orders": inst.orders.height,
                "lanes": m.lanes.height,
                "supply": int(m.supply.sum()),
                "demand": int(m.demand.sum()),
                "lin": lin,
                "tru": tru,
                "mip": mip,
                "lp": lp,
                "dl": dl,
                "dt": dt_,
            }
        )
        f = tru["freight"]
        print(
            f"  seed {seed}: linear realized {lin['freight']['realized_welfare']:,.0f} direct {dl['welfare']:,.0f}; trucks realized "
            f"{f['realized_welfare']:,.0f} direct {dt_['welfare']:,.0f} bound {f['bound']}; MIP {mip['objective']:,.0f} ({mip['message'][:30]}, "
            f"{mip['seconds']:.1f} s) LP {lp['objective']:,.0f}",
            file=sys.stderr,
            flush=True,
        )
        if max(dl["welfare"], dt_["welfare"]) > mip["dual_bound"] + 1e-6 * abs(mip["dual_bound"]) + 1.0:
            print(f"  WARNING seed {seed}: a cycle's flows beat the MIP's dual bound under the direct-truck model", file=sys.stderr)
    total = time.perf_counter() - clock
    text = section(
        "freight-mip", "Freight: the trucks model against an exact direct-truck MIP (small days)", "freight_mip.py", report(rows, args, total), started
    )
    print(text)
    if args.write:
        write_section(args.write, "freight-mip", text)


def report(rows: list[dict[str, Any]], args: argparse.Namespace, total: float) -> list[str]:
    import scipy

    def r0(x: float) -> str:
        return f"{x:,.0f}"

    lines = [
        f"{len(rows)} generated days (seeds 1 to {len(rows)}; `bench/freight_mip.py`'s docstring: 3 products, 8 to 15 offers of 1 to 12 t, "
        "20 regions as 0.6-degree boxes on a 5 x 4 grid about 430 x 400 km, 2 to 6 pickup points per region, orders of 100 to 900 kg, "
        "each product wanted in 70% of the regions at a regional bid of 2.2 to 3.2 per kg, 8% more for premium orders; asks 1 to 2). "
        "Each day through `matcher.compute_cycle` with `MatchParams(freight=..., workers=1)` and "
        f"a plan (`PlanSettings(solve=SolveSettings(iterations={args.iterations}))`, the default fleets, 1 worker), linear and trucks; "
        f"and an exact MIP of the **direct-truck** model on the same pooled demand rows (HiGHS through `scipy.optimize.milp`, scipy "
        f"{scipy.__version__}, relative gap 1e-6, time limit {args.mip_seconds:g} s): x_ij kg per lane, integer trucks per vehicle type "
        "per offer (first mile, farm -> hub and back), per corridor (line haul, hub -> hub one way, as the plan's open-ended line haul) "
        "and per region (last mile, hub -> the kg-weighted centroid of its orders and back), `DEFAULT_FLEETS`' capacities and costs, "
        "great circle x 1.3; maximize kg x (bid - ask - handling 0.10) - the trucks. Its LP relaxation (truck counts continuous) is "
        "the same model with every kg at its cheapest full vehicle's rate.",
        "",
        "Columns: *realized* is the cycle's `freight.realized_welfare` (its flows, its routed multi-stop tours paid); *direct* is the "
        "same flows costed as the cheapest direct whole trucks per offer, corridor and region (the MIP's model: like for like with the "
        "MIP); *bound* is the trucks model's `freight.bound` (round 0's welfare at full vehicles' rates, a bound on any routed plan); "
        "*MIP* the direct-truck optimum, *LP* its relaxation.",
        "",
        "| seed | offers | orders | lanes | linear: realized | linear: direct | trucks: realized | trucks: direct | trucks: bound | MIP | MIP status, s | LP | "
        "trucks direct / MIP | linear direct / MIP | trucks realized / MIP | MIP / LP | kg: linear / trucks / MIP |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    ratios: dict[str, list[float]] = {k: [] for k in ("td", "ld", "tr", "lr", "mlp", "bmip")}
    for r in rows:
        mip, lp, lin, tru = r["mip"], r["lp"], r["lin"], r["tru"]
        best = mip["objective"]
        status = "optimal" if mip["status"] == 0 else f"{mip['message'][:20]} (gap {mip['gap']:.1%})"

        def ratio(x: float, key: str) -> str:
            if best <= 0:
                return "-"
            ratios[key].append(x / best)
            return f"{x / best:.2f}"

        lines.append(
            f"| {r['seed']} | {r['offers']} | {r['orders']} | {r['lanes']} | {r0(lin['freight']['realized_welfare'])} | {r0(r['dl']['welfare'])} | "
            f"{r0(tru['freight']['realized_welfare'])} | {r0(r['dt']['welfare'])} | {r0(tru['freight']['bound'] or float('nan'))} | {r0(best)} | "
            f"{status}, {mip['seconds']:.1f} | {r0(lp['objective'])} | {ratio(r['dt']['welfare'], 'td')} | {ratio(r['dl']['welfare'], 'ld')} | "
            f"{ratio(tru['freight']['realized_welfare'], 'tr')} | "
            f"{(best / lp['objective'] if lp['objective'] > 0 else float('nan')):.2f} | {lin['kg']:,} / {tru['kg']:,} / {mip['kg']:,.0f} |"
        )
        ratios["lr"].append(lin["freight"]["realized_welfare"] / best if best > 0 else float("nan"))
        if lp["objective"] > 0:
            ratios["mlp"].append(best / lp["objective"])
        if tru["freight"]["bound"]:
            ratios["bmip"].append(tru["freight"]["bound"] / best if best > 0 else float("nan"))

    def mean(key: str) -> str:
        v = np.array(ratios[key], float)
        v = v[np.isfinite(v)]
        return f"{v.mean():.3f} (min {v.min():.3f}, max {v.max():.3f})" if len(v) else "-"

    n_opt = sum(r["mip"]["status"] == 0 for r in rows)
    sums = {
        k: sum(f(r) for r in rows)
        for k, f in {
            "lin_real": lambda r: r["lin"]["freight"]["realized_welfare"],
            "tru_real": lambda r: r["tru"]["freight"]["realized_welfare"],
            "lin_dir": lambda r: r["dl"]["welfare"],
            "tru_dir": lambda r: r["dt"]["welfare"],
            "mip": lambda r: r["mip"]["objective"],
            "lp": lambda r: r["lp"]["objective"],
            "bound": lambda r: r["tru"]["freight"]["bound"] or 0.0,
        }.items()
    }
    beat = [r["seed"] for r in rows if r["tru"]["freight"]["realized_welfare"] > r["mip"]["objective"] + 1]
    worse = [r["seed"] for r in rows if r["tru"]["freight"]["realized_welfare"] < r["dt"]["welfare"] - 1]
    lines += [
        "",
        f"HiGHS proved {n_opt} of {len(rows)} MIPs optimal within {args.mip_seconds:g} s. Averages of the per-day ratios (over days with "
        "a positive MIP optimum):",
        "",
        "| ratio | mean (min, max) |",
        "|---|---|",
        f"| trucks' flows, direct trucks / MIP | {mean('td')} |",
        f"| linear's flows, direct trucks / MIP | {mean('ld')} |",
        f"| trucks' realized (routed tours) / MIP | {mean('tr')} |",
        f"| linear's realized (routed tours) / MIP | {mean('lr')} |",
        f"| MIP / its LP relaxation | {mean('mlp')} |",
        f"| trucks' bound / MIP | {mean('bmip')} |",
        "",
        f"Summed over the {len(rows)} days: linear realized {r0(sums['lin_real'])}, trucks realized {r0(sums['tru_real'])}; under direct "
        f"trucks linear {r0(sums['lin_dir'])}, trucks {r0(sums['tru_dir'])}, MIP {r0(sums['mip'])}, LP relaxation {r0(sums['lp'])}; "
        f"trucks' bound {r0(sums['bound'])}. Whole run {total:.0f} s.",
        "",
        "Reading: the MIP is the best any match can do **if every kg travels in direct trucks**; the routed plans consolidate "
        "several offers or corridors on one multi-stop tour, which can cost less, so a cycle's *realized* welfare can exceed the MIP "
        + (f"(it does on seed{'s' if len(beat) > 1 else ''} {', '.join(map(str, beat))}); " if beat else "(on none of these days did it); ")
        + "the *direct* columns are the like-for-like comparison with the MIP. The other way round, the direct model's last mile "
        "drives to one point per region (the centroid of its orders) where a routed tour visits every pickup point, and the routed "
        "plan keeps the fleets' shift lengths, so the direct cost of a cycle's flows can also be below their routed cost"
        + (f" (seed{'s' if len(worse) > 1 else ''} {', '.join(map(str, worse))})" if worse else "")
        + ". The LP relaxation is what a match at full vehicles' "
        "rates sees; the trucks model's `bound` is the same relaxation with the last mile to the region's nearest order instead of "
        "the centroid (so the two differ a little, either way), an upper bound on any routed plan.",
    ]
    return lines


if __name__ == "__main__":
    main()
