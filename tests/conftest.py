from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings


settings.register_profile("default", deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def oracle() -> Iterator[Callable[..., dict]]:
    """HiGHS in its own process (it cannot share one with OR-Tools): ``oracle(*lp_inputs, solver=...)``."""
    from tests.oracle_highs import lp_optimum

    with multiprocessing.get_context("spawn").Pool(1) as pool:

        def solve(*args: object, **kwargs: object) -> dict:
            return pool.apply(lp_optimum, args, kwargs)

        yield solve
