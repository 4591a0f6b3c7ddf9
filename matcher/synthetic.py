"""A synthetic day of offers and pooled demand, for the demo, tests and benchmarks.

Products have a base price, a shelf life and a grade mix; cooperatives cluster around farm towns;
regional demand follows a skewed population weight, in two price tiers. Everything comes from one seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from regions.geodesy import haversine_km

SHELF_LIVES = np.array([3, 5, 7, 14, 30, 60, 120])


def synthetic_day(
    *,
    n_offers: int,
    n_products: int,
    region_ids: list[str],
    region_lat: np.ndarray,
    region_lon: np.ndarray,
    date: dt.date,
    tiers: int = 2,
    demand_ratio: float = 1.0,
    price_noise: float = 0.01,
    freight_hint: float = 0.0007,
    towns: tuple[int, int] = (3, 30),
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Offers and pooled demand rows (every region wants every product, in ``tiers`` price tiers).

    ``price_noise`` is the relative spread of bids between rows at the same place; ``freight_hint``
    the premium per kg and km of distance from the product's farm towns. A large noise makes every
    region's price independent of its neighbours' (a hard, unrealistic case for the pricing loop).

    Returns
    -------
    (offers, demand)
        Frames in the batch contract's columns (docs/design.md section 3).
    """
    rng = np.random.default_rng(seed)
    n_regions = len(region_ids)
    width = len(str(max(n_products - 1, 1)))
    products = np.array([f"P{k:0{width}d}" for k in range(n_products)])
    base = rng.uniform(1.0, 12.0, n_products)
    shelf = rng.choice(SHELF_LIVES, n_products)

    # each product grows around a few farm towns (region hubs); its cooperatives cluster there
    n_towns = rng.integers(towns[0], towns[1] + 1, n_products)
    town_start = np.r_[0, np.cumsum(n_towns)]
    farm = rng.integers(0, n_regions, int(town_start[-1]))
    product = rng.integers(0, n_products, n_offers)
    town = farm[town_start[product] + (rng.random(n_offers) * n_towns[product]).astype(np.int64)]
    lat = np.clip(region_lat[town] + rng.normal(0, 0.6, n_offers), -89.9, 89.9)
    lon = np.clip(region_lon[town] + rng.normal(0, 0.6, n_offers), -179.9, 179.9)
    kg = np.rint(rng.lognormal(np.log(4000), 0.8, n_offers)).astype(np.int64) + 100
    grade = rng.choice(np.array(["A", "B", "C"]), n_offers, p=[0.3, 0.5, 0.2])
    grade_discount = np.select([grade == "A", grade == "B"], [1.0, 0.9], 0.8)
    ask = np.round(base[product] * grade_discount * rng.uniform(0.45, 0.8, n_offers), 2)
    ready = rng.integers(-4, 2, n_offers)
    offers = pl.DataFrame(
        {
            "offer_id": [f"O{k:07d}" for k in range(n_offers)],
            "cooperative_id": [f"C{k:05d}" for k in rng.integers(0, max(1, n_offers // 5), n_offers)],
            "product": products[product],
            "grade": grade,
            "quantity_kg": kg,
            "lat": np.round(lat, 5),
            "lon": np.round(lon, 5),
            "ready_date": [date + dt.timedelta(days=int(d)) for d in ready],
            "shelf_life_days": shelf[product] + rng.integers(0, 3, n_offers),
            "ask_per_kg": ask,
        }
    )

    # demand: every (region, product, tier); quantity follows population weight and product share
    weight = rng.pareto(1.5, n_regions) + 0.2
    share = np.bincount(product, weights=kg, minlength=n_products).astype(np.float64)
    r, p, t = (a.ravel() for a in np.meshgrid(np.arange(n_regions), np.arange(n_products), np.arange(tiers), indexing="ij"))
    raw = weight[r] * rng.uniform(0.5, 1.5, len(r)) / (tiers * weight.sum()) * share[p] * demand_ratio
    qty = np.maximum(np.rint(raw), 1).astype(np.int64)
    # prices in space: a region far from a product's farm towns pays the freight to bring it in
    # (spatial arbitrage keeps neighbours' prices close), plus a small local noise per row
    remote = np.empty((n_products, n_regions))
    for k in range(n_products):
        own = farm[town_start[k] : town_start[k + 1]]
        remote[k] = haversine_km(region_lat[:, None], region_lon[:, None], region_lat[own][None, :], region_lon[own][None, :]).min(axis=1)
    premium = np.where(t == 0, 1.15, 0.95) * (1 + price_noise * rng.standard_normal(len(r)))
    bid = base[p] * premium + freight_hint * remote[p, r]
    demand = pl.DataFrame(
        {
            "demand_id": [f"D{k:08d}" for k in range(len(r))],
            "region_id": np.asarray(region_ids)[r],
            "product": products[p],
            "min_grade": rng.choice(np.array(["A", "B", "C"]), len(r), p=[0.2, 0.4, 0.4]),
            "quantity_kg": qty,
            "price_per_kg": np.round(np.maximum(bid, 0.01), 2),
            "due_date": [date + dt.timedelta(days=int(d)) for d in rng.integers(1, 8, len(r))],
        }
    )
    return offers, demand
