"""The API suite runs twice: against SQLite and against a real PostgreSQL server.

PostgreSQL comes from ``HARVEST_TEST_POSTGRES_URL`` (default: the local server on 127.0.0.1:5432 with
trust auth, as ``.ci/run`` ensures); each test gets a fresh database, dropped afterwards. When no
server answers, the PostgreSQL half is skipped with the reason, except in CI (``CI`` set), where
``.ci/run`` provides one and its absence is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.db import create_key
from tests.api.conftest_db import fresh_postgres, postgres_missing
from tests.api.day import ComputeGate, put_regions

#: the products the API tests post; the catalogue is set before each test
CATALOGUE = ("apple", "kale", "pear")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'harvest.db'}"
        return
    why = postgres_missing()
    if why:
        pytest.skip(why)
    with fresh_postgres() as url:
        yield url


#: route planning in the tests: a small search budget (the iterations bind, not the clock, so plans are
#: the same on any machine) and one process (no pool started per cycle)
TEST_PLAN = {"PLAN_ITERATIONS": 100, "PLAN_SECONDS": 60.0, "PLAN_WORKERS": 1}


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test adds to the app's (parametrize ``app_config`` to change them)."""
    return {}


@pytest.fixture
def compute() -> ComputeGate:
    """The worker's computation: open, unless a test holds it or makes it fail."""
    return ComputeGate()


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any], compute: ComputeGate) -> Iterator[Flask]:
    """The app with a cycle worker in a thread (as ``harvest serve`` runs it) and the catalogue set."""
    from api.models import Product

    # the API's tests check fills and prices on small days in the linear freight model's numbers; the
    # trucks model's service cycles: test_freight_cycles.py
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "WORKER": True,
            "WORKER_POLL_SECONDS": 0.05,
            "CYCLE_COMPUTE": compute,
            **TEST_PLAN,
            **app_config,
        }
    )
    if "CYCLE_PARAMS" not in app_config:  # a configured [match] table keeps its parameters, in the linear model
        app.config["CYCLE_PARAMS"] = replace(app.config["CYCLE_PARAMS"], freight="linear")
    db = app.extensions["harvest_db"]
    with db.write() as session:
        session.add_all([Product(product=p) for p in CATALOGUE])
    yield app
    assert app.extensions["harvest_worker"].stop(timeout=120), "a cycle was still running at the end of the test"
    db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def keys(app: Flask) -> dict[str, dict[str, str]]:
    """Authorization headers: two cooperatives, two buyers, a planner, the operator."""
    db = app.extensions["harvest_db"]
    made = {
        "coop_a": create_key(db, "cooperative", cooperative_id="coop-a"),
        "coop_b": create_key(db, "cooperative", cooperative_id="coop-b"),
        "buyer": create_key(db, "buyer", buyer_id="buyer-1"),
        "buyer_2": create_key(db, "buyer", buyer_id="buyer-2"),
        "planner": create_key(db, "planner"),
        "operator": create_key(db, "operator"),
    }
    return {who: {"Authorization": f"Bearer {key}"} for who, key in made.items()}


@pytest.fixture
def regions(client: FlaskClient, keys: dict[str, dict[str, str]]) -> None:
    """The two test regions (:func:`tests.api.day.regions_geojson`), uploaded."""
    put_regions(client, keys)
