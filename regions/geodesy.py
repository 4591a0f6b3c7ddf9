"""Great-circle geometry on numpy columns: haversine distances, unit vectors, nearest hubs.

Conventions (docs/design.md section 4): WGS84 latitude and longitude in degrees, a sphere of radius
6371.0 km, the haversine formula. Everything is vectorized; nothing here loops per point.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from harvestmatch.kernels import runs_interpreted

EARTH_RADIUS_KM = 6371.0


def compiled_arcsin(x: ArrayLike) -> Any:
    """The arcsine as the compiled lane kernels take it (libm's ``asin`` through numba), element-wise.

    numpy's own ``arcsin`` is vectorized differently (SIMD, since numpy 2.x) and can differ from libm
    in the last bit; every distance in the project goes through this one so that the numpy path and the
    compiled kernels of :mod:`matcher.dense` agree bit for bit. Compiled (or loaded from numba's cache)
    on the first call, not at import: importing this module does not load numba. A small array while
    numba is not loaded takes libm's ``asin`` through the interpreter instead (the same function, so the
    same bits: :mod:`harvestmatch.kernels`)."""
    values = np.asarray(x, dtype=np.float64)
    if runs_interpreted(values.size):
        return np.asarray(np.frompyfunc(math.asin, 1, 1)(values), dtype=np.float64)
    return _arcsin_ufunc()(values)


@cache
def _arcsin_ufunc() -> Any:
    from numba import vectorize

    return vectorize(["float64(float64)"], cache=True)(_asin)


def _asin(x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    return math.asin(x)


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance in km between points, element-wise with numpy broadcasting.

    The haversine formula, with the half-angle differences expanded
    (``sin((b - a) / 2) = sin(b/2) cos(a/2) - cos(b/2) sin(a/2)``) so that every sine and cosine is
    taken once per point (:func:`half_angles`) and a pair costs a few products and one arcsine. The
    compiled lane kernels (:mod:`matcher.dense`) evaluate :func:`haversine_from_halves` operation for
    operation, so every lane distance in the project comes from this one formula.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees (WGS84). Any shapes that broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in km on a sphere of radius :data:`EARTH_RADIUS_KM`.
    """
    return haversine_from_halves(half_angles(lat1, lon1), half_angles(lat2, lon2))


def half_angles(lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """Per point: ``sin, cos`` of half the latitude, ``sin, cos`` of half the longitude (radians), and
    ``cos`` of the latitude."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lmb = np.radians(np.asarray(lon, dtype=np.float64))
    return np.sin(phi * 0.5), np.cos(phi * 0.5), np.sin(lmb * 0.5), np.cos(lmb * 0.5), np.cos(phi)


def haversine_from_halves(a: tuple[NDArray[np.float64], ...], b: tuple[NDArray[np.float64], ...]) -> NDArray[np.float64]:
    """:func:`haversine_km` from two points' :func:`half_angles`."""
    sa, ca, sla, cla, cos_a = a
    sb, cb, slb, clb, cos_b = b
    s_phi = sb * ca - cb * sa  # sin((phi_b - phi_a) / 2)
    s_lmb = slb * cla - clb * sla  # sin((lmb_b - lmb_a) / 2)
    h = s_phi * s_phi + cos_a * cos_b * (s_lmb * s_lmb)
    # clip: rounding can push h a hair outside [0, 1]
    return (2.0 * EARTH_RADIUS_KM) * compiled_arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points as 3-D unit vectors, shape ``(n, 3)``: the chord metric orders points as the great circle does."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lmb = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)))


def nearest(points: NDArray[np.float64], targets: NDArray[np.float64], k: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``k`` nearest targets of every point by great-circle distance.

    Parameters
    ----------
    points, targets
        Unit vectors from :func:`unit_vectors`, shapes ``(n, 3)`` and ``(m, 3)``.
    k
        How many neighbours; at most ``m`` are returned.

    Returns
    -------
    (index, chord)
        Arrays of shape ``(n, min(k, m))``: target indices ordered nearest first (ties by index), and
        the chord lengths.
    """
    from scipy.spatial import cKDTree  # imported here: only the lane builder pays for it

    k = min(k, len(targets))
    if k == 0 or len(points) == 0:
        return np.empty((len(points), 0), np.int64), np.empty((len(points), 0), np.float64)
    tree = cKDTree(targets)
    chord, index = tree.query(points, k=k)
    return np.asarray(index, np.int64).reshape(len(points), k), np.asarray(chord).reshape(len(points), k)
