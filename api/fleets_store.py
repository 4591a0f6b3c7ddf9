"""The fleet the service plans with: the operator's table (``PUT /fleets``), else the documented defaults
(:data:`matcher.routing.tables.DEFAULT_FLEETS`).

A fleet is one table of vehicles, each row with its ``leg``; the core takes it as one frame per leg
(:attr:`matcher.routing.plan.PlanSettings.fleets`). Its version is the SHA-256 of its rows as canonical
JSON: the same rows, the same version, whoever stored them and when. A cycle reads the fleet in its
snapshot (:mod:`api.runner`) and keeps the one its plan or freight used (:meth:`Fleet.record`) on its row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import read_frame
from api.models import FleetVehicle
from matcher.routing.tables import DEFAULT_FLEETS, LEGS, with_fleet_defaults

#: a stored fleet's columns, in the order they are shown: the leg, then the routing fleet's
FLEET_SCHEMA: dict[str, pl.DataType] = {
    "leg": pl.String(),
    "vehicle_type": pl.String(),
    "capacity_kg": pl.Int64(),
    "count": pl.Int64(),
    "fixed_cost": pl.Float64(),
    "cost_per_km": pl.Float64(),
    "max_duration_min": pl.Float64(),
    "depot": pl.String(),
}


@dataclass(frozen=True)
class Fleet:
    """The vehicles of every leg (:data:`FLEET_SCHEMA`'s columns) and where they come from."""

    source: Literal["stored", "default"]
    vehicles: pl.DataFrame

    def per_leg(self) -> dict[str, pl.DataFrame]:
        """The core's fleets: leg -> that leg's vehicles (the routing fleet's columns)."""
        return {leg: with_fleet_defaults(self.vehicles.filter(pl.col("leg") == leg).drop("leg")) for leg in LEGS}

    def rows(self) -> list[dict[str, Any]]:
        return self.vehicles.to_dicts()

    def sha256(self) -> str:
        text = json.dumps(self.rows(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """What a cycle keeps of the fleet it used (``cycles.fleet``), and what ``GET /fleets`` shows."""
        return {"source": self.source, "sha256": self.sha256(), "vehicles": self.rows()}


def default_fleet() -> Fleet:
    """The documented default fleets of the three legs, as one table."""
    frames = [with_fleet_defaults(DEFAULT_FLEETS[leg]).select(pl.lit(leg).alias("leg"), pl.all()) for leg in LEGS]
    return Fleet("default", pl.concat(frames).cast(pl.Schema(FLEET_SCHEMA)))


def stored_frame(vehicles: pl.DataFrame) -> pl.DataFrame:
    """Checked vehicles (a ``leg`` column and the routing fleet's) as the stored table's columns."""
    return with_fleet_defaults(vehicles).select(vehicles["leg"], pl.all()).cast(pl.Schema(FLEET_SCHEMA))


def read_fleet(session: Session) -> Fleet:
    """The stored fleet in the order it was given, else the default."""
    columns = [getattr(FleetVehicle, c) for c in FLEET_SCHEMA]
    vehicles = read_frame(session, select(*columns).order_by(FleetVehicle.seq), FLEET_SCHEMA)
    return Fleet("stored", vehicles) if vehicles.height else default_fleet()
