"""The demo: a day of China's fresh produce on real geography, built once and cached.

Regions are the 370 prefecture-level cities; each city's hub is its largest town. Cooperatives sit in
real towns of the provinces that grow each product; community pickup points order in proportion to
town population. Volumes, prices and shelf lives are plausible magnitudes, not statistics: no package
ships sub-national production or wholesale prices (docs/data.md), so the day is synthetic on real
geography, and says so.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from matcher.params import MatchParams
from regions.geodesy import haversine_km

#: the routing search's iterations per problem in the demo (fewer than the default: the demo is a quick look)
DEMO_ROUTE_ITERATIONS = 300

DEMO_DATE = dt.date(2026, 11, 23)

#: the demo's cycle: defaults, with the safety net on (off by default): a cooperative offering at most
#: the default small_kg in the cycle is small, and half of its kg sell wherever a lane loses at most 0.50
#: yuan per kg
DEMO_PARAMS = MatchParams(small_share=0.5, max_subsidy_per_kg=0.5)
#: the demo's consolidation centres (``harvest demo --crossdocks``; not used by default: on the demo day
#: they add about 1 % realized welfare and put the tours further from the lanes' costs, docs/freight.md):
#: the central cities of China's seven geographic
#: regions (North, Northeast, East, Central, South, Southwest, Northwest), each handling up to 300 t a
#: day at 0.05 yuan per kg; coordinates are the cities' centres
DEMO_CROSSDOCKS = pl.DataFrame(
    {
        "crossdock_id": ["beijing", "shenyang", "shanghai", "wuhan", "guangzhou", "chengdu", "xian"],
        "lat": [39.904, 41.806, 31.230, 30.593, 23.129, 30.573, 34.341],
        "lon": [116.407, 123.432, 121.474, 114.305, 113.264, 104.066, 108.940],
        "capacity_kg": [300_000] * 7,
        "handling_per_kg": [0.05] * 7,
    }
)
#: bump when the generated day changes, so cached inputs are rebuilt
DEMO_VERSION = 7


@dataclass(frozen=True)
class Product:
    name: str
    shelf_life_days: int
    ask: tuple[float, float]  # yuan per kg at the farm gate
    bid: tuple[float, float]  # yuan per kg that pickup points pay
    provinces: tuple[str, ...]  # where cooperatives grow it; empty: around every city
    tonnes: float  # offered nationally on the demo day


PRODUCTS = (
    Product("spinach", 3, (2.0, 3.5), (5.0, 7.0), (), 60),
    Product("lettuce", 4, (1.8, 3.0), (4.5, 6.5), (), 60),
    Product("tomato", 10, (2.5, 4.0), (5.0, 8.0), ("山东省", "河北省", "新疆维吾尔自治区", "云南省"), 120),
    Product("cucumber", 7, (2.0, 3.0), (4.0, 6.0), ("山东省", "河北省", "辽宁省"), 90),
    Product("napa_cabbage", 20, (0.6, 1.0), (1.8, 2.8), ("河北省", "山东省", "河南省"), 200),
    Product("apple", 60, (3.5, 6.0), (8.0, 12.0), ("陕西省", "山东省", "甘肃省", "山西省"), 150),
    Product("mandarin", 30, (2.0, 4.0), (6.0, 9.0), ("广西壮族自治区", "湖南省", "湖北省", "江西省", "四川省"), 150),
    Product("pear", 45, (2.0, 3.5), (5.0, 8.0), ("河北省", "安徽省", "新疆维吾尔自治区"), 80),
    Product("grape", 14, (5.0, 9.0), (12.0, 18.0), ("新疆维吾尔自治区", "云南省", "河北省"), 40),
    Product("potato", 120, (1.0, 1.8), (2.5, 4.0), ("甘肃省", "内蒙古自治区", "云南省", "贵州省"), 250),
    Product("onion", 90, (1.0, 1.6), (2.5, 3.5), ("甘肃省", "山东省", "云南省"), 120),
    Product("carrot", 60, (1.2, 2.0), (3.0, 4.5), ("山东省", "河北省", "福建省"), 100),
)


def build_demo_inputs(folder: Path, *, seed: int = 7) -> dict:
    """Write the demo day into ``folder`` (offers.csv, orders.csv, products.csv, regions.gpkg), unless a
    build of the same version and seed is already there; return the run_batch arguments."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "BUILD.json"
    paths = {
        "offers": folder / "offers.csv",
        "orders": folder / "orders.csv",
        "products": folder / "products.csv",
        "regions": folder / "regions.gpkg",
    }
    wanted = {"version": DEMO_VERSION, "seed": seed, "date": DEMO_DATE.isoformat()}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted and all(p.exists() for p in paths.values()):
        return {**paths, "date": DEMO_DATE, "cached": True}

    from harvest.demo.china import load_regions, load_towns
    from regions.pooling import assign_regions

    regions = load_regions("city")
    towns = load_towns("CN")
    where = assign_regions(towns["lat"].to_numpy(), towns["lon"].to_numpy(), regions, max_snap_km=10)
    towns = towns.with_columns(
        region=pl.Series(where.region),
        province=pl.Series(np.where(where.region >= 0, regions["province"].to_numpy()[np.maximum(where.region, 0)], None)),
    ).filter(pl.col("region") >= 0)
    # a city's hub is its largest town; cities without a listed town get a point inside the polygon
    largest = towns.sort("population", descending=True).unique("region", keep="first")
    hub_lat = np.full(len(regions), np.nan)
    hub_lon = np.full(len(regions), np.nan)
    hub_lat[largest["region"].to_numpy()] = largest["lat"].to_numpy()
    hub_lon[largest["region"].to_numpy()] = largest["lon"].to_numpy()
    regions = regions.assign(hub_lat=hub_lat, hub_lon=hub_lon)

    offers, orders = demo_day(towns, seed=seed)
    offers.write_csv(paths["offers"])
    orders.write_csv(paths["orders"])
    pl.DataFrame({"product": [p.name for p in PRODUCTS], "shelf_life_days": [p.shelf_life_days for p in PRODUCTS]}).write_csv(paths["products"])
    regions.to_file(paths["regions"], driver="GPKG")
    stamp.write_text(json.dumps(wanted))
    return {**paths, "date": DEMO_DATE, "cached": False}


def demo_day(towns: pl.DataFrame, *, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Offers from cooperatives in growing towns and orders from pickup points in every town."""
    rng = np.random.default_rng(seed)
    t_lat, t_lon = towns["lat"].to_numpy(), towns["lon"].to_numpy()
    pop = towns["population"].to_numpy().astype(np.float64)
    province = towns["province"].to_numpy()
    # community group-buying points: one per 50,000 people of a town (1 to 60), near its centre; the
    # households of a town order through them, so a city's deliveries go to a few dozen points
    points = np.clip(np.rint(pop / 50_000), 1, 60).astype(np.int64)
    first_point = np.r_[0, np.cumsum(points)[:-1]]
    point_town = np.repeat(np.arange(len(pop)), points)
    point_lat = np.round(t_lat[point_town] + rng.normal(0, 0.03, len(point_town)), 5)
    point_lon = np.round(t_lon[point_town] + rng.normal(0, 0.03, len(point_town)), 5)
    point_id = np.array([f"pp-{t:05d}-{j:02d}" for t, j in zip(point_town, np.arange(len(point_town)) - first_point[point_town], strict=True)])
    offers, orders = [], []
    for k, product in enumerate(PRODUCTS):
        growers = np.flatnonzero(np.isin(province, product.provinces)) if product.provinces else np.arange(len(pop))
        weight = np.sqrt(pop[growers])
        kg_total = product.tonnes * 1000
        n = max(20, int(kg_total / 2500))
        at = growers[rng.choice(len(growers), n, p=weight / weight.sum())]
        kg = rng.lognormal(np.log(kg_total / n), 0.6, n)
        grade = rng.choice(np.array(["A", "B", "C"]), n, p=[0.3, 0.5, 0.2])
        offers.append(
            pl.DataFrame(
                {
                    "offer_id": [f"{product.name}-{j:04d}" for j in range(n)],
                    "cooperative_id": [f"coop-{int(c):05d}" for c in at * 10 + rng.integers(0, 10, n)],
                    "product": product.name,
                    "grade": grade,
                    "quantity_kg": np.maximum(np.rint(kg), 50).astype(np.int64),
                    "lat": np.round(t_lat[at] + rng.normal(0, 0.15, n), 5),
                    "lon": np.round(t_lon[at] + rng.normal(0, 0.15, n), 5),
                    "ready_date": [DEMO_DATE - dt.timedelta(days=int(d)) for d in rng.integers(0, min(3, product.shelf_life_days), n)],
                    "shelf_life_days": product.shelf_life_days,
                    "ask_per_kg": np.round(rng.uniform(*product.ask, n) * np.where(grade == "A", 1.0, np.where(grade == "B", 0.9, 0.8)), 2),
                }
            )
        )
        # households order through pickup points where people live, 10 kg at a time on average. A city has one price level
        # per product (higher far from the growers: buyers pay for the haul) and a premium tier;
        # orders pool because they share city, tier, grade and delivery day
        m = max(50, int(kg_total * 1.1 / 10))
        remote = haversine_km(t_lat[:, None], t_lon[:, None], t_lat[growers][None, :], t_lon[growers][None, :]).min(axis=1)
        city = towns["region"].to_numpy()
        city_remote = np.bincount(city, weights=remote) / np.maximum(np.bincount(city), 1)
        level = (rng.uniform(*product.bid, len(city_remote)) + 0.0004 * city_remote)[city]
        town = rng.choice(len(pop), m, p=pop / pop.sum())
        point = first_point[town] + (rng.random(m) * points[town]).astype(np.int64)
        premium = rng.random(m) < 0.3
        max_price = level[town] * np.where(premium, 1.08, 1.0) + rng.uniform(0, 0.04, m)
        soon = 1 if product.shelf_life_days <= 7 else 2
        due = soon + (rng.random(m) < 0.2)
        orders.append(
            pl.DataFrame(
                {
                    "order_id": [f"{product.name}-order-{j:05d}" for j in range(m)],
                    "product": product.name,
                    "min_grade": rng.choice(np.array(["A", "B", "C"]), m, p=[0.0, 0.3, 0.7]),
                    "quantity_kg": np.maximum(np.rint(rng.lognormal(np.log(8), 0.7, m)), 1).astype(np.int64),
                    "lat": point_lat[point],
                    "lon": point_lon[point],
                    "pickup_point_id": point_id[point],
                    "max_price_per_kg": np.round(max_price, 2),
                    "due_date": [DEMO_DATE + dt.timedelta(days=int(d)) for d in due],
                    "created_at": [dt.datetime(2026, 11, 22, 6) + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 20 * 3600, m)],
                }
            )
        )
    return pl.concat(offers), pl.concat(orders).sort("created_at")


def run_demo(out: Path, *, size: str = "small", seed: int = 7, crossdocks: bool = False) -> dict:
    """Build (or reuse) the demo day, run one cycle with orders (with ``crossdocks``, through
    :data:`DEMO_CROSSDOCKS`), draw the map; return the summary."""
    import time

    from harvest.demo.china import ATTRIBUTION
    from matcher.batch import run_batch
    from matcher.routing.batch import PlanOptions
    from matcher.routing.vrp import SolveSettings

    if crossdocks and size == "national":
        from harvestmatch.errors import ParameterError

        raise ParameterError("--crossdocks: the national demo is matched without trucks (no plan): give it with --size small")
    started = time.perf_counter()
    if size == "national":
        paths = build_national_inputs(out / "input", seed=seed)
    else:
        paths = build_demo_inputs(out / "input", seed=seed)
    cached = paths.pop("cached")
    built = time.perf_counter() - started
    plan = None
    if size != "national":
        table = None
        if crossdocks:
            table = out / "input" / "crossdocks.csv"
            DEMO_CROSSDOCKS.write_csv(table)
        plan = PlanOptions(search=SolveSettings(iterations=DEMO_ROUTE_ITERATIONS), crossdocks=table)
    summary = run_batch(out=out / "result", params=DEMO_PARAMS if size != "national" else MatchParams(), plan=plan, **paths)
    summary["demo"] = {"size": size, "inputs_cached": cached, "build_seconds": built, "credit": ATTRIBUTION}
    if size != "national":
        summary["demo"]["maps"] = [str(p) for p in _draw(out, paths)]
    return summary


def _draw(out: Path, paths: dict) -> list[Path]:
    """The country (clearing prices and the line-haul network) and the last-mile tours of the city that
    receives the most kg."""
    from harvest.demo.china import ATTRIBUTION
    from harvest.demo.maps import render_cycle_map, render_last_mile_map
    from regions.polygons import read_regions

    regions = read_regions(paths["regions"])
    result = out / "result"
    ids = {c: pl.String for c in ("offer_id", "demand_id", "region_id", "cooperative_id", "hub", "stop_id", "route_id", "depot_id")}
    routes = pl.read_csv(result / "plan" / "routes.csv", schema_overrides=ids)
    stops = pl.read_csv(result / "plan" / "stops.csv", schema_overrides=ids)
    places = regions.hubs.select(("hub:" + pl.col("region_id")).alias("depot_id"), pl.col("hub_lat").alias("lat"), pl.col("hub_lon").alias("lon"))
    crossdocks = out / "input" / "crossdocks.csv"
    if crossdocks.exists() and (result / "allocations.csv").exists() and "via" in pl.read_csv(result / "allocations.csv", n_rows=1).columns:
        docks = pl.read_csv(crossdocks, schema_overrides={"crossdock_id": pl.String})
        places = pl.concat([places, docks.select(("crossdock:" + pl.col("crossdock_id")).alias("depot_id"), "lat", "lon")])
    credit = ATTRIBUTION + " Volumes and prices are synthetic."
    haul = routes.filter(pl.col("leg") == "line_haul")
    country = render_cycle_map(
        regions.shapes,
        pl.read_csv(result / "demand_out.csv", schema_overrides=ids),
        routes,
        stops,
        places,
        out / "map.png",
        product="apple",
        credit=credit,
        title=f"harvestmatch demo, {DEMO_DATE}: line haul, {haul.height:,} trucks between {haul['depot_id'].n_unique():,} hubs",
    )
    city = routes.filter(pl.col("leg") == "last_mile").group_by("hub").agg(pl.col("kg").sum()).sort("kg", "hub", descending=[True, False])
    if city.height == 0:
        return [country]
    hub = city["hub"][0]
    tours = routes.filter((pl.col("leg") == "last_mile") & (pl.col("hub") == hub))
    local = render_last_mile_map(
        regions.shapes,
        routes,
        stops,
        places,
        out / "last_mile.png",
        hub=hub,
        credit=credit,
        title=f"last mile from hub {hub}: {tours.height} tours, {int(tours['kg'].sum()):,} kg, {int(tours['stops'].sum())} pickup point visits",
    )
    return [country, local]


def build_national_inputs(folder: Path, *, seed: int = 5, n_offers: int = 200_000, n_products: int = 300) -> dict:
    """The benchmark's national day on real geography: China's 2,875 counties, 200,000 offers,
    300 products, every county bidding for every product in 2 price tiers (pooled demand rows)."""
    from harvest.demo.china import load_regions
    from matcher.synthetic import synthetic_day

    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "BUILD.json"
    paths = {"offers": folder / "offers.parquet", "demand": folder / "demand.parquet", "regions": folder / "regions.gpkg"}
    wanted = {"version": DEMO_VERSION, "seed": seed, "offers": n_offers, "products": n_products}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted and all(p.exists() for p in paths.values()):
        return {**paths, "date": DEMO_DATE, "cached": True}
    regions = load_regions("county")
    points = regions.geometry.representative_point()
    offers, demand = synthetic_day(
        n_offers=n_offers,
        n_products=n_products,
        region_ids=list(regions["region_id"]),
        region_lat=points.y.to_numpy(),
        region_lon=points.x.to_numpy(),
        date=DEMO_DATE,
        seed=seed,
        towns=(30, 300),
        freight_hint=0.0005,
    )
    offers.write_parquet(paths["offers"])
    demand.write_parquet(paths["demand"])
    regions.to_file(paths["regions"], driver="GPKG")
    stamp.write_text(json.dumps(wanted))
    return {**paths, "date": DEMO_DATE, "cached": False}
