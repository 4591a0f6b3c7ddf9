"""Every JSON object body goes through one validator (:mod:`api.bodies`): its refusals look alike."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_body_of_many_unknown_fields_names_ten_and_counts_the_rest(client: FlaskClient, keys: dict) -> None:
    body = {"small": True, **{f"extra{k:02d}": k for k in range(14)}}
    r = client.put("/cooperatives/coop-a", json=body, headers=keys["operator"])
    assert r.status_code == 422
    errors = r.json["errors"]
    assert [e["path"] for e in errors[:10]] == [f"extra{k:02d}" for k in range(10)]
    assert all("unknown field" in e["message"] for e in errors[:10])
    assert errors[10]["message"] == "... and 4 more unknown fields"
    assert len(errors) == 11 and r.json["detail"] == "11 problem(s) in the request body"


def test_a_bad_path_and_a_bad_body_are_said_together(client: FlaskClient, keys: dict) -> None:
    r = client.put("/cooperatives/%20coop", json={"small": "yes"}, headers=keys["operator"])
    assert r.status_code == 422
    assert [e["path"] for e in r.json["errors"]] == ["cooperative_id", "small"]
    not_an_object = client.put("/cooperatives/%20coop", json=[1], headers=keys["operator"])
    assert not_an_object.status_code == 422 and "expected an object such as" in not_an_object.json["detail"]
    assert [e["path"] for e in not_an_object.json["errors"]] == ["cooperative_id"]


def test_a_cycle_request_is_checked_by_the_same_validator(client: FlaskClient, keys: dict) -> None:
    r = client.post("/cycles", json={"date": 20261123, "rerun": "yes", "colour": "red"}, headers=keys["operator"])
    assert r.status_code == 422 and r.json["detail"] == "3 problem(s) in the request body"
    assert r.json["errors"] == [
        {"path": "colour", "message": 'unknown field "colour" (allowed: date, rerun, confirm_far_date, params)'},
        {"path": "date", "message": "expected a date as YYYY-MM-DD, got 20261123"},
        {"path": "rerun", "message": 'expected true or false, got "yes"'},
    ]
    missing = client.post("/cycles", json={"params": []}, headers=keys["operator"]).json["errors"]
    assert [e["path"] for e in missing] == ["date", "params"] and "nothing (the field is missing)" in missing[0]["message"]
