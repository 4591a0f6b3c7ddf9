"""The API against its own OpenAPI document: schemathesis generates requests, every answer must be
documented and no answer may be a server error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def test_api_matches_its_document(served) -> None:  # type: ignore[no-untyped-def]
    """Every operation, 25 generated requests each (the pytest plugin of schemathesis does not run on
    this pytest, so the operations are driven with hypothesis directly)."""
    from hypothesis import given

    app, auth = served
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 35
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
