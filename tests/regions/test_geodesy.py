from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regions.geodesy import haversine_km, nearest, unit_vectors
from tests.reference import haversine

lat = st.floats(-89.9, 89.9)
lon = st.floats(-180, 180)


def test_known_distance_beijing_shanghai() -> None:
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067.3, abs=1.0)


@given(st.lists(st.tuples(lat, lon, lat, lon), min_size=1, max_size=20))
def test_haversine_agrees_with_the_scalar_formula(points: list[tuple[float, float, float, float]]) -> None:
    a = np.array(points)
    got = haversine_km(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    want = [haversine(*p) for p in points]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_nearest_is_the_brute_force_nearest(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    p_lat, p_lon = rng.uniform(-60, 60, 30), rng.uniform(-180, 180, 30)
    t_lat, t_lon = rng.uniform(-60, 60, 12), rng.uniform(-180, 180, 12)
    index, _ = nearest(unit_vectors(p_lat, p_lon), unit_vectors(t_lat, t_lon), k)
    dist = haversine_km(p_lat[:, None], p_lon[:, None], t_lat[None, :], t_lon[None, :])
    best = np.sort(dist, axis=1)[:, :k]
    np.testing.assert_allclose(np.take_along_axis(dist, index, axis=1), best, rtol=1e-9)
