"""A service cycle with the trucks freight model, on SQLite and PostgreSQL: the same rounds as
``harvest match``, the plan published is the one that priced the freight, and the books pay freight
what the tours cost."""

from __future__ import annotations

from decimal import Decimal

from flask.testing import FlaskClient

from tests.api.day import IN_PROCESS, offer, order, put_regions, run_cycle


def test_a_cycle_prices_freight_from_its_tours_and_pays_them(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    posted = client.post("/offers", json=[offer("apple", 6_000, 31.2, 1.0), offer("apple", 3_000, 29.3, 1.2)], headers=keys["coop_a"])
    assert posted.status_code == 201, posted.json
    wanted = [order("apple", 700, 30.2 + k / 10, 3.2) for k in range(6)] + [order("apple", 900, 29.5 - k / 10, 3.0) for k in range(4)]
    assert client.post("/orders", json=wanted, headers=keys["buyer"]).status_code == 201

    cycle = run_cycle(client, keys, params={**IN_PROCESS, "freight": "trucks", "freight_rounds": 2})
    summary = cycle["summary"]
    freight = summary["freight"]
    assert freight["model"] == "trucks" and 1 <= len(freight["rounds"]) <= 2
    assert summary["plan"]["status"] == "served"  # every kg sold is on a tour of every leg
    assert freight["realized_welfare"] <= freight["bound"]
    # the books: freight is paid what the tours cost, the platform carries the difference, all to the cent
    books = client.get(f"/cycles/{cycle['id']}/settlement", headers=keys["operator"]).json
    totals = books["totals"]
    assert Decimal(totals["freight"]) == Decimal(str(summary["settlement"]["freight"]))
    assert abs(float(totals["freight"]) - freight["routed"]["total"]) <= 0.011
    assert summary["settlement"]["balanced"] and "freight_gap" in summary["settlement"]
    lines = client.get(f"/cycles/{cycle['id']}/settlement?party=freight", headers=keys["operator"]).json
    if "items" in lines:
        assert sum(Decimal(x["net"]) for x in lines["items"] if x["party"] == "freight") == Decimal(totals["freight"])
