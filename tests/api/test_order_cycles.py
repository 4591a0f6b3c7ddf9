"""Orders over several cycles, on SQLite and PostgreSQL: filled over two cycles, cancelled between
cycles, expired, and a re-run of the first of two dates, with every order's and every offer's kg
accounted for."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.day import IN_PROCESS, date_of, offer, order, run_cycle


@pytest.fixture
def app_config() -> dict[str, Any]:
    """No route planning: these tests are about the orders' kg."""
    return {"PLAN_ROUTES": False}


def _order(client: FlaskClient, keys: dict, order_id: str) -> dict:
    r = client.get(f"/orders/{order_id}", headers=keys["buyer"])
    assert r.status_code == 200
    return dict(r.json)


def _remaining(client: FlaskClient, keys: dict, offer_id: str) -> int:
    return int(client.get(f"/offers/{offer_id}", headers=keys["coop_a"]).json["remaining_kg"])


def _post_offer(client: FlaskClient, keys: dict, kg: int, *, ready: int = 0) -> str:
    body = {**offer("apple", kg, 31.2, 1.0), "ready_date": date_of(ready)}
    return str(client.post("/offers", json=body, headers=keys["coop_a"]).json["offer_id"])


def _post_order(client: FlaskClient, keys: dict, kg: int, *, due: int = 3, product: str = "apple") -> str:
    body = {**order(product, kg, 31.5, 4.0), "due_date": date_of(due)}
    return str(client.post("/orders", json=body, headers=keys["buyer"]).json["order_id"])


@pytest.mark.usefixtures("regions")
def test_an_order_is_filled_over_two_cycles(client: FlaskClient, keys: dict) -> None:
    first_offer = _post_offer(client, keys, 60)
    wanted = _post_order(client, keys, 100)
    first = run_cycle(client, keys, 0, params=IN_PROCESS)
    after_one = _order(client, keys, wanted)
    assert (after_one["status"], after_one["filled_kg"], after_one["unfilled_kg"], after_one["remaining_kg"]) == ("pending", 60, 40, 40)
    assert after_one["reason"] == "row_shared_pro_rata" and after_one["cycle_id"] == first["id"]
    assert [(f["cycle_id"], f["date"], f["filled_kg"], f["status"]) for f in after_one["fills"]] == [(first["id"], date_of(0), 60, "pending")]
    assert first["summary"]["order_status"] == {"pending": 1}
    assert [o["order_id"] for o in client.get("/orders?status=pending", headers=keys["buyer"]).json["items"]] == [wanted]

    second_offer = _post_offer(client, keys, 50)
    second = run_cycle(client, keys, 1, params=IN_PROCESS)
    done = _order(client, keys, wanted)
    assert (done["status"], done["filled_kg"], done["unfilled_kg"], done["remaining_kg"], done["reason"]) == ("filled", 100, 0, 0, None)
    fills = done["fills"]
    assert [(f["cycle_id"], f["date"], f["filled_kg"], f["status"]) for f in fills] == [
        (first["id"], date_of(0), 60, "pending"),
        (second["id"], date_of(1), 40, "filled"),
    ]
    assert all(f["clearing_price"] is not None for f in fills) and done["cycle_id"] == second["id"]
    assert (_remaining(client, keys, first_offer), _remaining(client, keys, second_offer)) == (0, 10)
    assert client.get("/orders?status=pending", headers=keys["buyer"]).json["items"] == []
    assert [o["order_id"] for o in client.get("/orders?status=filled", headers=keys["buyer"]).json["items"]] == [wanted]
    assert [c["id"] for c in client.get("/cycles", headers=keys["buyer"]).json["items"]] == [second["id"], first["id"]]


@pytest.mark.usefixtures("regions")
def test_a_pending_order_cancelled_between_cycles_keeps_its_fill(client: FlaskClient, keys: dict) -> None:
    _post_offer(client, keys, 60)
    wanted = _post_order(client, keys, 100)
    first = run_cycle(client, keys, 0, params=IN_PROCESS)
    cancelled = client.post(f"/orders/{wanted}/cancel", headers=keys["buyer"])
    assert cancelled.status_code == 200
    body = cancelled.json
    assert (body["status"], body["filled_kg"], body["unfilled_kg"], body["remaining_kg"]) == ("cancelled", 60, 40, 0)
    again = client.post(f"/orders/{wanted}/cancel", headers=keys["buyer"])
    assert again.status_code == 409 and "cancelled" in again.json["detail"]

    later = _post_offer(client, keys, 50)
    second = run_cycle(client, keys, 1, params=IN_PROCESS)
    assert second["summary"]["allocated_kg"] == 0 and second["summary"]["orders"] == 0  # the rest was not taken
    assert _remaining(client, keys, later) == 50
    shown = _order(client, keys, wanted)
    assert (shown["status"], shown["filled_kg"]) == ("cancelled", 60)
    assert [(f["cycle_id"], f["filled_kg"]) for f in shown["fills"]] == [(first["id"], 60)]
    # a re-run of the first date may fill again what it filled, never the cancelled rest
    rerun = run_cycle(client, keys, 0, params=IN_PROCESS, rerun=True)
    shown = _order(client, keys, wanted)
    assert (shown["status"], shown["filled_kg"], [(f["cycle_id"], f["filled_kg"]) for f in shown["fills"]]) == ("cancelled", 60, [(rerun["id"], 60)])


@pytest.mark.usefixtures("regions")
def test_orders_expire_when_their_due_date_passes_while_they_wait(client: FlaskClient, keys: dict) -> None:
    _post_offer(client, keys, 30, ready=-2)
    partly = _post_order(client, keys, 100, due=-1)
    never = _post_order(client, keys, 5, due=-1, product="kale")
    last_chance = _post_order(client, keys, 5, due=0, product="kale")
    early = run_cycle(client, keys, -2, params=IN_PROCESS)
    shown = _order(client, keys, partly)
    assert (shown["status"], shown["filled_kg"], shown["remaining_kg"]) == ("pending", 30, 70)
    assert (_order(client, keys, never)["status"], _order(client, keys, never)["reason"]) == ("pending", "no_feasible_lane")

    today = run_cycle(client, keys, 0, params=IN_PROCESS)
    assert today["summary"]["orders"] == 1  # only the order due today: the others' due dates have passed
    assert (early["summary"]["orders_expired"], today["summary"]["orders_expired"]) == (0, 2)
    for order_id, filled in ((partly, 30), (never, 0)):
        shown = _order(client, keys, order_id)
        assert (shown["status"], shown["reason"], shown["filled_kg"], shown["remaining_kg"]) == ("expired", "due_date_passed", filled, 0)
        assert [f["cycle_id"] for f in shown["fills"]] == [early["id"]]
        assert client.post(f"/orders/{order_id}/cancel", headers=keys["buyer"]).status_code == 409
    # due on the cycle date: this cycle was its last, and nothing reaches it in time
    shown = _order(client, keys, last_chance)
    assert (shown["status"], shown["reason"], shown["remaining_kg"]) == ("unfilled", "no_feasible_lane", 0)
    assert [o["order_id"] for o in client.get("/orders?status=expired", headers=keys["buyer"]).json["items"]] == sorted([partly, never])


@pytest.mark.usefixtures("regions")
def test_a_rerun_of_the_first_of_two_dates_gives_back_its_fills(client: FlaskClient, keys: dict) -> None:
    """An order filled over two dates, then the first re-run with a new order competing for the same
    offer: the re-run may fill again only what the first run filled, and the rest waits."""
    first_offer = _post_offer(client, keys, 60)
    wanted = _post_order(client, keys, 100)
    run_cycle(client, keys, 0, params=IN_PROCESS)
    second_offer = _post_offer(client, keys, 40, ready=1)  # not open on the first date
    second = run_cycle(client, keys, 1, params=IN_PROCESS)
    assert _order(client, keys, wanted)["status"] == "filled"
    rival = _post_order(client, keys, 50)

    rerun = run_cycle(client, keys, 0, params=IN_PROCESS, rerun=True)
    assert rerun["summary"]["demand_kg"] == 60 + 50  # the first run's 60 kg given back, and the new order
    shown, other = _order(client, keys, wanted), _order(client, keys, rival)
    again = shown["fills"][0]["filled_kg"]
    assert [(f["cycle_id"], f["date"]) for f in shown["fills"]] == [(rerun["id"], date_of(0)), (second["id"], date_of(1))]
    assert 0 < again < 60 and again + other["filled_kg"] == 60
    assert (shown["status"], shown["filled_kg"], shown["remaining_kg"]) == ("pending", again + 40, 60 - again)
    assert (other["status"], other["remaining_kg"]) == ("pending", 50 - other["filled_kg"])
    _conserved(client, keys, [wanted, rival], {first_offer: 60, second_offer: 40})

    third_offer = _post_offer(client, keys, 100)
    third = run_cycle(client, keys, 2, params=IN_PROCESS)
    assert third["summary"]["demand_kg"] == (60 - again) + (50 - other["filled_kg"])  # what was left, never the whole orders
    for order_id in (wanted, rival):
        assert _order(client, keys, order_id)["status"] == "filled"
    _conserved(client, keys, [wanted, rival], {first_offer: 60, second_offer: 40, third_offer: 100})


def _conserved(client: FlaskClient, keys: dict, orders: list[str], offers: dict[str, int]) -> None:
    """Every order's current fills add up to its filled kg, never above its kg; every offer's current
    sales add up to what it no longer has."""
    for order_id in orders:
        shown = _order(client, keys, order_id)
        assert sum(f["filled_kg"] for f in shown["fills"]) == shown["filled_kg"] <= shown["quantity_kg"]
        assert shown["filled_kg"] + shown["unfilled_kg"] == shown["quantity_kg"]
    for offer_id, kg in offers.items():
        shown = client.get(f"/offers/{offer_id}", headers=keys["coop_a"]).json
        assert sum(r["sold_kg"] for r in shown["results"]) == kg - shown["remaining_kg"]
    cycles = [c for c in client.get("/cycles", headers=keys["operator"]).json["items"] if c["current"]]
    sold = sum(c["summary"]["allocated_kg"] for c in cycles)
    assert sold == sum(_order(client, keys, o)["filled_kg"] for o in orders)
