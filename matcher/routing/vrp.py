"""One capacitated vehicle routing problem with time windows, solved by PyVRP and checked by us.

The model (one problem: a set of depots, stops and vehicle types)::

    stops        s with kg q_s, time window [a_s, b_s] (minutes), service time t_s
    vehicles     k of type v at depot o(v): capacity Q_v, fixed cost F_v, cost per km c_v, shift H_v,
                 at most n_v of them (empty: as many as the stops need)
    travel       d(i, j) metres and tau(i, j) seconds (matcher/routing/travel.py)

    minimise     sum over used vehicles k:  F_v(k) + c_v(k) * sum over arcs (i, j) of k's tour  d(i, j) / 1000
    subject to   every stop visited exactly once (a stop heavier than the largest vehicle is first split
                 into full loads of that vehicle plus a remainder, each visited once: full loads go direct);
                 a tour starts and ends at its vehicle's depot (an open-ended problem, line haul, does
                 not drive back: d(s, depot) = tau(s, depot) = 0);
                 sum of q_s on a tour <= Q_v  (the kg collected, or delivered, by one vehicle);
                 service at s starts in [a_s, b_s] (a vehicle arriving early waits; it may not be late);
                 the tour is back at its depot within H_v of the start of the shift (time 0).

PyVRP (an iterated local search; about 0.3% from the best known on CVRPLIB's X set) searches for a
solution with a fixed seed and an iteration budget, so the same problem gives the same routes on any
machine; a time limit caps the search, and a problem stopped by it is marked ``time_limited`` (its
routes are valid, but another run may find others). Nothing PyVRP returns is published unchecked:
:func:`solve_routing` recomputes every tour's load, times, km and cost from the matrices, checks the
conditions above and that every kg is on exactly one tour or listed as unserved, and raises
:class:`~harvestmatch.errors.SolverError` otherwise.

Outcomes (never a silent partial plan):

- ``served``: every stop on a tour;
- ``partial``: some stops cannot be served, each listed with why: no vehicle can reach it within its
  window, or a round trip to it does not fit any shift (known before the search), or the fleet's
  count runs out (the search then maximises the stops served: each carries a prize above any tour's cost);
- ``infeasible``: the search found no plan that keeps every condition; every stop is listed;
- ``empty``: no stops.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from harvestmatch.settings import Spec, check, setting
from matcher.routing.tables import Travel, with_fleet_defaults
from matcher.routing.tours import (
    METRES_PER_UNIT,
    MONEY_UNITS,
    REASONS,
    ROUTE_SCHEMA,
    STOP_SCHEMA,
    Pieces,
    Status,
    checked_tours,
    unserved_rows,
)
from matcher.routing.travel import matrices

#: a routing problem's setup (its distances, the solver's data, the checks of the outcome) costs about as
#: much as this many stop-iterations of search (bench/RESULTS.md, "freight-national": about 9 ms against
#: about 0.008 ms per stop and iteration): a plan's ``budget`` pays it once per problem
SETUP_WORK = 1_000

#: the search's penalty for excess load and lateness adapts after this many solutions, up to this bound
PENALTY_UPDATE_EVERY = 25
MAX_PENALTY = 1e9


@dataclass(frozen=True)
class SolveSettings:
    """The search budget of one routing problem: ``iterations`` (deterministic with ``seed``), capped at
    ``seconds``; and of a plan of many problems, ``budget`` (:meth:`per_problem`). The defaults are every
    command's and the service's (``harvest routes``, ``harvest plan``, ``harvest match --plan``, the
    ``[plan]`` table); validated on creation.

    Raises
    ------
    ParameterError
        A setting of the wrong type or out of range, naming it.
    """

    iterations: int = setting(1_000, Spec("whole", "iterations per routing problem; with the seed they make the routes repeatable", low=1))
    seconds: float = setting(5.0, Spec("number", "time limit per routing problem, in seconds", low=0, above=True))
    seed: int = setting(1, Spec("whole", "seed of the routing search", low=0))
    budget: int = setting(
        20_000_000,
        Spec(
            "whole",
            "search work of a whole plan, in stop-iterations (each problem's stops x its iterations, plus 1,000 per problem): "
            "a plan with more stops gives each problem fewer iterations, down to 1",
            low=1,
        ),
    )

    def __post_init__(self) -> None:
        check(self)

    def per_problem(self, problems: int, stops: int) -> SolveSettings:
        """The settings each of a plan's ``problems`` problems (``stops`` stops in all) is solved with:
        the same ``iterations`` for every problem, as many as ``budget`` leaves after
        :data:`SETUP_WORK` per problem, spread over the stops (``(budget - SETUP_WORK x problems) //
        stops``), at most ``iterations`` and at least 1. It depends on the plan's size only, so the same
        plan gets the same routes on any machine and any number of workers."""
        if stops <= 0:
            return self
        spread = (self.budget - SETUP_WORK * problems) // stops
        return replace(self, iterations=int(min(self.iterations, max(1, spread))))


@dataclass(frozen=True)
class RoutingProblem:
    """One problem.

    Attributes
    ----------
    problem_id
        Names the problem in the outputs.
    stops
        ``stop_id, lat, lon, kg, ready_min, due_min, service_min`` (the last three may be absent or empty:
        0, the end of the longest shift, 0).
    depots
        ``depot_id, lat, lon``.
    fleet
        :data:`~matcher.routing.tables.FLEET` columns.
    collect
        True: the stops' kg are collected and brought to the depot (first mile); False: delivered from it.
    travel
        Great circle or a matrix (the matrix's ids are the depot and stop ids).
    route_prefix
        Route ids are this prefix and a three-digit number.
    open_end
        True: a tour ends at its last stop (line haul: the truck takes a backhaul from there), so the
        way back to the depot is neither driven, costed nor timed; False: tours return to their depot.
    """

    problem_id: str
    stops: pl.DataFrame
    depots: pl.DataFrame
    fleet: pl.DataFrame
    collect: bool = False
    travel: Travel = field(default_factory=Travel)
    route_prefix: str = "R"
    open_end: bool = False


@dataclass(frozen=True)
class RoutingOutcome:
    problem_id: str
    status: Status
    time_limited: bool
    routes: pl.DataFrame
    stops: pl.DataFrame
    unserved: pl.DataFrame
    cost: float
    iterations: int
    seconds: float

    def summary(self) -> dict[str, object]:
        r = self.routes
        kg = int(r["kg"].sum()) if r.height else 0
        capacity = int(r["capacity_kg"].sum()) if r.height else 0
        return {
            "problem_id": self.problem_id,
            "status": self.status,
            "time_limited": self.time_limited,
            "vehicles": r.height,
            "stops": int(r["stops"].sum()) if r.height else 0,
            "kg": kg,
            "unserved_stops": self.unserved["stop_id"].n_unique(),
            "unserved_kg": int(self.unserved["kg"].sum()),
            "km": round(float(r["km"].sum()), 3) if r.height else 0.0,
            "cost": round(self.cost, 2),
            "load_factor": round(kg / capacity, 4) if capacity else None,
            "iterations": self.iterations,
            "seconds": round(self.seconds, 3),
        }


def solve_routing(problem: RoutingProblem, settings: SolveSettings = SolveSettings()) -> RoutingOutcome:
    """Solve one problem and check the solution (see the module docstring).

    Raises
    ------
    InputError
        A matrix lacks a pair the problem needs.
    SolverError
        PyVRP returned a plan that breaks a condition (a bug, never an input problem).
    """
    clock = time.perf_counter()
    # rows naming a depot apply only at that depot: a row based at another problem's depot is not here
    fleet = with_fleet_defaults(problem.fleet).filter(pl.col("depot").is_null() | pl.col("depot").is_in(problem.depots["depot_id"].implode()))
    stops = _stops_with_defaults(problem.stops, fleet)
    if stops.height == 0:
        return _outcome(
            problem,
            "empty",
            False,
            pl.DataFrame(schema=ROUTE_SCHEMA),
            pl.DataFrame(schema=STOP_SCHEMA),
            unserved_rows(problem.problem_id, stops, np.empty(0, np.int64), np.empty(0, np.int64), []),
            0,
            clock,
        )
    if fleet.height == 0:
        everyone = np.arange(stops.height, dtype=np.int64)
        unserved = unserved_rows(problem.problem_id, stops, everyone, stops["kg"].to_numpy().astype(np.int64), ["no_vehicle"] * stops.height)
        return _outcome(problem, "partial", False, pl.DataFrame(schema=ROUTE_SCHEMA), pl.DataFrame(schema=STOP_SCHEMA), unserved, 0, clock)
    depots = problem.depots
    n_depots = depots.height
    ids = pl.concat([depots["depot_id"], stops["stop_id"]])
    lat = np.concatenate([depots["lat"].to_numpy(), stops["lat"].to_numpy()])
    lon = np.concatenate([depots["lon"].to_numpy(), stops["lon"].to_numpy()])
    metres, dur = matrices(ids, lat, lon, problem.travel)
    dist = (metres + METRES_PER_UNIT // 2) // METRES_PER_UNIT
    if problem.open_end:  # the way back is not part of the tour: free and instant, for the search and the check alike
        dist[:, :n_depots] = 0
        dur[:, :n_depots] = 0

    types = _vehicle_types(fleet, depots)
    pieces = _split(stops["kg"].to_numpy().astype(np.int64), int(types["capacity"].max()))
    ready = np.rint(stops["ready_min"].to_numpy() * 60).astype(np.int64)[pieces.stop]
    due = np.rint(stops["due_min"].to_numpy() * 60).astype(np.int64)[pieces.stop]
    service = np.rint(stops["service_min"].to_numpy() * 60).astype(np.int64)[pieces.stop]
    location = n_depots + pieces.stop
    due_given = stops["_due_given"].to_numpy()[pieces.stop]
    reason, fits = _precheck(pieces, location, ready, due, due_given, service, types, dur)
    servable = np.flatnonzero(reason == "")
    counts = np.where(types["count"] > 0, types["count"], max(len(servable), 1))

    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    locations = [pyvrp.Location(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=int(counts[v]),
            capacity=[int(types["capacity"][v])],
            start_depot=int(types["depot"][v]),
            end_depot=int(types["depot"][v]),
            fixed_cost=int(types["fixed"][v]),
            tw_early=0,
            tw_late=int(types["shift"][v]),
            shift_duration=int(types["shift"][v]),
            unit_distance_cost=int(types["per_unit"][v]),
            name=str(v),
        )
        for v in range(len(counts))
    ]
    depot_objs = [pyvrp.Depot(i) for i in range(n_depots)]
    big = int(10 * (types["fixed"].max() + types["per_unit"].max() * 2 * max(int(dist.max()), 1)) + 1)

    def clients(required: bool) -> list[pyvrp.Client]:
        return [
            pyvrp.Client(
                int(location[p]),
                delivery=[] if problem.collect else [int(pieces.kg[p])],
                pickup=[int(pieces.kg[p])] if problem.collect else [],
                service_duration=int(service[p]),
                tw_early=int(ready[p]),
                tw_late=int(due[p]),
                required=required,
                prize=0 if required else big,
            )
            for p in servable
        ]

    iterations, time_limited = 0, False
    routes: list[tuple[int, list[int], int]] = []  # (vehicle type, pieces in order, start time in s)
    if len(servable):
        # penalties adapt every few solutions (PyVRP's default, 500, is more than a short budget's
        # iterations: the first penalties would stay, and with costs per decametre they can be too
        # small to leave a plan that overloads a vehicle by a few kg)
        params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(solutions_between_updates=PENALTY_UPDATE_EVERY, max_penalty=MAX_PENALTY))
        alone = _one_vehicle_each(fits[servable], counts)
        best = None
        for required in (True, False):
            data = pyvrp.ProblemData(locations, clients(required), depot_objs, vehicle_types, [dist], [dur])  # type: ignore[list-item]
            start = None
            if alone is not None:
                start = pyvrp.Solution(data, [pyvrp.Route(data, [pyvrp.Activity(pyvrp.ActivityType.CLIENT, k)], v) for k, v in alone])
            with warnings.catch_warnings():  # a short fleet makes the first search hit its penalty bound:
                warnings.simplefilter("ignore", PenaltyBoundWarning)  # expected; the outcome says so
                # a fresh stopping rule per search: PyVRP's rules keep their count and clock
                stop_rule = MultipleCriteria([MaxIterations(settings.iterations), MaxRuntime(settings.seconds)])
                result = pyvrp.solve(data, stop_rule, seed=settings.seed, collect_stats=False, display=False, params=params, initial_solution=start)
            iterations += result.num_iterations
            time_limited |= result.num_iterations < settings.iterations
            if result.best.is_feasible():
                best = result.best
                break
        if best is None:
            reason[servable] = "no_plan"
        else:
            visited = np.zeros(len(servable), bool)
            for route in best.routes():
                client_ix = [a.idx for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT]
                if route.start_depot() != route.end_depot():
                    raise SolverError(f"{problem.problem_id}: a tour ends at another depot than it starts from")
                visited[client_ix] = True
                routes.append((route.vehicle_type(), [int(servable[c]) for c in client_ix], int(route.start_time())))
            reason[servable[~visited]] = "fleet"
    status, tours, tour_stops, unserved = checked_tours(problem, stops, pieces, reason, routes, types, dist, dur, ready, due, service, location)
    return _outcome(problem, status, time_limited, tours, tour_stops, unserved, iterations, clock)


def _stops_with_defaults(stops: pl.DataFrame, fleet: pl.DataFrame) -> pl.DataFrame:
    longest = float(fleet["max_duration_min"].max()) if fleet.height else 0.0  # type: ignore[arg-type]
    filled = stops
    given_due = pl.col("due_min").is_not_null() if "due_min" in stops.columns else pl.lit(False)
    filled = filled.with_columns(_due_given=given_due)
    for name, default in (("ready_min", 0.0), ("due_min", longest), ("service_min", 0.0)):
        value = pl.col(name).cast(pl.Float64).fill_null(default) if name in stops.columns else pl.lit(default, pl.Float64)
        filled = filled.with_columns(value.alias(name))
    return filled.select("stop_id", "lat", "lon", "kg", "ready_min", "due_min", "service_min", "_due_given")


def _vehicle_types(fleet: pl.DataFrame, depots: pl.DataFrame) -> dict[str, Any]:
    """One solver vehicle type per (fleet row, depot it is based at), as columns."""
    depot_index = {d: i for i, d in enumerate(depots["depot_id"].to_list())}
    rows: list[tuple[int, int]] = []
    for r, depot in enumerate(fleet["depot"].to_list()):
        rows += [(r, depot_index[depot])] if depot is not None else [(r, d) for d in range(depots.height)]
    row = np.array([r for r, _ in rows], np.int64)
    count = fleet["count"].fill_null(0).to_numpy().astype(np.int64)[row]
    return {
        "row": row,
        "depot": np.array([d for _, d in rows], np.int64),
        "name": [fleet["vehicle_type"][int(r)] for r in row],
        "capacity": fleet["capacity_kg"].to_numpy().astype(np.int64)[row],
        "count": count,
        "fixed": np.rint(fleet["fixed_cost"].to_numpy() * MONEY_UNITS).astype(np.int64)[row],
        "per_unit": np.rint(fleet["cost_per_km"].to_numpy() * (MONEY_UNITS * METRES_PER_UNIT / 1000)).astype(np.int64)[row],
        "shift": np.rint(fleet["max_duration_min"].to_numpy() * 60).astype(np.int64)[row],
    }


def _split(kg: NDArray[np.int64], largest: int) -> Pieces:
    full = kg // largest
    rest = kg - full * largest
    n = full + (rest > 0)
    stop = np.repeat(np.arange(len(kg), dtype=np.int64), n)
    piece_kg = np.full(len(stop), largest, np.int64)
    last = np.cumsum(n) - 1
    has_rest = rest > 0
    piece_kg[last[has_rest]] = rest[has_rest]
    return Pieces(stop, piece_kg)


def _precheck(
    pieces: Pieces,
    location: NDArray[np.int64],
    ready: NDArray[np.int64],
    due: NDArray[np.int64],
    due_given: NDArray[np.bool_],
    service: NDArray[np.int64],
    types: dict,
    dur: NDArray[np.int64],
) -> tuple[NDArray[np.str_], NDArray[np.bool_]]:
    """Why each piece cannot be served by any vehicle alone ("" when one can), and which vehicle types
    can serve it alone (pieces x types): before the search. A stop without a due time of its own that
    no vehicle reaches in time is out of every shift's reach, not late."""
    depot = types["depot"]
    reach = dur[depot[None, :], location[:, None]]  # pieces x vehicle types
    start = np.maximum(ready[:, None], reach)
    in_window = start <= due[:, None]
    back = start + service[:, None] + dur[location[:, None], depot[None, :]]
    fits = (types["capacity"][None, :] >= pieces.kg[:, None]) & in_window & (back <= types["shift"][None, :])
    reason = np.full(len(pieces.kg), "", dtype=object)
    late = ~in_window.any(axis=1) & due_given
    reason[~fits.any(axis=1) & late] = "window"
    reason[~fits.any(axis=1) & ~late] = "shift"
    return reason, fits


def _one_vehicle_each(fits: NDArray[np.bool_], counts: NDArray[np.int64]) -> list[tuple[int, int]] | None:
    """A plan that gives every piece a vehicle of its own (the first type that can serve it alone and
    has one left): (piece's position among those searched, vehicle type); None when the counts run out.
    The search starts from it, so that a plan is known to exist before it looks for a cheaper one."""
    left = counts.copy()
    plan = []
    for k, row in enumerate(fits):
        usable = np.flatnonzero(row & (left > 0))
        if not len(usable):
            return None
        left[usable[0]] -= 1
        plan.append((k, int(usable[0])))
    return plan


def _outcome(
    problem: RoutingProblem,
    status: Status,
    time_limited: bool,
    routes: pl.DataFrame,
    stops: pl.DataFrame,
    unserved: pl.DataFrame,
    iterations: int,
    clock: float,
) -> RoutingOutcome:
    cost = float(routes["cost"].sum()) if routes.height else 0.0
    return RoutingOutcome(problem.problem_id, status, time_limited, routes, stops, unserved, cost, iterations, time.perf_counter() - clock)


__all__ = ["REASONS", "SETUP_WORK", "RoutingOutcome", "RoutingProblem", "SolveSettings", "solve_routing"]
