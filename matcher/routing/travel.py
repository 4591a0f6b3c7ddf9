"""Distances and durations between a routing problem's places, as the integer matrices the solver takes.

Metres and seconds, rounded once here: the solver, the validation and the outputs all read these
matrices, so a route's km and times are the same wherever they are reported.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from harvestmatch.errors import InputError, Problem, first_problems
from matcher.routing.tables import Travel
from regions.geodesy import haversine_km


def matrices(
    ids: pl.Series, lat: NDArray[np.float64], lon: NDArray[np.float64], travel: Travel, *, source: str = "matrix"
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(metres, seconds) between every pair of places, shape ``(n, n)``, zero on the diagonal.

    Without a matrix: great-circle km times ``travel.circuity``, at ``travel.speed_kmh``. With one:
    its ``distance_km`` and ``duration_min`` as they are, looked up by ``(from_id, to_id)``.

    Raises
    ------
    InputError
        A matrix lacks a pair the problem needs (the first pairs are named, the rest counted).
    """
    n = len(ids)
    if travel.matrix is None:
        km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * travel.circuity
        seconds = km / travel.speed_kmh * 3600.0
        return np.rint(km * 1000.0).astype(np.int64), np.rint(seconds).astype(np.int64)
    position = pl.DataFrame({"_id": ids, "_pos": np.arange(n, dtype=np.int64)})
    pairs = (
        travel.matrix.select("from_id", "to_id", "distance_km", "duration_min")
        .join(position.rename({"_id": "from_id", "_pos": "_i"}), on="from_id")
        .join(position.rename({"_id": "to_id", "_pos": "_j"}), on="to_id")
    )
    km = np.full((n, n), np.nan)
    minutes = np.full((n, n), np.nan)
    i, j = pairs["_i"].to_numpy(), pairs["_j"].to_numpy()
    km[i, j] = pairs["distance_km"].to_numpy()
    minutes[i, j] = pairs["duration_min"].to_numpy()
    np.fill_diagonal(km, 0.0)
    np.fill_diagonal(minutes, 0.0)
    missing_i, missing_j = np.nonzero(np.isnan(km))
    if len(missing_i):
        names = ids.to_list()
        listed = (
            Problem(source, None, None, f"no row from {names[a]!r} to {names[b]!r}; the matrix must hold every pair of stops and depots")
            for a, b in zip(missing_i, missing_j)
        )
        raise InputError(first_problems(listed, source=source, column=None, rest="missing pairs", total=len(missing_i)))
    return np.rint(km * 1000.0).astype(np.int64), np.rint(minutes * 60.0).astype(np.int64)


__all__ = ["matrices"]
