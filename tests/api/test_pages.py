"""The pages in the service's app (api/pages): sign-in and its session, CSRF, languages, and a
cooperative's offers, on both databases, through Flask's test client."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.models import ApiKey, Offer
from tests.api.day import DAY
from tests.api.pages import bearer_key, errors, sign_in, token

OFFER_FORM = {
    "product": "apple",
    "grade": "A",
    "quantity_kg": "500",
    "ask_per_kg": "2.5",
    "ready_date": DAY,
    "shelf_life_days": "7",
    "lat": "31.1",
    "lon": "110.2",
}


def _offers(app: Flask) -> list[Offer]:
    with app.extensions["harvest_db"].session() as s:
        return list(s.query(Offer).order_by(Offer.offer_id))


def test_signing_in_gives_a_session_cookie_and_signing_out_ends_it(client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    page = client.get("/ui/offers")
    assert page.status_code == 302 and page.headers["Location"].startswith("/ui/signin?next=/ui/offers")
    signin = client.get(page.headers["Location"], headers={"Accept-Language": "en"})
    assert signin.status_code == 200 and 'type="password"' in signin.get_data(as_text=True)
    wrong = client.post("/ui/signin", data={"key": "not-a-key", "csrf_token": token(signin)}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 401 and "Unknown or revoked key." in wrong.get_data(as_text=True)
    done = client.post("/ui/signin?next=/ui/offers", data={"key": bearer_key(keys["coop_a"]), "csrf_token": token(signin)})
    assert done.status_code == 302 and done.headers["Location"] == "/ui/offers"
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith("harvest_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert bearer_key(keys["coop_a"]) not in cookie  # the key is never in the cookie
    assert client.get("/ui/offers").status_code == 200
    out = client.post("/ui/signout", data={"csrf_token": token(client.get("/ui/offers"))})
    assert out.status_code == 302 and client.get("/ui/offers").status_code == 302


def test_the_cookie_is_secure_under_https_and_next_stays_on_the_site(app: Flask, keys: dict[str, dict[str, str]]) -> None:
    client = app.test_client()
    page = client.get("/ui/signin", base_url="https://harvest.example")
    done = client.post(
        "/ui/signin?next=//evil.example/x",
        data={"key": bearer_key(keys["coop_a"]), "csrf_token": token(page)},
        base_url="https://harvest.example",
        headers={"Referer": "https://harvest.example/ui/signin"},  # over https, the form must come from this site
    )
    assert "Secure" in done.headers["Set-Cookie"]
    assert done.headers["Location"] == "/ui/offers"  # the role's home, not the other site


@pytest.mark.parametrize("app_config", [{"PAGES_SESSION_HOURS": 1.0}])
def test_a_session_expires_and_a_revoked_key_signs_out(app: Flask, client: FlaskClient, keys: dict[str, dict[str, str]], monkeypatch: Any) -> None:
    sign_in(client, keys["coop_a"])
    assert client.get("/ui/offers").status_code == 200
    from api.pages import signing

    later = signing.now() + 3600 + 60
    monkeypatch.setattr(signing, "now", lambda: later)
    page = client.get("/ui/offers")
    assert page.status_code == 302 and "expired=1" in page.headers["Location"]
    assert "Your session ended" in client.get(page.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    monkeypatch.undo()
    sign_in(client, keys["coop_a"])
    with app.extensions["harvest_db"].write() as s:
        row = s.query(ApiKey).filter(ApiKey.cooperative_id == "coop-a").one()
        row.revoked_at = dt.datetime.now(dt.UTC)
    assert client.get("/ui/offers").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app: Flask, client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    sign_in(client, keys["coop_a"])
    refused = client.post("/ui/offers", data=OFFER_FORM)
    assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    forged = client.post("/ui/offers", data={**OFFER_FORM, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert _offers(app) == []
    # the API is not a form: keys, not cookies, and no CSRF token
    assert (
        client.post(
            "/offers", json={**OFFER_FORM, "quantity_kg": 500, "ask_per_kg": 2.5, "shelf_life_days": 7, "lat": 31.1, "lon": 110.2}, headers=keys["coop_a"]
        ).status_code
        == 201
    )


def test_a_cooperative_posts_an_offer_with_the_apis_messages_beside_its_fields(app: Flask, client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    sign_in(client, keys["coop_a"])
    page = client.get("/ui/offers")
    bad = client.post("/ui/offers", data={**OFFER_FORM, "quantity_kg": "-5", "lat": "95", "csrf_token": token(page)})
    assert bad.status_code == 422
    said = errors(bad)
    assert said["quantity_kg"] == "expected a whole number of kg greater than 0, got -5"
    assert "lat" in said and 'value="-5"' in bad.get_data(as_text=True)  # what was typed stays
    assert _offers(app) == []
    good = client.post("/ui/offers", data={**OFFER_FORM, "reference": "field 7", "csrf_token": token(page)})
    assert good.status_code == 302
    [offer] = _offers(app)
    assert (offer.cooperative_id, offer.quantity_kg, offer.reference) == ("coop-a", 500, "field 7")
    detail = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "field 7" in detail and "open" in detail and "No pickup planned yet." in detail
    listed = client.get("/ui/offers").get_data(as_text=True)
    assert "field 7" in listed and "500" in listed


def test_a_cooperative_never_sees_another_cooperatives_offer(app: Flask, client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    created = client.post(
        "/offers",
        json={**OFFER_FORM, "quantity_kg": 500, "ask_per_kg": 2.5, "shelf_life_days": 7, "lat": 31.1, "lon": 110.2, "reference": "theirs"},
        headers=keys["coop_b"],
    ).get_json()
    sign_in(client, keys["coop_a"])
    assert "theirs" not in client.get("/ui/offers").get_data(as_text=True)
    assert client.get(f"/ui/offers/{created['offer_id']}").status_code == 404
    withdraw = client.post(f"/ui/offers/{created['offer_id']}/withdraw", data={"csrf_token": token(client.get("/ui/offers"))})
    assert withdraw.status_code == 404
    assert [o.status for o in _offers(app)] == ["open"]
    # a planner's key may not use a cooperative's pages
    other = app.test_client()
    sign_in(other, keys["planner"])
    assert other.get("/ui/offers").status_code == 403


def test_withdrawing_and_uploading(app: Flask, client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    sign_in(client, keys["coop_a"])
    page = client.get("/ui/offers")
    csv = "product,grade,quantity_kg,lat,lon,ready_date,shelf_life_days,ask_per_kg\napple,A,300,31,110,{d},5,2\napple,Z,300,31,110,{d},5,2\n".format(d=DAY)
    bad = client.post(
        "/ui/offers/upload", data={"file": (io.BytesIO(csv.encode()), "offers.csv"), "csrf_token": token(page)}, content_type="multipart/form-data"
    )
    assert bad.status_code == 422 and "2/grade" in errors(bad)["file"]
    assert _offers(app) == []  # nothing of a bad file
    good_csv = csv.splitlines()[0] + "\n" + csv.splitlines()[1] + "\n"
    good = client.post(
        "/ui/offers/upload", data={"file": (io.BytesIO(good_csv.encode()), "offers.csv"), "csrf_token": token(page)}, content_type="multipart/form-data"
    )
    assert good.status_code == 302
    [offer] = _offers(app)
    done = client.post(f"/ui/offers/{offer.offer_id}/withdraw", data={"csrf_token": token(page)})
    assert done.status_code == 302 and [o.status for o in _offers(app)] == ["withdrawn"]
    assert "withdrawn" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_pages_speak_chinese_by_default_and_english_on_request(client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    page = client.get("/ui/signin").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "API 密钥" in page and "登录" in page
    english = client.get("/ui/signin", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "API key" in english
    # the switch wins over the browser, and stays
    client.post("/ui/language", data={"lang": "en", "csrf_token": token(client.get("/ui/signin"))})
    assert "API key" in client.get("/ui/signin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    sign_in(client, keys["coop_a"], lang="zh")
    client.post("/ui/language", data={"lang": "zh_CN", "csrf_token": token(client.get("/ui/offers"))})
    mine = client.get("/ui/offers").get_data(as_text=True)
    assert "发布报价" in mine and "数量（公斤）" in mine
