"""The operator's pages (api/pages/operator.py) on both databases: queueing a cycle by form (the API's
messages beside the fields, CSRF), following it live (its progress resource), its summary and books,
deciding claims, a failed cycle's public reason (its exception for the operator only), and who may see
what."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.models import Claim, Cycle
from tests.api.day import DAY, IN_PROCESS, ComputeGate, date_of, offer, order, put_regions, run_cycle, wait
from tests.api.pages import errors as escaped
from tests.api.pages import sign_in, token
from tests.api.test_pages_planner import make_day


def _html(page: Any) -> str:
    return str(page.get_data(as_text=True))


def errors(page: Any) -> dict[str, str]:
    """The message beside each field, as the API wrote it."""
    return {field: unescape(message) for field, message in escaped(page).items()}


def _cycles(app: Flask) -> list[Cycle]:
    with app.extensions["harvest_db"].session() as s:
        return list(s.query(Cycle).order_by(Cycle.id))


def _queue(client: FlaskClient, **form: str) -> Any:
    page = client.get("/ui/cycles")
    return client.post("/ui/cycles", data={"date": DAY, **form, "csrf_token": token(page)})


def test_the_operator_queues_a_cycle_with_the_apis_messages_beside_the_fields(app: Flask, client: FlaskClient, keys: dict) -> None:
    make_day(client, keys)
    sign_in(client, keys["operator"])
    assert client.get("/ui/").headers["Location"] == "/ui/cycles"
    page = client.get("/ui/cycles")
    html = _html(page)
    assert page.status_code == 200 and 'id="queue-form"' in html and 'for="f-date"' in html and 'for="f-p_small_share"' in html
    # every field has its label
    ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html))
    labelled = set(re.findall(r'for="([^"]+)"', html)) | {"f-rerun", "f-confirm_far_date"}  # the boxes sit inside their labels
    assert ids <= labelled, ids - labelled

    refused = client.post("/ui/cycles", data={"date": DAY})
    assert refused.status_code == 400 and _cycles(app) == []  # no CSRF token: nothing queued
    bad_date = _queue(client, date="2026-13-01")
    api = client.post("/cycles", json={"date": "2026-13-01"}, headers=keys["operator"]).json["errors"][0]
    assert bad_date.status_code == 422 and errors(bad_date)["date"] == api["message"] and api["path"] == "date"
    far = _queue(client, date=date_of(400))
    assert far.status_code == 422 and "confirm_far_date" in errors(far)["date"] and 'value="' + date_of(400) + '"' in _html(far)
    bad_param = _queue(client, p_small_share="5", p_solver="simplex")
    said = errors(bad_param)
    assert bad_param.status_code == 422 and said["p_small_share"].startswith("small_share must be a finite number from 0 to 1")
    assert '<details class="params" open>' in _html(bad_param) and 'value="5"' in _html(bad_param)
    assert _cycles(app) == []

    done = _queue(client, p_workers="1", p_freight="linear", p_refund_adjust="false")
    assert done.status_code == 302, errors(done)
    [queued] = _cycles(app)
    assert done.headers["Location"] == f"/ui/cycles/{queued.id}"
    cycle = wait(client, keys["operator"], queued.id)
    assert cycle["status"] == "done" and cycle["params"]["workers"] == 1 and cycle["params"]["refund_adjust"] is False
    again = _queue(client)
    assert again.status_code == 409 and "rerun" in errors(again)["_"]  # the date has a result: the API's conflict, said on the form

    # the summary: welfare and realized welfare, kg sold, the price of fairness and the subsidy, the books
    html = _html(client.get(done.headers["Location"]))
    summary = cycle["summary"]
    assert f"{summary['allocated_kg']:,}" in re.search(r'id="sum-kg-sold">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert re.search(r'id="sum-welfare">([^<]+)<', html).group(1) == f"{Decimal(str(summary['welfare'])):,.2f}"  # type: ignore[union-attr]
    realized = summary["freight"]["realized_welfare"]
    assert re.search(r'id="sum-realized-welfare">([^<]+)<', html).group(1) == f"{Decimal(str(realized)):,.2f}"  # type: ignore[union-attr]
    assert (
        f'id="sum-routed-vs-assumed">× {round(summary["freight"]["routed_vs_assumed"], 2)}<' in html
        and 'id="sum-price-of-fairness"' in html
        and 'id="sum-subsidy"' in html
    )
    assert f'href="/ui/cycles/{queued.id}/books"' in html
    books = client.get(f"/cycles/{queued.id}/settlement", headers=keys["operator"]).json
    page = _html(client.get(f"/ui/cycles/{queued.id}/books"))
    assert books["totals"]["balanced"] is True and 'id="books-balanced" class="balanced"' in page
    shown = dict(re.findall(r'<tr data-total="(\w+)"><th scope="row">[^<]+</th><td class="num">([^<]*)</td>', page))
    for key in ("buyers_paid", "cooperatives_received", "freight", "platform_net"):
        assert shown[key] == f"{Decimal(books['totals'][key]):,.2f}", key
    assert shown["lines"] == str(len(books["lines"])) == str(page.count('<tr data-party="'))
    assert "/ui/plans/" in html and 'progress.js"' not in html  # done: no polling, and the legs link to the plan


def test_a_running_cycle_is_followed_live_and_without_a_script_by_refreshing(client: FlaskClient, keys: dict, compute: ComputeGate) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    client.post("/orders", json=order("apple", 50, 31.5, 4.0), headers=keys["buyer"])
    planning, go_on = compute.hold_planning()
    sign_in(client, keys["operator"])
    queued = _queue(client, p_workers="1")
    assert queued.status_code == 302
    cycle_id = int(queued.headers["Location"].rsplit("/", 1)[1])
    assert planning.wait(60)
    page = _html(client.get(f"/ui/cycles/{cycle_id}"))
    assert 'id="progress-refresh"' in page and 'progress.js"' in page and 'data-status="running"' in page
    assert re.search(r'id="cycle-stage">\(planning routes\)<', page)
    state = client.get(f"/ui/cycles/{cycle_id}/progress.json")
    assert state.status_code == 200 and state.headers["Cache-Control"] == "no-store"
    body = state.json
    assert (body["status"], body["stage"], body["finished"]) == ("running", "planning", False)
    assert body["progress"]["stage"] == "products" and body["progress"]["done"] == body["progress"]["total"]
    assert body["words"] == {"status": "running", "stage": "planning routes", "progress": "products solved"}
    go_on.set()
    wait(client, keys["operator"], cycle_id)
    finished = client.get(f"/ui/cycles/{cycle_id}/progress.json").json
    assert finished["status"] == "done" and finished["finished"] is True and finished["progress"]["stage"] == "routing problems"
    assert 'progress.js"' not in _html(client.get(f"/ui/cycles/{cycle_id}"))
    assert client.get("/ui/cycles/999999/progress.json").status_code == 404


def test_a_failed_cycle_says_its_public_reason_and_only_the_operator_sees_its_exception(
    app: Flask, client: FlaskClient, keys: dict, compute: ComputeGate
) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    compute.failure = RuntimeError("disk /srv/secret/path is gone")
    cycle = run_cycle(client, keys, done=False)
    assert cycle["status"] == "failed" and "/srv/secret" in cycle["detail"]
    reason = client.get(f"/cycles/{cycle['id']}", headers=keys["planner"]).json["reason"]
    planner = app.test_client()
    sign_in(planner, keys["planner"])
    for path in ("/ui/cycles", f"/ui/cycles/{cycle['id']}", "/ui/cycles?status=failed"):
        html = _html(planner.get(path))
        assert reason in html and "/srv/secret" not in html and "Traceback" not in html, path
        assert 'id="queue-form"' not in html
    assert "/srv/secret" not in _html(planner.get(f"/ui/cycles/{cycle['id']}/progress.json"))
    sign_in(client, keys["operator"])
    listed = _html(client.get("/ui/cycles"))
    assert 'id="failed-cycles"' in listed and reason in listed and "/srv/secret" not in listed
    mine = _html(client.get(f"/ui/cycles/{cycle['id']}"))
    assert re.search(r'id="cycle-reason" class="reason">([^<]*)<', mine).group(1) == reason  # type: ignore[union-attr]
    assert 'id="cycle-detail"' in mine and "/srv/secret/path" in mine
    books = client.get(f"/ui/cycles/{cycle['id']}/books")
    assert books.status_code == 409 and "results come when it is done" in _html(books)
    compute.failure = None


@pytest.mark.parametrize("app_config", [{"PLAN_ROUTES": False, "AFTER_SALES_INSTANT_CAP": 5}])
def test_the_operator_decides_a_waiting_claim_from_the_page(app: Flask, client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 30, 31.2, 1.0), headers=keys["coop_a"])
    orders = client.post("/orders", json=[{**order("apple", 10, 31.5, 3.0), "due_date": date_of(3)}] * 3, headers=keys["buyer"]).json["items"]
    run_cycle(client, keys, params=IN_PROCESS)
    claim = client.post("/claims", json={"order_id": orders[0]["order_id"], "kg": 4, "reason": "quality", "remedy": "refund_only"}, headers=keys["buyer"])
    assert claim.status_code == 201 and claim.json["status"] == "needs_evidence"
    claim_id = claim.json["claim_id"]

    sign_in(client, keys["operator"])
    assert "1 claims wait for your decision" in _html(client.get("/ui/cycles"))
    page = client.get("/ui/operator/claims")
    html = _html(page)
    assert page.status_code == 200 and f'data-claim-id="{claim_id}"' in html and "needs evidence" in html and "buyer-1" in html
    action = f"/ui/operator/claims/{claim_id}/decision"
    assert client.post(action, data={"decision": "approved", "bearer": "cooperative"}).status_code == 400  # no CSRF token
    no_bearer = client.post(action, data={"decision": "approved", "csrf_token": token(page), "status": "needs_evidence"})
    assert no_bearer.status_code == 422 and errors(no_bearer)["bearer"].startswith("an approval names who bears the refund")
    bad = client.post(action, data={"decision": "maybe", "csrf_token": token(page)})
    assert bad.status_code == 422 and errors(bad)["decision"].startswith("expected one of approved")
    with app.extensions["harvest_db"].session() as s:
        assert s.get(Claim, claim_id).status == "needs_evidence"  # type: ignore[union-attr]
    done = client.post(
        action, data={"decision": "approved", "bearer": "cooperative", "note": "photos seen", "csrf_token": token(page), "status": "needs_evidence"}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/ui/operator/claims?status=needs_evidence"
    after = _html(client.get(done.headers["Location"]))
    assert f"Claim {claim_id}: approved." in after and f'data-claim-id="{claim_id}"' not in after
    detail = client.get(f"/claims/{claim_id}", headers=keys["operator"]).json
    assert (detail["status"], detail["bearer"], detail["decisions"][-1]["note"], detail["decisions"][-1]["by"]) == (
        "approved",
        "cooperative",
        "photos seen",
        "operator",
    )
    # a final decision the rules refuse: the API's conflict, beside the form
    rejected = client.post(action, data={"decision": "rejected", "csrf_token": token(page), "status": "approved"})
    assert rejected.status_code == 409 and errors(rejected)["_"]
    assert client.post("/ui/operator/claims/nope/decision", data={"decision": "rejected", "csrf_token": token(page)}).status_code == 404


def test_only_the_operator_queues_and_decides_and_cooperatives_and_buyers_see_none_of_it(app: Flask, client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    cycle = run_cycle(client, keys, params=IN_PROCESS)
    for who in ("coop_a", "buyer"):
        other = app.test_client()
        sign_in(other, keys[who])
        for path in (
            "/ui/cycles",
            f"/ui/cycles/{cycle['id']}",
            f"/ui/cycles/{cycle['id']}/progress.json",
            f"/ui/cycles/{cycle['id']}/books",
            "/ui/operator/claims",
        ):
            assert other.get(path).status_code == 403, (who, path)
        page = other.get("/ui/signin")
        assert other.post("/ui/cycles", data={"date": DAY, "csrf_token": token(page)}).status_code == 403
    planner = app.test_client()
    sign_in(planner, keys["planner"])
    assert planner.get("/ui/cycles").status_code == 200 and planner.get(f"/ui/cycles/{cycle['id']}").status_code == 200
    html = _html(planner.get(f"/ui/cycles/{cycle['id']}"))
    assert 'id="books-link"' not in html and 'id="cycle-summary"' in html  # the books are the operator's
    assert planner.get(f"/ui/cycles/{cycle['id']}/books").status_code == 403
    assert planner.get("/ui/operator/claims").status_code == 403
    page = planner.get("/ui/cycles")
    assert planner.post("/ui/cycles", data={"date": DAY, "rerun": "on", "csrf_token": token(page)}).status_code == 403
    assert planner.post("/ui/operator/claims/x/decision", data={"decision": "rejected", "csrf_token": token(page)}).status_code == 403
    assert len(_cycles(app)) == 1


def test_the_cycles_speak_chinese(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    run_cycle(client, keys, params=IN_PROCESS)
    sign_in(client, keys["operator"], lang="zh")
    html = _html(client.get("/ui/cycles"))
    assert '<html lang="zh-CN">' in html and "排队运行撮合" in html and "已完成" in html
