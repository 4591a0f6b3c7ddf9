"""Frames read from the database are typed by their schema, whatever the rows hold and in whatever
order (the first hundred rows must not decide a column's type)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select

from api.db import Database, read_frame
from api.migrate import upgrade
from api.models import Offer


def test_nulls_and_zones_after_the_first_hundred_rows_keep_their_type(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db)
    now = dt.datetime.now(dt.UTC)
    rows = [
        Offer(
            offer_id=f"o{k:03d}",
            cooperative_id="c",
            product="apple",
            grade="A",
            quantity_kg=1,
            remaining_kg=1,
            lat=30.0,
            lon=110.0,
            ready_date=dt.date(2026, 11, 23),
            shelf_life_days=3,
            expires_on=dt.date(2026, 11, 26),
            ask_per_kg=1.0,
            status="open",
            created_at=now,
            withdrawn_at=now if k >= 120 else None,
        )
        for k in range(150)
    ]
    with db.write() as session:
        session.add_all(rows)
    schema: dict[str, pl.DataType] = {"offer_id": pl.String(), "withdrawn_at": pl.Datetime("us"), "ready_date": pl.Date()}
    with db.session() as session:
        frame = read_frame(session, select(Offer.offer_id, Offer.withdrawn_at, Offer.ready_date).order_by(Offer.offer_id), schema)
        assert frame.schema == pl.Schema(schema) and frame["withdrawn_at"].null_count() == 120
        empty = read_frame(session, select(Offer.offer_id, Offer.withdrawn_at, Offer.ready_date).where(Offer.lat > 99), schema)
        assert empty.schema == pl.Schema(schema) and empty.height == 0
        with pytest.raises(ValueError, match="the schema says"):
            read_frame(session, select(Offer.withdrawn_at, Offer.offer_id), {"offer_id": pl.String(), "withdrawn_at": pl.Datetime("us")})
    db.engine.dispose()
