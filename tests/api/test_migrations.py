"""Schema migrations on SQLite and PostgreSQL: a database with the first revision's data upgrades to the
newest without losing what was accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from api.db import Database
from api.migrate import upgrade


def test_a_0001_database_with_data_upgrades(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db, "0001")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO api_keys (role, key_hash, created_at) VALUES ('buyer', 'h1', :n), ('operator', 'h2', :n)"), {"n": now})
        c.execute(text("INSERT INTO cycles (date, status, created_at) VALUES ('2026-11-20', 'done', :n), ('2026-11-21', 'running', :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO offers (offer_id, cooperative_id, product, grade, quantity_kg, remaining_kg, lat, lon, ready_date, "
                "shelf_life_days, ask_per_kg, status, created_at) VALUES ('o1', 'c', 'apple', 'A', 10, 5, 1, 1, '2026-11-20', 3, 1, 'expired', :n)"
            ),
            {"n": now},
        )
        c.execute(
            text(
                "INSERT INTO orders (order_id, buyer_key_id, product, min_grade, quantity_kg, lat, lon, max_price_per_kg, due_date, status, "
                "filled_kg, cycle_id, created_at) VALUES ('r1', 1, 'kale', 'A', 10, 1, 1, 2, '2026-11-22', 'filled', 10, 1, :n), "
                "('r2', 2, 'kale', 'A', 3, 1, 1, 2, '2026-11-22', 'pending', 0, NULL, :n)"
            ),
            {"n": now},
        )
    upgrade(db)
    with db.engine.connect() as c:
        assert c.execute(text("SELECT order_id, buyer_id FROM orders ORDER BY order_id")).all() == [("r1", "key-1"), ("r2", "key-2")]
        # the done cycle is its date's current result; the one the old runner left running failed, freeing the slot
        assert c.execute(text("SELECT status, current, active FROM cycles ORDER BY id")).all() == [("done", 1, None), ("failed", None, None)]
        assert c.execute(text("SELECT status, remaining_kg FROM offers")).all() == [("open", 5)]  # expiry is no longer stored
        assert sorted(r[0] for r in c.execute(text("SELECT product FROM products"))) == ["apple", "kale"]
        assert c.execute(text("SELECT order_id, buyer_id, filled_kg, unfilled_kg, status FROM order_fills")).all() == [("r1", "key-1", 10, 0, "filled")]
    upgrade(db)  # a second upgrade is a no-op
    db.engine.dispose()


@pytest.mark.slow
def test_processes_starting_together_migrate_one_after_the_other(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A serve and two workers started at once on a new database: each migrates or finds it migrated."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HARVEST_DATABASE_URL": database_url, "HARVEST_DATA_DIR": str(tmp_path)}
    started = [
        subprocess.Popen([sys.executable, "-m", "harvest", "db", "upgrade"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in started]
    assert [p.returncode for p in started] == [0, 0, 0], errors


def test_a_0002_database_upgrades_and_its_cycles_say_they_have_no_plan(database_url: str) -> None:
    """Cycles done before route planning keep their results; their route resources say why there are none."""
    from api import create_app
    from api.db import create_key

    db = Database(database_url)
    upgrade(db, "0002")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO cycles (date, status, current, rerun, attempt, summary, created_at) "
                "VALUES ('2026-11-20', 'done', 1, false, 1, '{\"welfare\": 1.0}', :n)"
            ),
            {"n": now},
        )
    db.engine.dispose()
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    planner = {"Authorization": "Bearer " + create_key(app.extensions["harvest_db"], "planner")}
    cycle = client.get("/cycles/1", headers=planner).json
    assert (cycle["status"], cycle["stage"], cycle["summary"]) == ("done", None, {"welfare": 1.0})
    for path in ("routes", "routes/FM.north.001", "unserved"):
        r = client.get(f"/cycles/1/{path}", headers=planner)
        assert r.status_code == 409 and "no transport plan" in r.json["detail"] and "re-run" in r.json["detail"]
    app.extensions["harvest_db"].engine.dispose()


def test_a_0003_database_keeps_its_orders_and_shows_their_fills(database_url: str) -> None:
    """Orders closed by a cycle before orders waited stay as they were told; pending ones wait as before."""
    from api import create_app
    from api.db import create_key

    db = Database(database_url)
    upgrade(db, "0003")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO api_keys (role, key_hash, buyer_id, created_at) VALUES ('buyer', 'h1', 'b-1', :n)"), {"n": now})
        c.execute(text("INSERT INTO cycles (date, status, current, rerun, attempt, created_at) VALUES ('2026-11-20', 'done', 1, false, 1, :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO orders (order_id, buyer_key_id, buyer_id, product, min_grade, quantity_kg, lat, lon, max_price_per_kg, due_date, "
                "status, filled_kg, cycle_id, region_id, clearing_price, reason, created_at) VALUES "
                "('r1', 1, 'b-1', 'kale', 'A', 10, 1, 1, 2, '2026-11-30', 'partly_filled', 6, 1, 'north', 1.5, 'row_shared_pro_rata', :n), "
                "('r2', 1, 'b-1', 'kale', 'A', 3, 1, 1, 2, '2026-11-30', 'pending', 0, NULL, NULL, NULL, NULL, :n)"
            ),
            {"n": now},
        )
        c.execute(
            text(
                "INSERT INTO order_fills (cycle_id, order_id, buyer_id, region_id, filled_kg, unfilled_kg, clearing_price, status, reason) "
                "VALUES (1, 'r1', 'b-1', 'north', 6, 4, 1.5, 'partly_filled', 'row_shared_pro_rata')"
            )
        )
    upgrade(db)
    with db.engine.connect() as c:
        assert c.execute(text("SELECT order_id, status, filled_kg, pickup_point_id FROM orders ORDER BY order_id")).all() == [
            ("r1", "partly_filled", 6, None),
            ("r2", "pending", 0, None),
        ]
    db.engine.dispose()
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    operator = {"Authorization": "Bearer " + create_key(app.extensions["harvest_db"], "operator")}
    closed = client.get("/orders/r1", headers=operator).json
    assert (closed["status"], closed["filled_kg"], closed["unfilled_kg"], closed["remaining_kg"]) == ("partly_filled", 6, 4, 0)
    assert closed["fills"] == [
        {"cycle_id": 1, "date": "2026-11-20", "filled_kg": 6, "clearing_price": "1.500000", "status": "partly_filled", "reason": "row_shared_pro_rata"}
    ]
    waiting = client.get("/orders/r2", headers=operator).json
    assert (waiting["status"], waiting["remaining_kg"], waiting["fills"]) == ("pending", 3, [])
    app.extensions["harvest_db"].engine.dispose()


def test_downgrading_0004_closes_orders_that_0003_would_take_whole(database_url: str) -> None:
    from alembic import command

    from api.migrate import config

    db = Database(database_url)
    upgrade(db)
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO api_keys (role, key_hash, buyer_id, created_at) VALUES ('buyer', 'h1', 'b-1', :n)"), {"n": now})
        rows = [("w", "pending", 4), ("n", "pending", 0), ("e", "expired", 2), ("f", "filled", 10)]
        for order_id, status, filled in rows:
            c.execute(
                text(
                    "INSERT INTO orders (order_id, buyer_key_id, buyer_id, product, min_grade, quantity_kg, lat, lon, max_price_per_kg, due_date, "
                    "pickup_point_id, status, filled_kg, created_at) VALUES (:o, 1, 'b-1', 'kale', 'A', 10, 1, 1, 2, '2026-11-30', 'pp', :s, :f, :n)"
                ),
                {"o": order_id, "s": status, "f": filled, "n": now},
            )
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT order_id, status FROM orders ORDER BY order_id")).all() == [
            ("e", "partly_filled"),
            ("f", "filled"),
            ("n", "pending"),
            ("w", "partly_filled"),
        ]
    db.engine.dispose()


def test_a_0005_database_keeps_its_offer_results_without_floors(database_url: str) -> None:
    """Offer results from before the safety net had no floor: 0 kg, no verdict, no subsidy; and the
    revision goes back down."""
    from alembic import command

    from api import create_app
    from api.db import create_key
    from api.migrate import config

    db = Database(database_url)
    upgrade(db, "0005")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO cycles (date, status, current, rerun, attempt, created_at) VALUES ('2026-11-20', 'done', 1, false, 1, :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO offers (offer_id, cooperative_id, product, grade, quantity_kg, remaining_kg, lat, lon, ready_date, shelf_life_days, "
                "expires_on, ask_per_kg, status, created_at) VALUES ('o1', 'c', 'apple', 'A', 10, 4, 1, 1, '2026-11-20', 3, '2026-11-23', 1, 'open', :n)"
            ),
            {"n": now},
        )
        c.execute(
            text(
                "INSERT INTO offer_results (cycle_id, offer_id, cooperative_id, sold_kg, unsold_kg, farm_gate_price, reason) "
                "VALUES (1, 'o1', 'c', 6, 4, 1.5, 'partly_sold')"
            )
        )
    db.engine.dispose()
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    operator = {"Authorization": "Bearer " + create_key(app.extensions["harvest_db"], "operator")}
    shown = client.get("/offers/o1", headers=operator).json["results"]
    assert shown == [
        {
            "cycle_id": 1,
            "date": "2026-11-20",
            "sold_kg": 6,
            "unsold_kg": 4,
            "farm_gate_price": "1.500000",
            "reason": "partly_sold",
            "floor_kg": 0,
            "floor_sold_kg": 0,
            "floor_met": None,
            "floor_reason": None,
            "floor_dual": None,
            "subsidy": "0.00",
        }
    ]
    assert client.get("/cooperatives/c", headers=operator).json["safety_net"] == [
        {"cycle_id": 1, "date": "2026-11-20", "offers": 1, "floor_kg": 0, "floor_sold_kg": 0, "subsidy": "0.00"},
    ]
    assert client.put("/cooperatives/c", json={"small": True}, headers=operator).status_code == 200
    migrated = app.extensions["harvest_db"]
    cfg = config(migrated)
    with migrated.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0005")
    with migrated.engine.connect() as c:
        assert c.execute(text("SELECT offer_id, sold_kg FROM offer_results")).all() == [("o1", 6)]
    migrated.engine.dispose()


def test_a_0006_database_keeps_its_offer_results_without_refund_rates_and_goes_back_down(database_url: str) -> None:
    """Offer results from before after-sales had no refund rate (null); a claim's tables go away on the
    way down, the results stay."""
    from alembic import command

    from api.migrate import config

    db = Database(database_url)
    upgrade(db, "0006")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO cycles (date, status, current, rerun, attempt, created_at) VALUES ('2026-11-20', 'done', 1, false, 1, :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO offer_results (cycle_id, offer_id, cooperative_id, sold_kg, unsold_kg, farm_gate_price, reason) "
                "VALUES (1, 'o1', 'c', 6, 4, 1.5, 'partly_sold')"
            )
        )
    upgrade(db)
    with db.engine.begin() as c:
        assert c.execute(text("SELECT offer_id, refund_rate FROM offer_results")).all() == [("o1", None)]
        c.execute(text("INSERT INTO api_keys (role, key_hash, buyer_id, created_at) VALUES ('buyer', 'h1', 'b-1', :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO orders (order_id, buyer_key_id, buyer_id, product, min_grade, quantity_kg, lat, lon, max_price_per_kg, "
                "due_date, status, filled_kg, created_at) VALUES ('r1', 1, 'b-1', 'kale', 'A', 10, 1, 1, 2, '2026-11-22', 'filled', 10, :n)"
            ),
            {"n": now},
        )
        c.execute(
            text(
                "INSERT INTO claims (claim_id, order_id, buyer_id, product, kg, reason, remedy, value_cents, status, rule, decided_at, "
                "decided_on, created_at) VALUES ('k1', 'r1', 'b-1', 'kale', 2, 'quality', 'return', 300, 'awaiting_return', "
                "'return_required', :n, '2026-11-20', :n)"
            ),
            {"n": now},
        )
        c.execute(
            text(
                "INSERT INTO claim_parts (claim_id, cycle_id, cooperative_id, demand_id, kg, clearing_price, amount_cents) "
                "VALUES ('k1', 1, 'c', 'd1', 2, 1.5, 300)"
            )
        )
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0006")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT offer_id, sold_kg FROM offer_results")).all() == [("o1", 6)]
        assert c.execute(text("SELECT order_id FROM orders")).all() == [("r1",)]
    upgrade(db)  # and up again
    db.engine.dispose()


def test_a_0008_database_upgrades_with_direct_lanes_and_no_crossdocks_and_goes_back_down(database_url: str) -> None:
    """Allocations from before crossdocks ran direct (``via`` null), their cycles were given none; a
    route may then be based at a crossdock with the longest id; and the revision goes back down."""
    from alembic import command

    from api.migrate import config

    db = Database(database_url)
    upgrade(db, "0008")
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO cycles (date, status, current, rerun, attempt, created_at) VALUES ('2026-11-20', 'done', 1, false, 1, :n)"), {"n": now})
        c.execute(
            text(
                "INSERT INTO allocations (cycle_id, offer_id, cooperative_id, demand_id, region_id, product, quantity_kg, distance_km, transit_days, "
                "cost_per_kg, ask_per_kg, price_per_kg, farm_gate_price, clearing_price) VALUES (1, 'o1', 'c', 'd1', 'north', 'kale', 6, 10, 1, "
                "0.1, 1, 2, 1.5, 1.9)"
            )
        )
    upgrade(db)
    route = text(
        "INSERT INTO plan_routes (cycle_id, route_id, leg, hub, problem_id, depot_id, depot_lat, depot_lon, vehicle_type, capacity_kg, stops, kg, "
        "load_factor, km, start_min, end_min, duration_min, cost) VALUES (1, :r, 'line_haul', :h, :h, :h, 30, 111.5, 'truck', 10, 1, 6, 0.6, 5, 0, 5, 5, 9)"
    )
    with db.engine.begin() as c:
        assert c.execute(text("SELECT offer_id, via FROM allocations")).all() == [("o1", None)]
        assert c.execute(text("SELECT id, crossdocks FROM cycles")).all() == [(1, None)]
        c.execute(route, {"r": "LH.X.long.001", "h": "crossdock:" + "x" * 64})
        c.execute(text("DELETE FROM plan_routes"))
        c.execute(route, {"r": "LH.X.x.001", "h": "crossdock:x"})
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0008")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT offer_id, quantity_kg FROM allocations")).all() == [("o1", 6)]
        assert c.execute(text("SELECT route_id, hub FROM plan_routes")).all() == [("LH.X.x.001", "crossdock:x")]
    upgrade(db)  # and up again
    db.engine.dispose()


def test_a_0009_database_gets_its_deliveries_summed_and_its_books_on_first_read(database_url: str) -> None:
    """The deliveries of stored cycles are summed from their allocations (per cycle, cooperative and
    product); no books are stored until they are read; and the revision goes back down."""
    from alembic import command

    from api.migrate import config

    db = Database(database_url)
    upgrade(db, "0009")
    now = dt.datetime.now(dt.UTC)
    lane = (
        "INSERT INTO allocations (cycle_id, offer_id, cooperative_id, demand_id, region_id, product, quantity_kg, distance_km, transit_days, "
        "cost_per_kg, ask_per_kg, price_per_kg, farm_gate_price, clearing_price) VALUES (:cycle, :offer, :coop, 'd1', 'north', :product, :kg, 10, 1, "
        "0.1, 1, 2, 1.5, 1.9)"
    )
    with db.engine.begin() as c:
        for date in ("2026-11-20", "2026-11-21"):
            cycle = "INSERT INTO cycles (date, status, current, rerun, attempt, created_at) VALUES (:d, 'done', 1, false, 1, :n)"
            c.execute(text(cycle), {"d": date, "n": now})
        lanes = ((1, "o1", "c1", "kale", 6), (1, "o2", "c1", "kale", 4), (1, "o3", "c1", "leek", 5), (2, "o4", "c1", "kale", 7), (2, "o5", "c2", "kale", 1))
        for cycle, offer_id, coop, product, kg in lanes:
            c.execute(text(lane), {"cycle": cycle, "offer": offer_id, "coop": coop, "product": product, "kg": kg})
    upgrade(db)
    with db.engine.connect() as c:
        assert c.execute(text("SELECT cycle_id, cooperative_id, product, kg FROM deliveries ORDER BY cycle_id, cooperative_id, product")).all() == [
            (1, "c1", "kale", 10),
            (1, "c1", "leek", 5),
            (2, "c1", "kale", 7),
            (2, "c2", "kale", 1),
        ]
        assert c.execute(text("SELECT count(*) FROM books")).scalar() == 0
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0009")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM allocations")).scalar() == 5
    upgrade(db)  # and up again
    db.engine.dispose()
