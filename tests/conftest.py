from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
#: the edit loop (``make check``): a few examples per property
settings.register_profile("quick", deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick",
        action="store_true",
        help="the edit loop (make check): leave out tests marked slow and the PostgreSQL half of the API suite, "
        "and draw few examples per property; make test runs everything",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--quick"):
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--quick"):
        return
    kept, left = [], []
    for item in items:
        ids = getattr(getattr(item, "callspec", None), "id", "")
        (left if item.get_closest_marker("slow") or "postgresql" in ids.split("-") else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(scope="session")
def highs_pool() -> Iterator[multiprocessing.pool.Pool]:
    """One process for HiGHS (it cannot share one with OR-Tools), shared by the oracles."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield pool


@pytest.fixture(scope="session")
def oracle(highs_pool: multiprocessing.pool.Pool) -> Callable[..., dict]:
    """The transportation LP by HiGHS, in its own process: ``oracle(*lp_inputs, solver=...)``."""
    from tests.oracle_highs import lp_optimum

    def solve(*args: object, **kwargs: object) -> dict:
        return highs_pool.apply(lp_optimum, args, kwargs)

    return solve


@pytest.fixture(scope="session")
def floor_oracle(highs_pool: multiprocessing.pool.Pool) -> Callable[..., dict]:
    """The safety net's lexicographic LP by HiGHS (:func:`tests.oracle_highs.lp_floor_optimum`)."""
    from tests.oracle_highs import lp_floor_optimum

    def solve(*args: object, **kwargs: object) -> dict:
        return highs_pool.apply(lp_floor_optimum, args, kwargs)

    return solve
