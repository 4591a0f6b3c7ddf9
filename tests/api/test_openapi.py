"""The API against its own OpenAPI document: schemathesis generates requests, every answer must be
documented and no answer may be a server error; and the document's column limits are the schema
module's, value for value."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from api.db import create_key
from api.offers import UPLOAD as OFFER_UPLOAD
from api.openapi import SCHEMAS, kind_schema
from api.orders import UPLOAD as ORDER_UPLOAD
from harvestmatch.errors import InputError, ParameterError
from harvestmatch.kinds import KINDS, Kind, KindRule
from matcher.params import MatchParams
from matcher.routing.tables import CROSSDOCKS
from matcher.schemas import Column, parse_records

# no server error, and every answer documented: its status, its content type and its body. (Accepting
# every schema-valid body is not asked: who may post what depends on the key's role.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.api.conftest_db import fresh_postgres, postgres_missing

    if request.param == "postgresql" and postgres_missing():
        pytest.skip(postgres_missing() or "")
    folder: Path = tmp_path_factory.mktemp("openapi")
    with fresh_postgres() if request.param == "postgresql" else _sqlite(folder) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True, "WORKER": True, "WORKER_POLL_SECONDS": 0.05})
        key = create_key(app.extensions["harvest_db"], "operator")
        yield app, {"Authorization": f"Bearer {key}"}
        assert app.extensions["harvest_worker"].stop(timeout=120)
        app.extensions["harvest_db"].engine.dispose()


@contextmanager
def _sqlite(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'harvest.db'}"


@pytest.mark.slow
def test_api_matches_its_document(served) -> None:  # type: ignore[no-untyped-def]
    """Every operation, 25 generated requests each (the pytest plugin of schemathesis does not run on
    this pytest, so the operations are driven with hypothesis directly)."""
    from hypothesis import given

    app, auth = served
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 46
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=auth, checks=CHECKS)

        check()


def test_docs_are_served_without_a_network(served) -> None:  # type: ignore[no-untyped-def]
    app, _ = served
    client = app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in page.data
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/cycles/{cycle_id}/shipments" in doc["paths"] and "/cycles/{cycle_id}/routes" in doc["paths"]
    assert {"/claims", "/claims/{claim_id}/decision", "/buyers/me/credit", "/cycles/{cycle_id}/settlement"} <= set(doc["paths"])


def _edges(rule: KindRule) -> list[tuple[object, bool]]:
    """(a JSON value, whether a kind with ``rule`` takes it): each limit, and a value just past it."""
    wrong_type: object = "1" if rule.json in ("integer", "number", "boolean") else 17
    edges: list[tuple[object, bool]] = [(wrong_type, False)]
    if rule.json == "integer":
        assert rule.minimum is not None and rule.maximum is not None
        low, high = int(rule.minimum), int(rule.maximum)
        edges += [(low, True), (high, True), (low - 1, False), (high + 1, False), (low + 0.5, False)]
    if rule.json == "number":
        assert rule.minimum is not None and rule.maximum is not None
        low, high = float(rule.minimum), float(rule.maximum)
        edges += [(low, True), (high, True), (math.nextafter(low, -math.inf), False), (math.nextafter(high, math.inf), False)]
    if rule.json == "boolean":
        edges += [(True, True), (False, True), (1, False)]
    if rule.max_length is not None:
        edges += [("x" * rule.max_length, True), ("x" * (rule.max_length + 1), False), ("", False)]
    if rule.pattern is not None:
        edges += [("x\x00y", False)]
    if rule.values is not None:
        edges += [(v, True) for v in rule.values] + [(rule.values[0].lower(), False), ("", False)]
    if rule.format == "date":
        edges += [("1900-01-01", True), ("2199-12-31", True), ("2026-02-30", False)]
    return edges


def _validator_takes(kind: Kind, value: object) -> bool:
    try:
        parse_records([{"v": value}], (Column("v", kind),), source="body")
    except InputError:
        return False
    return True


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_the_schemas_limits(kind: Kind) -> None:
    """At each limit of a kind the validator and the document both take the value; just past it,
    both refuse it (so neither side can drift from :data:`harvestmatch.kinds.KINDS` alone)."""
    document = jsonschema_rs.Draft202012Validator(kind_schema(kind), validate_formats=True)
    for value, taken in _edges(KINDS[kind]):
        assert _validator_takes(kind, value) is taken, (kind, value)
        assert document.is_valid(value) is taken, (kind, value)


@pytest.mark.parametrize(("model", "columns"), [("OfferIn", OFFER_UPLOAD), ("OrderIn", ORDER_UPLOAD), ("CrossdockIn", CROSSDOCKS)])
def test_request_bodies_use_the_kinds(model: str, columns: tuple[Column, ...]) -> None:
    schema = SCHEMAS[model]
    assert schema["properties"] == {c.name: kind_schema(c.kind) for c in columns}
    assert schema["required"] == [c.name for c in columns if c.required]


def _params_take(name: str, value: object) -> bool:
    try:
        MatchParams.from_mapping({name: value})
    except ParameterError:
        return False
    return True


def test_cycle_params_have_the_settings_limits() -> None:
    """POST /cycles' ``params``: each bound the document states is the parameters' own, at it and
    just past it."""
    params = SCHEMAS["CycleIn"]["properties"]["params"]
    assert params["additionalProperties"] is False and set(params["properties"]) == set(MatchParams.__dataclass_fields__)
    checked = 0
    for name, field in params["properties"].items():
        document = jsonschema_rs.Draft202012Validator(field)
        schema = field.get("anyOf", [field])[0]
        whole = schema.get("type") == "integer"
        for key, toward in (("minimum", -math.inf), ("exclusiveMinimum", math.inf), ("maximum", math.inf)):
            if key not in schema:
                continue
            limit = schema[key]
            past = limit + (1 if toward > 0 else -1) if whole else math.nextafter(float(limit), toward)
            edges = [(limit, key != "exclusiveMinimum"), (past, key == "exclusiveMinimum")]
            for value, taken in edges:
                assert _params_take(name, value) is taken, (name, value)
                assert document.is_valid(value) is taken, (name, value)
            checked += 1
    assert checked >= 10
