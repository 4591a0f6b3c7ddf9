"""A cycle's transport plan in the service: its settings from the configuration, and its tables as the
rows the runner commits with the cycle's results.

The plan is made by :func:`matcher.pipeline.compute_cycle`, the function ``harvest match --plan`` runs,
right after the match, on the same frames: the snapshot's offers, orders and regions and the result's
allocations and order fills. The service has no warehouses (offers go to the hub of their
region) and uses the operator's fleet (``PUT /fleets``, read in the cycle's snapshot), else the
default fleets. Orders naming a ``pickup_point_id`` share that last-mile stop, as in the batch
job; orders without one share a stop with the others at the same place (latitude and longitude to 5
decimals).

Configuration: the fields of :class:`PlanConfig`, the ``[plan]`` table of ``HARVEST_CONFIG`` and the
app's ``PLAN_*`` keys (``[plan] iterations`` is ``PLAN_ITERATIONS``). The search budget and the speed
take their defaults and limits from the core's own (:class:`matcher.routing.vrp.SolveSettings`,
:class:`matcher.routing.tables.Travel`), so the service, ``harvest plan`` and ``harvest match --plan``
plan alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from api.settings import SettingsTable
from harvestmatch.settings import Spec, same_as, setting
from matcher.params import MAX_WORKERS, MatchParams
from matcher.routing.tables import Travel
from matcher.routing.vrp import SolveSettings

if TYPE_CHECKING:
    from matcher.pipeline import CyclePlan
    from matcher.routing.plan import PlanSettings

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

    routes: bool = setting(True, Spec("flag", "plan the routes of every cycle; off: cycles have no plan"))
    iterations: int = same_as(SolveSettings, "iterations")
    seconds: float = same_as(SolveSettings, "seconds")
    budget: int = same_as(SolveSettings, "budget")
    workers: int | None = setting(
        None,
        Spec(
            "whole", "processes solving routing problems", low=1, high=MAX_WORKERS, optional=True, shown_default="the cycle's workers, else the cores available"
        ),
    )
    speed_kmh: float = same_as(Travel, "speed_kmh")

    TABLE: ClassVar[str] = "plan"
    PREFIX: ClassVar[str] = "PLAN_"

    def settings(self, params: MatchParams, fleets: Mapping[str, pl.DataFrame] | None = None) -> PlanSettings:
        """The core's settings for a cycle run with ``params`` (:meth:`PlanSettings.for_cycle
        <matcher.routing.plan.PlanSettings.for_cycle>`, as ``harvest match --plan``): the service's
        search budget, speed and workers (unset: the cycle's), and ``fleets`` (leg -> vehicles: the
        stored fleet, :mod:`api.fleets_store`; None: the default fleets)."""
        from matcher.routing.plan import PlanSettings

        solve = SolveSettings(iterations=self.iterations, seconds=float(self.seconds), budget=self.budget)
        return PlanSettings.for_cycle(params, solve=solve, speed_kmh=float(self.speed_kmh), workers=self.workers, fleets=fleets)


def read_config(path: str | Path) -> tuple[MatchParams, PlanConfig]:
    """``HARVEST_CONFIG``: the cycle parameters (top-level keys, or a ``[match]`` table, and a
    ``[safety_net]`` table) and the ``[plan]`` table (its ``[after_sales]`` table is
    :func:`api.after_sales.read_after_sales`'s).

    Raises
    ------
    ParameterError
        The file cannot be read, is not TOML, or holds an unknown or bad setting.
    """
    from matcher.io import read_toml

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


def planned_rows(cycle_id: int, planned: CyclePlan) -> PlannedCycle:
    """A cycle's plan (:attr:`matcher.pipeline.CycleResult.plan`) as the rows the runner commits: each
    table with its ``cycle_id``, the routes with their depots' places."""
    from matcher.routing.plan import depot_places

    plan = planned.plan
    tag = pl.lit(cycle_id, pl.Int64).alias("cycle_id")
    places = depot_places(planned.inputs).select("depot_id", pl.col("lat").alias("depot_lat"), pl.col("lon").alias("depot_lon"))
    routes = plan.routes.join(places, on="depot_id", how="left").with_columns(tag)
    summary = {k: v for k, v in plan.summary.items() if k != "date"}
    return PlannedCycle(routes, plan.stops.with_columns(tag), plan.unserved.with_columns(tag), summary)
