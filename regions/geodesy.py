"""Great-circle geometry on numpy columns: haversine distances, unit vectors, nearest hubs.

Conventions (docs/design.md section 4): WGS84 latitude and longitude in degrees, a sphere of radius
6371.0 km, the haversine formula. Everything is vectorized; nothing here loops per point.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance in km between points, element-wise with numpy broadcasting.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees (WGS84). Any shapes that broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in km on a sphere of radius :data:`EARTH_RADIUS_KM`.
    """
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.subtract(lon2, lon1))
    h = np.sin(dphi * 0.5) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb * 0.5) ** 2
    # clip: rounding can push h a hair above 1 for antipodal points
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points as 3-D unit vectors, shape ``(n, 3)``: the chord metric orders points as the great circle does."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lmb = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)))


def nearest(
    points: NDArray[np.float64], targets: NDArray[np.float64], k: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
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
