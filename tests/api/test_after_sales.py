"""After-sales over HTTP, on SQLite and PostgreSQL: claims and the rule chain at intake, the operator's
decisions, the cooperatives' responses, buyer credit and cooperative scorecards (Beta reputations with
forgetting), quality feeding the matching, and the cycle's settlement with refunds; isolation for every
resource and bad bodies naming the field. Small days: a few orders and offers, cycles without routes."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from flask.testing import FlaskClient

from api.after_sales import AfterSalesConfig, read_after_sales
from harvestmatch.errors import ParameterError
from matcher.claims import cents_shared, pro_rata
from matcher.scores import OUTCOME_SCHEMA, history, weigh
from tests.api.day import IN_PROCESS, TODAY, date_of, offer, order, run_cycle


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """No route planning (these tests are about money and scores); parametrize indirectly to add settings."""
    return {"PLAN_ROUTES": False, **getattr(request, "param", {})}


def _offer(client: FlaskClient, headers: dict, kg: int, lat: float, *, ask: float = 1.0, day: int = 0) -> str:
    made = client.post("/offers", json={**offer("apple", kg, lat, ask), "ready_date": date_of(day)}, headers=headers)
    assert made.status_code == 201, made.json
    return str(made.json["offer_id"])


def _orders(client: FlaskClient, headers: dict, n: int, kg: int, lat: float = 31.5, *, price: float = 3.0, due: int = 3) -> list[str]:
    made = client.post("/orders", json=[{**order("apple", kg, lat, price), "due_date": date_of(due)}] * n, headers=headers)
    assert made.status_code == 201, made.json
    return [o["order_id"] for o in made.json["items"]]


def _claim(client: FlaskClient, headers: dict, order_id: str, kg: int, *, reason: str = "quality", remedy: str = "refund_only", **extra: Any) -> Any:
    return client.post("/claims", json={"order_id": order_id, "kg": kg, "reason": reason, "remedy": remedy, **extra}, headers=headers)


def _decide(client: FlaskClient, keys: dict, claim_id: str, decision: str, bearer: str | None = None, **extra: Any) -> dict:
    body = {"decision": decision, **({"bearer": bearer} if bearer else {}), **extra}
    r = client.post(f"/claims/{claim_id}/decision", json=body, headers=keys["operator"])
    assert r.status_code == 200, r.json
    return dict(r.json)


def _value(client: FlaskClient, headers: dict, order_id: str, kg: int) -> str:
    """kg at the order's (single) clearing price, to the cent."""
    fills = client.get(f"/orders/{order_id}", headers=headers).json["fills"]
    assert len(fills) == 1
    return str((kg * Decimal(fills[0]["clearing_price"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _lines(body: dict) -> dict[tuple[str, str], dict]:
    return {(line["party"], line["party_id"]): line for line in body["lines"]}


def _balanced(body: dict) -> None:
    """The published lines sum to zero to the cent, and each line's net is its own parts."""
    assert sum((Decimal(line["net"]) for line in body["lines"]), Decimal(0)) == 0
    assert body["totals"]["balanced"] is True


# ---------------------------------------------------------------------------------------------------
# the rule chain


@pytest.mark.usefixtures("regions")
def test_an_honest_buyers_refund_only_is_approved_at_once(client: FlaskClient, keys: dict) -> None:
    _offer(client, keys["coop_a"], 1000, 31.2)
    mine = _orders(client, keys["buyer"], 3, 10)
    cycle = run_cycle(client, keys, 0, params=IN_PROCESS)
    credit = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert (credit["good"], credit["bad"], credit["score"], credit["instant_refund_only"]) == (3.0, 0.0, 0.8, True)
    assert credit["history"] == [{"date": date_of(0), "good": 3.0, "bad": 0.0, "score": 0.8}]

    body = {"order_id": mine[0], "kg": 4, "reason": "quality", "remedy": "refund_only", "evidence": "https://photos.example/lot-9"}
    idem = {**keys["buyer"], "Idempotency-Key": "claim-1"}
    made = client.post("/claims", json=body, headers=idem)
    assert made.status_code == 201 and made.headers["Location"] == f"/claims/{made.json['claim_id']}"
    claim = made.json
    assert (claim["status"], claim["bearer"], claim["rule"], claim["kg"], claim["buyer_id"]) == (
        "approved",
        "protection_fund",
        "instant_refund_only",
        4,
        "buyer-1",
    )
    assert claim["value"] == _value(client, keys["buyer"], mine[0], 4)
    assert [(p["cycle_id"], p["cooperative_id"], p["kg"], p["value"]) for p in claim["parts"]] == [(cycle["id"], "coop-a", 4, claim["value"])]
    [decision] = claim["decisions"]
    assert (decision["seq"], decision["status"], decision["rule"], decision["by"]) == (1, "approved", "instant_refund_only", "rules")
    assert "credit score 0.8000" in decision["note"] and "decided_by" not in decision

    # a retry replays the answer and files nothing more; the same key with another body is refused
    again = client.post("/claims", json=body, headers=idem)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true" and again.json == claim
    assert client.post("/claims", json={**body, "kg": 5}, headers=idem).status_code == 422
    assert [c["claim_id"] for c in client.get("/claims", headers=keys["buyer"]).json["items"]] == [claim["claim_id"]]
    # the operator sees who decided
    seen = client.get(f"/claims/{claim['claim_id']}", headers=keys["operator"]).json
    assert seen["decisions"][0]["decided_by"] is None and seen["buyer_id"] == "buyer-1"

    # a return waits for the goods, whatever the credit
    back = _claim(client, keys["buyer"], mine[1], 2, reason="damaged", remedy="return").json
    assert (back["status"], back["bearer"], back["rule"]) == ("awaiting_return", None, "return_required")


@pytest.mark.parametrize("app_config", [{"AFTER_SALES_INSTANT_CAP": 5}], indirect=True)
@pytest.mark.usefixtures("regions")
def test_a_claim_above_the_instant_cap_needs_evidence(client: FlaskClient, keys: dict) -> None:
    _offer(client, keys["coop_a"], 30, 31.2)  # as much as the orders: they pay their bid, 3.0
    mine = _orders(client, keys["buyer"], 3, 10)
    run_cycle(client, keys, 0, params=IN_PROCESS)
    assert _value(client, keys["buyer"], mine[0], 4) == "12.00"
    big = _claim(client, keys["buyer"], mine[0], 4).json
    assert (big["status"], big["rule"], big["bearer"]) == ("needs_evidence", "evidence_required", None)
    assert "instant cap 5.00" in big["decisions"][0]["note"]
    small = _claim(client, keys["buyer"], mine[1], 1).json
    assert (small["status"], small["rule"]) == ("approved", "instant_refund_only")

    # the waiting claim takes evidence from its buyer (not from another, not once decided); the operator decides
    given = client.post(f"/claims/{big['claim_id']}/evidence", json={"evidence": "photos: https://example.org/crates"}, headers=keys["buyer"])
    assert given.status_code == 200, given.json
    detail = given.json
    assert (detail["status"], detail["evidence"]) == ("needs_evidence", "photos: https://example.org/crates")
    assert [(d["rule"], d["by"]) for d in detail["decisions"]] == [("evidence_required", "rules"), ("evidence_given", "buyer")]
    assert detail["decided_on"] == big["decided_on"]
    assert client.post(f"/claims/{big['claim_id']}/evidence", json={"evidence": "x"}, headers=keys["buyer_2"]).status_code == 404
    assert client.post(f"/claims/{big['claim_id']}/evidence", json={"evidence": "x"}, headers=keys["operator"]).status_code == 403
    bad = client.post(f"/claims/{big['claim_id']}/evidence", json={"evidence": "", "photo": 1}, headers=keys["buyer"])
    assert bad.status_code == 422 and {e["path"] for e in bad.json["errors"]} >= {"evidence", "photo"}
    assert client.post(f"/claims/{small['claim_id']}/evidence", json={"evidence": "late"}, headers=keys["buyer"]).status_code == 409
    approved = _decide(client, keys, big["claim_id"], "approved", "cooperative")
    assert approved["status"] == "approved"


@pytest.mark.parametrize("app_config", [{"AFTER_SALES_FORGETTING": 0.5}], indirect=True)
@pytest.mark.usefixtures("regions")
def test_an_abusive_buyer_loses_instant_approval_and_regains_it_as_forgetting_discounts_its_rejections(client: FlaskClient, keys: dict) -> None:
    """Ten orders, claims on most of them. The second rejection (max_instant_rejections = 2) stops
    instant approval although the score (9/12 = 0.75) would allow it; one cycle date later, at
    forgetting 0.5, the rejections weigh 0.5 each (no longer recent) and instant approval is back."""
    _offer(client, keys["coop_a"], 2000, 31.2)
    mine = _orders(client, keys["buyer"], 10, 10)
    run_cycle(client, keys, 0, params=IN_PROCESS)
    first = _claim(client, keys["buyer"], mine[0], 5).json
    assert (first["status"], first["rule"]) == ("approved", "instant_refund_only")
    # found unreasonable: the buyer keeps the refund, the fund bears it, the buyer's credit pays
    found = _decide(client, keys, first["claim_id"], "unreasonable", note="a photo of another lot")
    assert (found["status"], found["bearer"], found["rule"]) == ("unreasonable", "protection_fund", "operator")
    assert [(d["seq"], d["status"], d["rule"], d["by"]) for d in found["decisions"]] == [
        (1, "approved", "instant_refund_only", "rules"),
        (2, "unreasonable", "operator", "operator"),
    ]
    assert found["decisions"][1]["decided_by"].startswith("key:") and found["decisions"][1]["note"] == "a photo of another lot"
    one = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert (one["good"], one["bad"], one["recent_rejections"], one["instant_refund_only"]) == (9.0, 1.0, 1, True)

    second = _claim(client, keys["buyer"], mine[1], 5, remedy="return").json
    assert second["status"] == "awaiting_return"
    assert _decide(client, keys, second["claim_id"], "rejected")["status"] == "rejected"
    two = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert (two["good"], two["bad"], two["score"], two["recent_rejections"], two["instant_refund_only"]) == (8.0, 2.0, 0.75, 2, False)
    third = _claim(client, keys["buyer"], mine[2], 5).json
    assert (third["status"], third["rule"], third["bearer"]) == ("needs_evidence", "evidence_required", None)
    assert "recent rejections 2 (instant needs fewer than 2)" in third["decisions"][0]["note"]

    # final decisions stay final; only an approved refund can be found unreasonable
    assert (
        client.post(f"/claims/{second['claim_id']}/decision", json={"decision": "approved", "bearer": "freight"}, headers=keys["operator"]).status_code == 409
    )
    refused = client.post(f"/claims/{third['claim_id']}/decision", json={"decision": "unreasonable"}, headers=keys["operator"])
    assert refused.status_code == 409 and "only an approved refund" in refused.json["detail"]

    # the next cycle date: both rejections weigh 0.5, no longer recent; the score is (8 * 0.5 + 1) / (8 * 0.5 + 1 + 2)
    _orders(client, keys["buyer_2"], 1, 10)
    run_cycle(client, keys, 1, params=IN_PROCESS)
    later = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert (later["good"], later["bad"], later["recent_rejections"], later["instant_refund_only"]) == (4.0, 1.0, 0, True)
    assert later["score"] == pytest.approx(5 / 7) and later["as_of"] == date_of(1)
    assert [(h["date"], h["good"], h["bad"]) for h in later["history"]] == [(date_of(0), 8.0, 2.0), (date_of(1), 4.0, 1.0)]
    fourth = _claim(client, keys["buyer"], mine[3], 5).json
    assert (fourth["status"], fourth["rule"]) == ("approved", "instant_refund_only")
    # the claims so far, by status
    waiting = client.get("/claims?status=needs_evidence", headers=keys["buyer"]).json["items"]
    assert [c["claim_id"] for c in waiting] == [third["claim_id"]]


# ---------------------------------------------------------------------------------------------------
# quality feeds the matching


@pytest.mark.usefixtures("regions")
def test_upheld_quality_claims_lower_a_cooperatives_scorecard_and_its_next_farm_gate_price(client: FlaskClient, keys: dict) -> None:
    """Day 0: coop-a supplies the north, coop-b the south. 40 of coop-a's 100 kg are upheld as a
    quality fault. Day 1, refund_adjust on: identical offers from both; coop-a's farm-gate price is
    lower by the difference of their expected refund rates times the bid."""
    _offer(client, keys["coop_a"], 100, 31.2)
    _offer(client, keys["coop_b"], 100, 29.2)
    [north] = _orders(client, keys["buyer"], 1, 100, 31.5, price=4.0)
    _orders(client, keys["buyer_2"], 1, 100, 29.5, price=4.0)
    first = run_cycle(client, keys, 0, params={**IN_PROCESS, "refund_adjust": True})
    assert first["summary"]["quality"]["offers_with_refund_rate"] == 0  # no history yet: no rate

    claim = _claim(client, keys["buyer"], north, 40, remedy="return", evidence="graded B at the pickup point").json
    assert [(p["cooperative_id"], p["kg"]) for p in claim["parts"]] == [("coop-a", 40)]
    upheld = _decide(client, keys, claim["claim_id"], "approved", "cooperative", note="lab report 7781")
    assert (upheld["status"], upheld["bearer"], upheld["rule"]) == ("approved", "cooperative", "operator")

    a = client.get("/cooperatives/coop-a/scorecard", headers=keys["coop_a"]).json
    b = client.get("/cooperatives/coop-b/scorecard", headers=keys["operator"]).json
    [apple_a], [apple_b] = a["products"], b["products"]
    assert (apple_a["product"], apple_a["good_kg"], apple_a["bad_kg"]) == ("apple", 60.0, 40.0)
    assert apple_a["score"] == pytest.approx(61 / 102) and apple_a["refund_rate"] == pytest.approx(41 / 102)
    assert (apple_b["good_kg"], apple_b["bad_kg"]) == (100.0, 0.0) and apple_b["score"] == pytest.approx(101 / 102)
    assert apple_a["history"] == [{"date": date_of(0), "good_kg": 60.0, "bad_kg": 40.0, "score": apple_a["score"]}]

    offer_a = _offer(client, keys["coop_a"], 100, 31.2, day=1)
    offer_b = _offer(client, keys["coop_b"], 100, 31.2, day=1)
    _orders(client, keys["buyer"], 1, 500, 31.5, price=4.0, due=4)
    second = run_cycle(client, keys, 1, params={**IN_PROCESS, "refund_adjust": True})
    assert second["summary"]["quality"]["offers_with_refund_rate"] == 2
    price_a = client.get(f"/offers/{offer_a}", headers=keys["coop_a"]).json["results"][0]
    price_b = client.get(f"/offers/{offer_b}", headers=keys["coop_b"]).json["results"][0]
    assert price_a["sold_kg"] == price_b["sold_kg"] == 100
    assert float(price_a["farm_gate_price"]) < float(price_b["farm_gate_price"])
    # demand is short of nothing: each keeps bid * (1 - rate) less its freight, so the gap is the rates' difference times the bid
    assert float(price_b["farm_gate_price"]) - float(price_a["farm_gate_price"]) == pytest.approx(4.0 * (41 / 102 - 1 / 102), abs=1e-3)

    # its books: the platform holds the reserve against the expected refunds, and they balance to the cent
    books = client.get(f"/cycles/{second['id']}/settlement", headers=keys["operator"]).json
    _balanced(books)
    assert Decimal(books["totals"]["reserve"]) > 0
    assert books["totals"]["reserve"] == second["summary"]["settlement"]["reserve"]
    assert books["totals"]["cooperatives_received"] == second["summary"]["settlement"]["cooperatives_received"]


# ---------------------------------------------------------------------------------------------------
# settlement


@pytest.fixture
def shared(client: FlaskClient, keys: dict, regions: None) -> dict:
    """Day 0: one north demand row supplied by two cooperatives (coop-a 60 kg, coop-b 40 kg) for
    buyer-1's order of 80 kg and buyer-2's of 20; in the south, coop-b alone supplies buyer-2's order of
    30 kg. Everything sells and fills."""
    _offer(client, keys["coop_a"], 60, 31.2)
    _offer(client, keys["coop_b"], 40, 31.3)
    _offer(client, keys["coop_b"], 30, 29.2)
    [big] = _orders(client, keys["buyer"], 1, 80)
    [small] = _orders(client, keys["buyer_2"], 1, 20)
    [south] = _orders(client, keys["buyer_2"], 1, 30, 29.5)
    cycle = run_cycle(client, keys, 0, params=IN_PROCESS)
    return {"cycle": cycle, "big": big, "small": small, "south": south}


def test_a_refund_found_unreasonable_is_borne_by_the_protection_fund_not_the_producer(client: FlaskClient, keys: dict, shared: dict) -> None:
    cycle_id = shared["cycle"]["id"]
    # a new buyer (one filled order: score 2/3) waits for evidence; the claim is split 30/20 by the kg each cooperative shipped to the row
    claim = _claim(client, keys["buyer"], shared["big"], 50, evidence="https://photos.example/1").json
    assert (claim["status"], claim["rule"]) == ("needs_evidence", "evidence_required")
    assert [(p["cooperative_id"], p["kg"]) for p in claim["parts"]] == [("coop-a", 30), ("coop-b", 20)]
    assert sum(Decimal(p["value"]) for p in claim["parts"]) == Decimal(claim["value"]) == Decimal(_value(client, keys["buyer"], shared["big"], 50))
    value = Decimal(claim["value"])
    freight_claim = _claim(client, keys["buyer"], shared["big"], 10, reason="damaged", remedy="return").json
    _decide(client, keys, freight_claim["claim_id"], "approved", "freight")

    before = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    _balanced(before)
    assert Decimal(before["totals"]["refunds"]) == Decimal(freight_claim["value"])  # the waiting claim is not paid

    _decide(client, keys, claim["claim_id"], "approved", "cooperative", note="proven: bruised on the tree")
    upheld = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    _balanced(upheld)
    lines = _lines(upheld)
    parts = {p["cooperative_id"]: Decimal(p["value"]) for p in claim["parts"]}
    assert Decimal(lines[("cooperative", "coop-a")]["refunds"]) == parts["coop-a"]
    assert Decimal(lines[("cooperative", "coop-b")]["refunds"]) == parts["coop-b"]
    assert Decimal(lines[("buyer", "buyer-1")]["refunds"]) == value + Decimal(freight_claim["value"])
    assert Decimal(lines[("freight", "freight")]["refunds"]) == Decimal(freight_claim["value"])

    found = _decide(client, keys, claim["claim_id"], "unreasonable", note="the photos show another farm's crates")
    assert (found["status"], found["bearer"]) == ("unreasonable", "protection_fund")
    after = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    _balanced(after)
    lines = _lines(after)
    assert Decimal(lines[("cooperative", "coop-a")]["refunds"]) == Decimal(lines[("cooperative", "coop-b")]["refunds"]) == 0
    assert Decimal(lines[("platform", "platform")]["refunds"]) == value == Decimal(after["totals"]["protection_fund"])
    assert Decimal(lines[("buyer", "buyer-1")]["refunds"]) == value + Decimal(freight_claim["value"])  # the buyer keeps its refund
    assert Decimal(after["totals"]["refunds"]) == value + Decimal(freight_claim["value"])
    credit = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert (credit["good"], credit["bad"]) == (0.0, 1.0)  # its one order now has a bad claim


def test_each_party_sees_its_own_settlement_line(client: FlaskClient, keys: dict, shared: dict) -> None:
    cycle_id = shared["cycle"]["id"]
    every = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    _balanced(every)
    lines = _lines(every)
    for who, party, party_id in (
        ("coop_a", "cooperative", "coop-a"),
        ("coop_b", "cooperative", "coop-b"),
        ("buyer", "buyer", "buyer-1"),
        ("buyer_2", "buyer", "buyer-2"),
    ):
        mine = client.get(f"/cycles/{cycle_id}/settlement", headers=keys[who])
        assert mine.status_code == 200 and set(mine.json) == {"cycle_id", "date", "lines"}
        assert mine.json["lines"] == [lines[(party, party_id)]]
    assert all(isinstance(line[c], str) for line in every["lines"] for c in ("gross", "refunds", "subsidy", "reserve", "net"))
    assert Decimal(lines[("buyer", "buyer-1")]["gross"]) == Decimal(every["totals"]["buyers_paid"]) - Decimal(lines[("buyer", "buyer-2")]["gross"])
    assert client.get(f"/cycles/{cycle_id}/settlement", headers=keys["planner"]).status_code == 403
    assert client.get("/cycles/999/settlement", headers=keys["operator"]).status_code == 404

    # a cycle that did not concern a party is not found for it
    _offer(client, keys["coop_a"], 10, 31.2, day=1)
    _orders(client, keys["buyer"], 1, 10, due=4)
    other = run_cycle(client, keys, 1, params=IN_PROCESS)
    for who in ("coop_b", "buyer_2"):
        refused = client.get(f"/cycles/{other['id']}/settlement", headers=keys[who])
        assert refused.status_code == 404 and refused.json["title"] == "Not Found"


# ---------------------------------------------------------------------------------------------------
# isolation


def test_every_after_sales_resource_keeps_parties_apart(client: FlaskClient, keys: dict, shared: dict) -> None:
    big = shared["big"]
    # another buyer's order is not found, as it is on GET /orders/{id}
    theirs = _claim(client, keys["buyer_2"], big, 5)
    assert theirs.status_code == 404 and theirs.json == client.get(f"/orders/{big}", headers=keys["buyer_2"]).json
    for who in ("coop_a", "operator", "planner"):
        assert _claim(client, keys[who], big, 5).status_code == 403
    shared_claim = _claim(client, keys["buyer"], big, 5).json  # on the north row: both cooperatives
    south_claim = _claim(client, keys["buyer_2"], shared["south"], 5).json  # coop-b's alone
    assert [(p["cooperative_id"], p["kg"]) for p in shared_claim["parts"]] == [("coop-a", 3), ("coop-b", 2)]
    assert [(p["cooperative_id"], p["kg"]) for p in south_claim["parts"]] == [("coop-b", 5)]
    cid, sid = shared_claim["claim_id"], south_claim["claim_id"]

    # lists: a buyer its own, a cooperative those on its sales, the operator all (filters by buyer, cooperative, status)
    def ids(path: str, who: str) -> list[str]:
        r = client.get(path, headers=keys[who])
        assert r.status_code == 200, r.json
        return [c["claim_id"] for c in r.json["items"]]

    assert ids("/claims", "buyer") == [cid] and ids("/claims", "buyer_2") == [sid]
    assert ids("/claims", "coop_a") == [cid] and ids("/claims", "coop_b") == sorted([cid, sid])
    assert ids("/claims", "operator") == sorted([cid, sid]) and ids("/claims?buyer_id=buyer-2", "operator") == [sid]
    assert ids("/claims?cooperative_id=coop-a", "operator") == [cid] and ids("/claims?cooperative_id=c%00x", "operator") == []
    assert ids("/claims?status=rejected", "operator") == [] and ids("/claims?buyer_id=buyer-2", "buyer") == [cid]  # a buyer's filter of its own
    assert all(c["buyer_id"] is None for c in client.get("/claims", headers=keys["coop_b"]).json["items"])
    assert client.get("/claims", headers=keys["planner"]).status_code == 403
    first = client.get("/claims?limit=1", headers=keys["operator"]).json
    assert len(first["items"]) == 1 and first["next"] == first["items"][0]["claim_id"]
    assert ids(f"/claims?limit=1&after={first['next']}", "operator") == sorted([cid, sid])[1:]

    # one claim: its buyer, the operator, a cooperative it names (its own part only, not the buyer); no one else
    assert client.get(f"/claims/{cid}", headers=keys["buyer_2"]).status_code == 404
    assert client.get(f"/claims/{sid}", headers=keys["buyer"]).status_code == 404
    assert client.get(f"/claims/{sid}", headers=keys["coop_a"]).status_code == 404
    assert client.get(f"/claims/{cid}", headers=keys["planner"]).status_code == 403
    assert client.get("/claims/clm_nothing", headers=keys["operator"]).status_code == 404
    assert client.get("/claims/c%00x", headers=keys["operator"]).status_code == 404
    for who, coop in (("coop_a", "coop-a"), ("coop_b", "coop-b")):
        seen = client.get(f"/claims/{cid}", headers=keys[who]).json
        assert [p["cooperative_id"] for p in seen["parts"]] == [coop] and seen["buyer_id"] is None
    assert client.get(f"/claims/{cid}", headers=keys["operator"]).json["buyer_id"] == "buyer-1"

    # responses: only a cooperative the claim names; a cooperative sees its own, the buyer and the operator all
    answered = client.post(f"/claims/{cid}/response", json={"text": "graded A when it left"}, headers=keys["coop_a"])
    assert answered.status_code == 201 and [(r["seq"], r["cooperative_id"], r["text"]) for r in answered.json["responses"]] == [
        (1, "coop-a", "graded A when it left"),
    ]
    assert client.post(f"/claims/{cid}/response", json={"text": "ours was fine too"}, headers=keys["coop_b"]).status_code == 201
    assert [r["cooperative_id"] for r in client.get(f"/claims/{cid}", headers=keys["coop_b"]).json["responses"]] == ["coop-b"]
    assert [r["cooperative_id"] for r in client.get(f"/claims/{cid}", headers=keys["buyer"]).json["responses"]] == ["coop-a", "coop-b"]
    assert [r["seq"] for r in client.get(f"/claims/{cid}", headers=keys["operator"]).json["responses"]] == [1, 2]
    assert client.post(f"/claims/{sid}/response", json={"text": "x"}, headers=keys["coop_a"]).status_code == 404
    for who in ("buyer", "operator", "planner"):
        assert client.post(f"/claims/{cid}/response", json={"text": "x"}, headers=keys[who]).status_code == 403

    # decisions: the operator only
    for who in ("buyer", "coop_a", "planner"):
        assert client.post(f"/claims/{cid}/decision", json={"decision": "rejected"}, headers=keys[who]).status_code == 403
    assert client.post("/claims/clm_nothing/decision", json={"decision": "rejected"}, headers=keys["operator"]).status_code == 404

    # scores: a buyer its own credit; a cooperative its own scorecard, the operator any
    for who in ("coop_a", "operator", "planner"):
        assert client.get("/buyers/me/credit", headers=keys[who]).status_code == 403
    assert client.get("/buyers/me/credit", headers=keys["buyer_2"]).json["buyer_id"] == "buyer-2"
    assert client.get("/cooperatives/coop-a/scorecard", headers=keys["coop_b"]).status_code == 404
    assert client.get("/cooperatives/coop-a/scorecard", headers=keys["buyer"]).status_code == 403
    assert client.get("/cooperatives/coop-a/scorecard", headers=keys["planner"]).status_code == 403
    assert client.get("/cooperatives/coop-a/scorecard", headers=keys["operator"]).json["products"][0]["good_kg"] == 60.0
    assert client.get("/cooperatives/coop-b/scorecard", headers=keys["coop_b"]).json["products"][0]["good_kg"] == 70.0
    assert client.get("/cooperatives/c%00x/scorecard", headers=keys["operator"]).status_code == 404


# ---------------------------------------------------------------------------------------------------
# what is refused


@pytest.mark.parametrize(
    ("body", "paths", "words"),
    [
        ({}, ["order_id", "kg", "reason", "remedy"], "missing"),
        ({"kg": 0}, ["kg"], "whole kg"),
        ({"kg": -3}, ["kg"], "whole kg"),
        ({"kg": 2.5}, ["kg"], "whole kg"),
        ({"kg": "10"}, ["kg"], "whole kg"),
        ({"kg": True}, ["kg"], "whole kg"),
        ({"kg": 1e12}, ["kg"], "whole kg"),
        ({"reason": "changed_my_mind"}, ["reason"], "expected one of quality, damaged, short_weight, late, not_received"),
        ({"remedy": "refund"}, ["remedy"], "expected one of refund_only, return"),
        ({"remedy": None}, ["remedy"], "expected one of"),
        ({"evidence": "x" * 501}, ["evidence"], "1 to 500 characters"),
        ({"evidence": ""}, ["evidence"], "1 to 500 characters"),
        ({"evidence": 7}, ["evidence"], "1 to 500 characters"),
        ({"order_id": 12}, ["order_id"], "the id of one of your orders"),
        ({"order_id": "o" * 65}, ["order_id"], "the id of one of your orders"),
        ({"photos": ["a.jpg"]}, ["photos"], "unknown field"),
    ],
)
def test_bad_claims_name_the_field(client: FlaskClient, keys: dict, body: dict, paths: list[str], words: str) -> None:
    good = {"order_id": "ord_x", "kg": 5, "reason": "quality", "remedy": "refund_only"}
    sent = body if body == {} else {**good, **body}
    r = client.post("/claims", json=sent, headers=keys["buyer"])
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert [e["path"] for e in r.json["errors"]] == paths and words in r.json["errors"][0]["message"]
    assert client.get("/claims", headers=keys["operator"]).json["items"] == []  # nothing written


@pytest.mark.parametrize(
    ("body", "paths", "words"),
    [
        ({}, ["decision"], "expected one of approved, rejected, needs_evidence, unreasonable"),
        ({"decision": "maybe"}, ["decision"], "expected one of"),
        ({"decision": "approved"}, ["bearer"], "names who bears the refund"),
        ({"decision": "approved", "bearer": "buyer"}, ["bearer"], "one of cooperative, freight, protection_fund"),
        ({"decision": "rejected", "bearer": "freight"}, ["bearer"], "only an approval has a bearer"),
        ({"decision": "unreasonable", "bearer": "cooperative"}, ["bearer"], "always borne by the protection fund"),
        ({"decision": "rejected", "note": "n" * 1001}, ["note"], "1 to 1000 characters"),
        ({"decision": "rejected", "why": "n"}, ["why"], "unknown field"),
    ],
)
def test_bad_decisions_name_the_field(client: FlaskClient, keys: dict, body: dict, paths: list[str], words: str) -> None:
    r = client.post("/claims/clm_x/decision", json=body, headers=keys["operator"])
    assert r.status_code == 422 and [e["path"] for e in r.json["errors"]] == paths and words in r.json["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "paths"),
    [({}, ["text"]), ({"text": ""}, ["text"]), ({"text": "t" * 1001}, ["text"]), ({"text": 5}, ["text"]), ({"text": "ok", "to": "x"}, ["to"])],
)
def test_bad_responses_name_the_field(client: FlaskClient, keys: dict, body: dict, paths: list[str]) -> None:
    r = client.post("/claims/clm_x/response", json=body, headers=keys["coop_a"])
    assert r.status_code == 422 and [e["path"] for e in r.json["errors"]] == paths


def test_bad_requests_are_refused_whole(client: FlaskClient, keys: dict) -> None:
    b = keys["buyer"]
    assert client.post("/claims", data="{", content_type="application/json", headers=b).status_code == 400
    assert client.post("/claims", data="kg=5", content_type="text/plain", headers=b).status_code == 415
    assert client.post("/claims", json=[{"kg": 5}], headers=b).status_code == 422
    assert client.post("/claims", data='{"kg": 5, "kg": 6}', content_type="application/json", headers=b).status_code == 422
    nan = client.post("/claims", data='{"order_id": "o", "kg": NaN, "reason": "late", "remedy": "return"}', content_type="application/json", headers=b)
    assert nan.status_code == 422 and [e["path"] for e in nan.json["errors"]] == ["kg"]
    unknown = _claim(client, b, "ord_nothing", 5)
    assert unknown.status_code == 404 and unknown.json["detail"] == "no order ord_nothing"
    assert client.get("/claims?limit=0", headers=b).status_code == 422


@pytest.mark.usefixtures("regions")
def test_a_claim_outside_the_window_or_above_the_delivered_kg_is_refused(client: FlaskClient, keys: dict) -> None:
    # an order due ten days ago, filled by a cycle of eleven days ago: its window closed three days ago
    _offer(client, keys["coop_a"], 100, 31.2, day=-11)
    [old] = _orders(client, keys["buyer"], 1, 10, due=-10)
    run_cycle(client, keys, -11, params=IN_PROCESS)
    late = _claim(client, keys["buyer"], old, 1)
    assert late.status_code == 422 and late.json["errors"][0]["path"] == "order_id"
    assert f"the claim window of order {old} closed on {date_of(-3)}" in late.json["detail"] and "7 days after its due date" in late.json["detail"]

    # an order filled over two cycles: claims take its fills oldest first, each at its cycle's clearing price
    _offer(client, keys["coop_a"], 60, 31.2)
    [wanted] = _orders(client, keys["buyer"], 1, 100, price=3.0)
    [unfilled] = _orders(client, keys["buyer"], 1, 10, lat=40.0)  # outside every region
    first = run_cycle(client, keys, 0, params=IN_PROCESS)
    _offer(client, keys["coop_a"], 50, 31.2, ask=1.5, day=1)
    second = run_cycle(client, keys, 1, params=IN_PROCESS)
    fills = client.get(f"/orders/{wanted}", headers=keys["buyer"]).json["fills"]
    assert [(f["cycle_id"], f["filled_kg"]) for f in fills] == [(first["id"], 60), (second["id"], 40)]

    nothing = _claim(client, keys["buyer"], unfilled, 1)
    assert nothing.status_code == 422 and nothing.json["errors"][0]["path"] == "order_id" and "no kg delivered" in nothing.json["detail"]
    too_much = _claim(client, keys["buyer"], wanted, 101)
    assert too_much.status_code == 422 and too_much.json["errors"] == [
        {"path": "kg", "message": f"at most 100 kg can be claimed on order {wanted}: 100 kg were delivered to it and earlier claims took 0 kg; got 101"},
    ]
    spans = _claim(client, keys["buyer"], wanted, 70, remedy="return").json
    assert [(p["cycle_id"], p["kg"], p["clearing_price"]) for p in spans["parts"]] == [
        (first["id"], 60, fills[0]["clearing_price"]),
        (second["id"], 10, fills[1]["clearing_price"]),
    ]
    exact = 60 * Decimal(fills[0]["clearing_price"]) + 10 * Decimal(fills[1]["clearing_price"])
    assert Decimal(spans["value"]) == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    rest = _claim(client, keys["buyer"], wanted, 25, remedy="return").json
    assert [(p["cycle_id"], p["kg"]) for p in rest["parts"]] == [(second["id"], 25)]
    _decide(client, keys, rest["claim_id"], "rejected")
    again = _claim(client, keys["buyer"], wanted, 6)  # a rejected claim's kg are not claimed again
    assert again.status_code == 422 and "at most 5 kg" in again.json["errors"][0]["message"] and "earlier claims took 95 kg" in again.json["detail"]
    assert _claim(client, keys["buyer"], wanted, 5, remedy="return").status_code == 201


# ---------------------------------------------------------------------------------------------------
# settings and the arithmetic


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[after_sales]\nclaim_window_days = -1\n", "AFTER_SALES_CLAIM_WINDOW_DAYS ([after_sales] claim_window_days) must be a whole number"),
        ("[after_sales]\nclaim_window_days = 2.5\n", "claim_window_days) must be a whole number"),
        ("[after_sales]\ninstant_credit = 1.5\n", "AFTER_SALES_INSTANT_CREDIT ([after_sales] instant_credit) must be a finite number from 0 to 1"),
        ("[after_sales]\ninstant_cap = -1\n", "instant_cap) must be a finite number from 0"),
        ("[after_sales]\ninstant_cap = nan\n", "instant_cap) must be a finite number from 0"),
        ("[after_sales]\nforgetting = 0\n", "AFTER_SALES_FORGETTING ([after_sales] forgetting) must be a finite number > 0 and <= 1"),
        ("[after_sales]\nforgetting = 1.1\n", "forgetting) must be a finite number > 0 and <= 1"),
        ("[after_sales]\nforgetting = true\n", "forgetting) must be a finite number > 0 and <= 1"),
        ("[after_sales]\nmax_instant_rejections = 0\n", "max_instant_rejections) must be a whole number from 1"),
        ("[after_sales]\nwindow = 3\n", "unknown [after_sales] setting(s): window"),
        ("after_sales = 3\n", "after_sales must be a table"),
    ],
)
def test_bad_after_sales_settings_stop_the_start_naming_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    from api import create_app

    path = tmp_path / "harvest.toml"
    path.write_text("[match]\nworkers = 1\n\n" + text if text.startswith("[") else text)
    monkeypatch.setenv("HARVEST_CONFIG", str(path))
    with pytest.raises(ParameterError) as raised:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'harvest.db'}", "AUTO_MIGRATE": False})
    assert message in str(raised.value)


def test_after_sales_settings_come_from_the_file_and_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import create_app

    path = tmp_path / "harvest.toml"
    path.write_text("circuity = 1.25\nrefund_adjust = true\n\n[after_sales]\nclaim_window_days = 3\nforgetting = 0.8\n")
    assert read_after_sales(path) == AfterSalesConfig(claim_window_days=3, forgetting=0.8)
    monkeypatch.setenv("HARVEST_CONFIG", str(path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'harvest.db'}", "AUTO_MIGRATE": False, "AFTER_SALES_INSTANT_CAP": 50})
    assert app.extensions["harvest_after_sales"] == AfterSalesConfig(claim_window_days=3, forgetting=0.8, instant_cap=50)
    assert app.config["CYCLE_PARAMS"].circuity == 1.25 and app.config["CYCLE_PARAMS"].refund_adjust is True
    app.extensions["harvest_db"].engine.dispose()
    with pytest.raises(ParameterError, match="AFTER_SALES_INSTANT_CREDIT"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'harvest.db'}", "AUTO_MIGRATE": False, "AFTER_SALES_INSTANT_CREDIT": "high"})


def _outcomes(rows: list[tuple[str, int, float, float]]) -> pl.DataFrame:
    return pl.DataFrame([(k, TODAY + dt.timedelta(days=d), g, b) for k, d, g, b in rows], schema=OUTCOME_SCHEMA, orient="row")


def test_forgetting_discounts_outcomes_per_cycle_date() -> None:
    dates = [TODAY + dt.timedelta(days=d) for d in (0, 1, 3, 7)]  # cycle dates, not calendar days, age outcomes
    outcomes = _outcomes([("b", 0, 10.0, 0.0), ("b", 0, 0.0, 1.0), ("b", 0, 0.0, 1.0), ("b", 3, 2.0, 0.0), ("c", 7, 0.0, 1.0)])
    got = {r["key"]: r for r in weigh(outcomes, dates, 0.5).iter_rows(named=True)}
    # b: day 0 is three cycle dates old (1, 3, 7), day 3 one (7)
    assert (got["b"]["good"], got["b"]["bad"], got["b"]["recent"]) == (10 / 8 + 1.0, 2 / 8, 0.0)
    assert got["b"]["score"] == pytest.approx((2.25 + 1) / (2.25 + 0.25 + 2))
    assert (got["c"]["bad"], got["c"]["recent"], got["c"]["score"]) == (1.0, 1.0, 1 / 3)
    # nothing forgotten: the rejections stay recent, the score stays
    kept = {r["key"]: r for r in weigh(outcomes, dates, 1.0).iter_rows(named=True)}
    assert (kept["b"]["good"], kept["b"]["bad"], kept["b"]["recent"]) == (12.0, 2.0, 2.0)
    # the history: as of each cycle date from the first outcome on
    steps = history(outcomes.filter(pl.col("key") == "b"), dates, 0.5)
    assert [(h["date"], h["good"], h["bad"]) for h in steps] == [
        (dates[0].isoformat(), 10.0, 2.0),
        (dates[1].isoformat(), 5.0, 1.0),
        (dates[2].isoformat(), 4.5, 0.5),
        (dates[3].isoformat(), 2.25, 0.25),
    ]
    assert weigh(outcomes.clear(), dates, 0.9).height == 0 and history(outcomes.clear(), dates, 0.9) == []


def test_claims_split_their_kg_and_cents_exactly() -> None:
    assert pro_rata(33, [("coop-b", 40), ("coop-a", 60)]) == [("coop-a", 20), ("coop-b", 13)]
    assert pro_rata(1, [("x", 50), ("w", 50)]) == [("w", 1)]  # a tie goes to the first id
    assert pro_rata(7, [("a", 1), ("b", 1), ("c", 1)]) == [("a", 3), ("b", 2), ("c", 2)]
    cents = cents_shared([Decimal("0.333"), Decimal("0.333"), Decimal("0.339")])  # 1.005 -> 1.00 (half to even)
    assert cents == [33, 33, 34] and sum(cents) == 100
    assert cents_shared([Decimal("12.345"), Decimal("0.001")]) == [1235, 0]  # 12.346 -> 12.35
