"""The checks of a routing problem's tours: every tour recomputed from the matrices before it is published.

PyVRP's answer is a list of tours (vehicle type, stops in order, start time). :func:`checked_tours`
walks each one over the distance and duration matrices and checks what :mod:`matcher.routing.vrp`'s
model requires: the load within the vehicle's capacity, every service within its stop's window, the
return within the shift, every piece of every stop on exactly one tour or listed as unserved, and no
more vehicles of a type than the fleet has. A broken condition raises
:class:`~harvestmatch.errors.SolverError`; nothing unchecked leaves. The frames it builds (tours,
stops in order, unserved stops with their reason) are the contract's (:data:`ROUTE_SCHEMA`,
:data:`STOP_SCHEMA`, :data:`UNSERVED_SCHEMA`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from harvestmatch.errors import SolverError


class TourProblem(Protocol):
    """What the checks read of a routing problem (:class:`matcher.routing.vrp.RoutingProblem`)."""

    @property
    def problem_id(self) -> str: ...
    @property
    def route_prefix(self) -> str: ...
    @property
    def depots(self) -> pl.DataFrame: ...
    @property
    def collect(self) -> bool: ...


Status = Literal["served", "partial", "infeasible", "empty"]

#: the solver's integer units: distances in decametres, money in thousandths. A cost per km given to
#: a hundredth is then an exact integer per decametre, and costs stay in the range of PyVRP's penalties
#: for excess load and lateness (a solver cost in micro-units would dwarf them: no feasible plan found)
METRES_PER_UNIT = 10


MONEY_UNITS = 1_000


ROUTE_SCHEMA = {
    "problem_id": pl.String,
    "route_id": pl.String,
    "depot_id": pl.String,
    "vehicle_type": pl.String,
    "capacity_kg": pl.Int64,
    "stops": pl.Int64,
    "kg": pl.Int64,
    "load_factor": pl.Float64,
    "km": pl.Float64,
    "start_min": pl.Float64,
    "end_min": pl.Float64,
    "duration_min": pl.Float64,
    "cost": pl.Float64,
}


STOP_SCHEMA = {
    "route_id": pl.String,
    "seq": pl.Int64,
    "stop_id": pl.String,
    "kg": pl.Int64,
    "arrive_min": pl.Float64,
    "start_min": pl.Float64,
    "depart_min": pl.Float64,
    "load_kg": pl.Int64,
    "lat": pl.Float64,
    "lon": pl.Float64,
}


UNSERVED_SCHEMA = {"problem_id": pl.String, "stop_id": pl.String, "kg": pl.Int64, "reason": pl.String}


REASONS = {
    "window": "no vehicle can reach it from its depot before its due time",
    "shift": "a round trip to it from the depot does not fit in any vehicle's shift (max_duration_min)",
    "fleet": "no vehicle left: the fleet's count cannot take every stop within capacities, windows and shifts",
    "no_plan": "the search found no plan that keeps every capacity, window and shift",
    "no_vehicle": "no vehicle of the fleet is based at this problem's depots (every row names another depot)",
}


@dataclass(frozen=True)
class Pieces:
    """Stops split into loads no larger than the largest vehicle (all as columns, one row per piece)."""

    stop: NDArray[np.int64]  # index into the problem's stops
    kg: NDArray[np.int64]


def checked_tours(
    problem: TourProblem,
    stops: pl.DataFrame,
    pieces: Pieces,
    reason: NDArray,
    routes: list[tuple[int, list[int], int]],
    types: dict,
    dist: NDArray[np.int64],
    dur: NDArray[np.int64],
    ready: NDArray[np.int64],
    due: NDArray[np.int64],
    service: NDArray[np.int64],
    location: NDArray[np.int64],
) -> tuple[Status, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Recompute every tour from the matrices and check it (module docstring); the problem's status,
    its tours (:data:`ROUTE_SCHEMA`), their stops in order (:data:`STOP_SCHEMA`) and its unserved
    stops (:data:`UNSERVED_SCHEMA`)."""
    pid = problem.problem_id
    seen = np.zeros(len(pieces.kg), np.int64)
    route_rows: list[tuple] = []
    stop_rows: list[tuple] = []
    stop_ids = stops["stop_id"].to_list()
    stop_lat, stop_lon = stops["lat"].to_list(), stops["lon"].to_list()
    depot_ids = problem.depots["depot_id"].to_list()
    # a stable order: by depot, start time, then first stop id
    routes = sorted(routes, key=lambda r: (int(types["depot"][r[0]]), r[2], stop_ids[pieces.stop[r[1][0]]], r[0]))
    for k, (v, order, start) in enumerate(routes, start=1):
        route_id = f"{problem.route_prefix}{k:03d}"
        depot = int(types["depot"][v])
        capacity = int(types["capacity"][v])
        kg = int(pieces.kg[order].sum())
        if kg > capacity:
            raise SolverError(f"{pid}: route {route_id} carries {kg} kg in a vehicle of {capacity} kg")
        seen[order] += 1
        t, at, units = start, depot, 0
        load = 0 if problem.collect else kg
        for seq, p in enumerate(order, start=1):
            here = int(location[p])
            t += int(dur[at, here])
            units += int(dist[at, here])
            arrive = t
            begin = max(t, int(ready[p]))
            if begin > due[p]:
                raise SolverError(f"{pid}: route {route_id} reaches stop {stop_ids[pieces.stop[p]]!r} after its due time")
            t = begin + int(service[p])
            load += int(pieces.kg[p]) if problem.collect else -int(pieces.kg[p])
            s = int(pieces.stop[p])
            stop_rows.append((route_id, seq, stop_ids[s], int(pieces.kg[p]), arrive / 60, begin / 60, t / 60, load, stop_lat[s], stop_lon[s]))
            at = here
        t += int(dur[at, depot])
        units += int(dist[at, depot])
        if t > types["shift"][v]:
            raise SolverError(f"{pid}: route {route_id} is back at its depot after the end of the vehicle's shift")
        km = units * METRES_PER_UNIT / 1000
        cost = (int(types["fixed"][v]) + int(types["per_unit"][v]) * units) / MONEY_UNITS
        route_rows.append(
            (pid, route_id, depot_ids[depot], types["name"][v], capacity, len(order), kg, kg / capacity, km, start / 60, t / 60, (t - start) / 60, cost)
        )
    served = reason == ""
    if np.any(seen[served] != 1) or np.any(seen[~served] != 0):
        raise SolverError(f"{pid}: a stop's kg is not on exactly one tour")
    used = (
        np.bincount(np.array([v for v, _, _ in routes], np.int64), minlength=len(types["capacity"])) if routes else np.zeros(len(types["capacity"]), np.int64)
    )
    limited = types["count"] > 0
    if np.any(used[limited] > types["count"][limited]):
        raise SolverError(f"{pid}: more vehicles used than the fleet has")
    unserved = unserved_rows(pid, stops, pieces.stop[~served], pieces.kg[~served], list(reason[~served]))
    status: Status = "served" if served.all() else ("infeasible" if (reason == "no_plan").any() else "partial")
    return status, pl.DataFrame(route_rows, schema=ROUTE_SCHEMA, orient="row"), pl.DataFrame(stop_rows, schema=STOP_SCHEMA, orient="row"), unserved


def unserved_rows(pid: str, stops: pl.DataFrame, stop_ix: NDArray[np.int64], kg: NDArray[np.int64], reasons: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "problem_id": [pid] * len(stop_ix),
            "stop_id": stops["stop_id"].gather(stop_ix.tolist()) if len(stop_ix) else [],
            "kg": kg,
            "reason": [REASONS[r] for r in reasons],
        },
        schema=UNSERVED_SCHEMA,
    )
    return frame.group_by("problem_id", "stop_id", "reason", maintain_order=True).agg(pl.col("kg").sum()).select(list(UNSERVED_SCHEMA))


__all__ = [
    "METRES_PER_UNIT",
    "MONEY_UNITS",
    "REASONS",
    "ROUTE_SCHEMA",
    "STOP_SCHEMA",
    "UNSERVED_SCHEMA",
    "Pieces",
    "Status",
    "TourProblem",
    "checked_tours",
    "unserved_rows",
]
