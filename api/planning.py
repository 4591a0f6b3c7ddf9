"""A cycle's transport plan in the service: its settings from the configuration, its inputs from the
cycle's snapshot and result, and its tables as the rows the runner commits with the cycle's results.

The plan is :func:`matcher.routing.plan.plan_routes`, the function ``harvest match --plan`` runs, on
the same frames the cycle was computed from: the snapshot's offers, orders and regions and the
result's allocations and order fills. The service has no warehouses (offers go to the hub of their
region) and uses the default fleets. Orders naming a ``pickup_point_id`` share that last-mile stop, as
in the batch job; orders without one share a stop with the others at the same place (latitude and
longitude to 5 decimals).

Configuration (the app's ``PLAN_*`` keys, from the ``[plan]`` table of ``HARVEST_CONFIG``)::

    PLAN_ROUTES       plan the routes of every cycle (default true); false: cycles have no plan
    PLAN_ITERATIONS   search iterations per routing problem (default 1000)
    PLAN_SECONDS      time limit per routing problem (default 5)
    PLAN_WORKERS      processes solving routing problems (default: the cycle's ``workers``, else the cores)
    PLAN_SPEED_KMH    average speed between places (default 60); distances are great circle x the
                      cycle's ``circuity``
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from api.settings import SettingsTable
from harvestmatch.errors import ParameterError
from matcher.params import MAX_WORKERS, MatchParams

if TYPE_CHECKING:
    from matcher.routing.plan import PlanSettings

#: the app's configuration key of each setting (and the ``[plan]`` key of ``HARVEST_CONFIG``)
CONFIG_KEYS = {"routes": "PLAN_ROUTES", "iterations": "PLAN_ITERATIONS", "seconds": "PLAN_SECONDS", "workers": "PLAN_WORKERS",
               "speed_kmh": "PLAN_SPEED_KMH"}

#: the summary's ``plan`` entry of a cycle run with planning switched off
OFF = {"status": "off", "reason": "route planning is switched off in the service's configuration (PLAN_ROUTES = false): this cycle has no transport plan"}


@dataclass(frozen=True)
class PlanConfig(SettingsTable):
    """How the service plans each cycle's routes (see the module docstring); validated on creation.

    Raises
    ------
    ParameterError
        A setting of the wrong type or out of range, naming it.
    """

    routes: bool = True
    iterations: int = 1_000
    seconds: float = 5.0
    workers: int | None = None
    speed_kmh: float = 60.0

    TABLE: ClassVar[str] = "plan"
    KEYS: ClassVar[Mapping[str, str]] = CONFIG_KEYS

    def __post_init__(self) -> None:
        if not isinstance(self.routes, bool):
            raise ParameterError(f"{CONFIG_KEYS['routes']} must be true or false, got {self.routes!r}")
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) or self.iterations < 1:
            raise ParameterError(f"{CONFIG_KEYS['iterations']} must be a whole number >= 1, got {self.iterations!r}")
        for name in ("seconds", "speed_kmh"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ParameterError(f"{CONFIG_KEYS[name]} must be a finite number > 0, got {value!r}")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int) or not 1 <= self.workers <= MAX_WORKERS):
            raise ParameterError(f"{CONFIG_KEYS['workers']} must be a whole number from 1 to {MAX_WORKERS}, or unset, got {self.workers!r}")

    def settings(self, params: MatchParams) -> PlanSettings:
        """The core's settings for a cycle run with ``params``: its circuity, and its workers unless the
        service names its own."""
        from matcher.fanout import available_cores
        from matcher.routing.plan import PlanSettings
        from matcher.routing.tables import Travel
        from matcher.routing.vrp import SolveSettings

        return PlanSettings(
            solve=SolveSettings(iterations=self.iterations, seconds=float(self.seconds)),
            travel=Travel(circuity=params.circuity, speed_kmh=float(self.speed_kmh)),
            workers=self.workers or params.workers or available_cores(),
        )


def read_config(path: str | Path) -> tuple[MatchParams, PlanConfig]:
    """``HARVEST_CONFIG``: the cycle parameters (top-level keys, or a ``[match]`` table, and a
    ``[safety_net]`` table) and the ``[plan]`` table (its ``[after_sales]`` table is
    :func:`api.after_sales.read_after_sales`'s).

    Raises
    ------
    ParameterError
        The file cannot be read, is not TOML, or holds an unknown or bad setting.
    """
    from matcher.params import read_toml

    return config_of(read_toml(path), str(path))


def config_of(document: dict[str, Any], source: str) -> tuple[MatchParams, PlanConfig]:
    """:func:`read_config` of a parsed document (the service reads ``HARVEST_CONFIG`` once)."""
    plan = PlanConfig.table(document, source)
    return MatchParams.from_config(document, source=source), PlanConfig.from_table(plan, source)


@dataclass(frozen=True)
class PlannedCycle:
    """A cycle's plan as the rows of ``plan_routes``, ``plan_stops`` and ``plan_unserved`` (each with
    its ``cycle_id``), and the summary's ``plan`` entry."""

    routes: pl.DataFrame
    stops: pl.DataFrame
    unserved: pl.DataFrame
    summary: dict[str, Any]


def plan_cycle(
    *, cycle_id: int, date: dt.date, params: MatchParams, offers: pl.DataFrame, orders: pl.DataFrame, regions: Any, result: Any,
    config: PlanConfig,
) -> PlannedCycle:
    """Plan the routes of a computed cycle (see the module docstring).

    Parameters
    ----------
    offers, orders
        The snapshot's offers and orders (typed frames).
    regions
        The validated regions the cycle ran with (:class:`regions.polygons.Regions`).
    result
        The cycle's :class:`matcher.pipeline.CycleResult`.

    Raises
    ------
    InputError, SolverError
        As :func:`matcher.routing.plan.plan_routes`: the cycle is then not done either.
    """
    from matcher.routing.batch import plan_inputs
    from matcher.routing.plan import depot_places, plan_routes

    inputs = plan_inputs(date=date, allocations=result.match.allocations, offers=offers, regions=regions,
                         orders_in=orders, orders_out=result.orders, warehouses=None)
    plan = plan_routes(inputs, config.settings(params))
    tag = pl.lit(cycle_id, pl.Int64).alias("cycle_id")
    places = depot_places(inputs).select("depot_id", pl.col("lat").alias("depot_lat"), pl.col("lon").alias("depot_lon"))
    routes = plan.routes.join(places, on="depot_id", how="left").with_columns(tag)
    summary = {k: v for k, v in plan.summary.items() if k != "date"}
    return PlannedCycle(routes, plan.stops.with_columns(tag), plan.unserved.with_columns(tag), summary)
