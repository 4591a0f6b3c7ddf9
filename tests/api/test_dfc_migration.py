"""Revision 0011 (the DFC exchange's tables) on SQLite and PostgreSQL: a 0010 database upgrades with its
offers and no DFC rows, takes a DFC link to an existing offer (and refuses one to no offer), and goes
back down."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api.db import Database
from api.migrate import upgrade


def test_a_0010_database_takes_the_dfc_tables_and_goes_back_down(database_url: str) -> None:
    from alembic import command

    from api.migrate import config

    db = Database(database_url)
    upgrade(db, "0010")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO offers (offer_id, cooperative_id, product, grade, quantity_kg, remaining_kg, lat, lon, ready_date, shelf_life_days, "
                "expires_on, ask_per_kg, status, created_at) VALUES ('o1', 'c', 'apple', 'A', 10, 10, 1, 1, '2026-11-20', 3, '2026-11-23', 1, 'open', :n)"
            ),
            {"n": now},
        )
    upgrade(db)
    link = text(
        "INSERT INTO dfc_offers (offer_id, version, catalog_item, supplied_product, product_type, unit, unit_value, offer, currency) "
        "VALUES (:o, '2.0.0', 'https://x.example/items/1', 'https://x.example/products/1', 'dfc-pt:apple', 'dfc-m:Kilogram', 5, :iri, 'dfc-m:Euro')"
    )
    with db.engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM dfc_offers")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM dfc_product_types")).scalar() == 0
        c.execute(link, {"o": "o1", "iri": "https://x.example/offers/" + "x" * 1500})  # IRIs are long
        c.execute(text("INSERT INTO dfc_product_types (product_type, seq, product) VALUES ('dfc-pt:apple', 1, 'apple')"))
    with pytest.raises(IntegrityError), db.engine.begin() as c:  # the service's SQLite connections check foreign keys too
        c.execute(link, {"o": "no-such-offer", "iri": "https://x.example/offers/2"})
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0010")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT offer_id, remaining_kg FROM offers")).all() == [("o1", 10)]
        tables = "SELECT name FROM sqlite_master WHERE type='table'" if db.dialect == "sqlite" else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
        assert not {"dfc_offers", "dfc_orders", "dfc_product_types"} & {r[0] for r in c.execute(text(tables))}
    upgrade(db)  # and up again
    db.engine.dispose()
