"""The routing tables' columns (checked by :func:`matcher.schemas.parse_table`) and the default fleets.

Stops, depots, the fleet, the distance matrix and the platform's warehouses; see docs/routes.md for
each column's meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from harvestmatch.errors import Problem, first_problems
from harvestmatch.settings import Spec, check, setting
from matcher.schemas import Column
from regions.lanes import LaneCosts

STOPS: tuple[Column, ...] = (
    Column("stop_id", "id"),
    Column("lat", "lat"),
    Column("lon", "lon"),
    Column("kg", "kg"),
    Column("ready_min", "minutes", required=False),
    Column("due_min", "minutes", required=False),
    Column("service_min", "minutes", required=False),
)

DEPOTS: tuple[Column, ...] = (
    Column("depot_id", "id"),
    Column("lat", "lat"),
    Column("lon", "lon"),
)

FLEET: tuple[Column, ...] = (
    Column("vehicle_type", "id"),
    Column("capacity_kg", "kg"),
    Column("count", "count", required=False),  # empty: as many as the stops need
    Column("fixed_cost", "money"),
    Column("cost_per_km", "money"),
    Column("max_duration_min", "minutes"),
    Column("depot", "id", required=False),  # empty: vehicles of this row at every depot
)

MATRIX: tuple[Column, ...] = (
    Column("from_id", "id"),
    Column("to_id", "id"),
    Column("distance_km", "km"),
    Column("duration_min", "minutes"),
)

WAREHOUSES: tuple[Column, ...] = (
    Column("warehouse_id", "id"),
    Column("lat", "lat"),
    Column("lon", "lon"),
    Column("capacity_kg", "kg"),
    Column("handling_per_kg", "money"),
)

#: consolidation centres line haul may run through (origin node -> crossdock -> destination hub)
CROSSDOCKS: tuple[Column, ...] = (
    Column("crossdock_id", "id"),
    Column("lat", "lat"),
    Column("lon", "lon"),
    Column("capacity_kg", "kg"),
    Column("handling_per_kg", "money"),
)

#: the legs of a plan, in the order goods move
LEGS = ("first_mile", "line_haul", "last_mile")


def _fleet(rows: list[tuple[str, int, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"vehicle_type": pl.String, "capacity_kg": pl.Int64, "fixed_cost": pl.Float64, "cost_per_km": pl.Float64, "max_duration_min": pl.Float64},
        orient="row",
    ).with_columns(count=pl.lit(None, pl.Int64), depot=pl.lit(None, pl.String))


#: the fleet of each leg when no fleet table is given: light vans collect from farms and deliver to
#: pickup points, heavy trucks run between hubs (capacities and costs typical of Chinese cold-chain
#: freight in 2025; documented in docs/routes.md). ``count`` is empty: as many as the stops need.
DEFAULT_FLEETS: dict[str, pl.DataFrame] = {
    "first_mile": _fleet([("van_2t", 2_000, 150.0, 2.5, 600.0), ("truck_5t", 5_000, 300.0, 3.5, 600.0)]),
    "line_haul": _fleet([("truck_5t", 5_000, 300.0, 3.5, 7_200.0), ("truck_10t", 10_000, 500.0, 4.5, 7_200.0), ("truck_20t", 20_000, 800.0, 6.0, 7_200.0)]),
    "last_mile": _fleet([("van_1t", 1_000, 100.0, 2.0, 480.0), ("van_2t", 2_000, 150.0, 2.5, 480.0)]),
    "routes": _fleet([("truck_5t", 5_000, 300.0, 3.5, 600.0)]),
}


@dataclass(frozen=True)
class Travel:
    """How distances and durations are found: great circle x ``circuity`` at ``speed_kmh``, unless a
    ``matrix`` (``from_id, to_id, distance_km, duration_min``) is given; then only the matrix is used,
    and every pair a problem needs must be in it."""

    circuity: float = setting(LaneCosts.circuity, Spec("number", "road km per great-circle km without a matrix", low=1))
    speed_kmh: float = setting(60.0, Spec("number", "average speed without a matrix, km per hour", low=0, above=True))
    matrix: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        check(self)


def fleet_problems(fleet: pl.DataFrame, depots: pl.Series, *, source: str) -> list[Problem]:
    """Rows of a fleet naming a depot that does not exist, and duplicate (vehicle type, depot) rows."""
    problems: list[Problem] = []
    if "depot" in fleet.columns:
        known = set(depots.to_list())
        problems += first_problems(
            (
                Problem(source, row, "depot", f"{depot!r} is not a depot")
                for row, depot in enumerate(fleet["depot"].to_list(), start=1)
                if depot is not None and depot not in known
            ),
            source=source,
            column="depot",
            rest="rows naming no depot",
        )
    key = ["vehicle_type", "depot"] if "depot" in fleet.columns else ["vehicle_type"]
    duplicated = fleet.select(key).is_duplicated().arg_true()
    problems += first_problems(
        (Problem(source, row + 1, "vehicle_type", "the same vehicle type is listed twice for the same depot") for row in duplicated),
        source=source,
        column="vehicle_type",
        rest="duplicate vehicle types",
        total=len(duplicated),
    )
    return problems


def with_fleet_defaults(fleet: pl.DataFrame) -> pl.DataFrame:
    """A typed fleet with its optional columns present (empty where not given)."""
    if "count" not in fleet.columns:
        fleet = fleet.with_columns(count=pl.lit(None, pl.Int64))
    if "depot" not in fleet.columns:
        fleet = fleet.with_columns(depot=pl.lit(None, pl.String))
    return fleet.select("vehicle_type", "capacity_kg", "count", "fixed_cost", "cost_per_km", "max_duration_min", "depot")


__all__ = ["DEFAULT_FLEETS", "DEPOTS", "FLEET", "LEGS", "MATRIX", "STOPS", "Travel", "WAREHOUSES", "fleet_problems", "with_fleet_defaults"]
