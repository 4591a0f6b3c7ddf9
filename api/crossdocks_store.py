"""The crossdocks the service's ``trucks`` freight may route line haul through: the operator's table
(``PUT /crossdocks``), else none.

The table has the columns of ``harvest match --crossdocks`` (:data:`matcher.routing.tables.CROSSDOCKS`).
Its version is the SHA-256 of its rows as canonical JSON: the same rows, the same version, whoever
stored them and when. A cycle reads the crossdocks in its snapshot (:mod:`api.runner`) and keeps the
ones its ``trucks`` freight was given (:meth:`Crossdocks.record`) on its row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import read_frame
from api.models import Crossdock
from matcher.routing.tables import CROSSDOCKS
from matcher.schemas import dtypes

#: a stored crossdock's columns, in the order they are shown: the core's (``CROSSDOCKS``)
CROSSDOCK_SCHEMA: dict[str, pl.DataType] = dtypes(CROSSDOCKS)


@dataclass(frozen=True)
class Crossdocks:
    """The crossdocks (:data:`CROSSDOCK_SCHEMA`'s columns) in the order they were given; maybe none."""

    frame: pl.DataFrame

    def rows(self) -> list[dict[str, Any]]:
        return self.frame.to_dicts()

    def sha256(self) -> str:
        text = json.dumps(self.rows(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """What a cycle keeps of the crossdocks it was given (``cycles.crossdocks``), and what ``GET
        /crossdocks`` shows."""
        return {"sha256": self.sha256(), "crossdocks": self.rows()}

    def given(self) -> pl.DataFrame | None:
        """The core's ``crossdocks`` (:func:`matcher.pipeline.compute_cycle`): None when there are none."""
        return self.frame if self.frame.height else None


def no_crossdocks() -> Crossdocks:
    return Crossdocks(pl.DataFrame(schema=CROSSDOCK_SCHEMA))


def read_crossdocks(session: Session) -> Crossdocks:
    """The stored crossdocks in the order they were given (none stored: an empty table)."""
    columns = [getattr(Crossdock, c) for c in CROSSDOCK_SCHEMA]
    return Crossdocks(read_frame(session, select(*columns).order_by(Crossdock.seq), CROSSDOCK_SCHEMA))
