"""Typed frames for tests: offers, demand rows and hubs from partial rows with plain defaults."""

from __future__ import annotations

import datetime as dt

import polars as pl

DATE = dt.date(2026, 11, 23)


def offers_frame(rows: list[dict]) -> pl.DataFrame:
    """Typed offers from partial rows; unspecified fields get plain defaults."""
    defaults = {
        "cooperative_id": "coop",
        "product": "apple",
        "grade": "A",
        "quantity_kg": 100,
        "lat": 30.0,
        "lon": 110.0,
        "ready_date": DATE,
        "shelf_life_days": 10,
        "ask_per_kg": 1.0,
    }
    full = [{"offer_id": f"o{k}", **defaults, **r} for k, r in enumerate(rows)]
    return pl.DataFrame(full, schema=_OFFER_SCHEMA)


def demand_frame(rows: list[dict]) -> pl.DataFrame:
    defaults = {
        "region_id": "r0",
        "product": "apple",
        "min_grade": "C",
        "quantity_kg": 100,
        "price_per_kg": 3.0,
        "due_date": DATE + dt.timedelta(days=5),
    }
    full = [{"demand_id": f"d{k}", **defaults, **r} for k, r in enumerate(rows)]
    return pl.DataFrame(full, schema=_DEMAND_SCHEMA)


def hubs_frame(hubs: dict[str, tuple[float, float]]) -> pl.DataFrame:
    ids = sorted(hubs)
    return pl.DataFrame(
        {
            "region_id": ids,
            "hub_lat": [float(hubs[k][0]) for k in ids],
            "hub_lon": [float(hubs[k][1]) for k in ids],
            "hub_derived": [False] * len(ids),
        }
    )


_OFFER_SCHEMA = {
    "offer_id": pl.String,
    "cooperative_id": pl.String,
    "product": pl.String,
    "grade": pl.String,
    "quantity_kg": pl.Int64,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "ready_date": pl.Date,
    "shelf_life_days": pl.Int64,
    "ask_per_kg": pl.Float64,
}
_DEMAND_SCHEMA = {
    "demand_id": pl.String,
    "region_id": pl.String,
    "product": pl.String,
    "min_grade": pl.String,
    "quantity_kg": pl.Int64,
    "price_per_kg": pl.Float64,
    "due_date": pl.Date,
}
