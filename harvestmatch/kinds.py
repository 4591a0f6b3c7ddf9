"""The column kinds of the data contract and their limits, written once (the base: every package and the
service's OpenAPI document read them).

:data:`KINDS` gives each kind its type in a frame and in JSON, its bounds, and what a message says was
expected; :mod:`matcher.schemas` applies them to tables and request bodies, ``api.openapi`` states them,
and :mod:`regions.polygons` holds region ids to :data:`MAX_ID_CHARS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl

Kind = Literal["id", "text", "grade", "kg", "kg0", "days", "money", "lat", "lon", "date", "km", "timestamp", "minutes", "count", "flag", "share"]

#: grade letters and their ranks: an offer serves a demand row when its rank is at least the row's
GRADES: dict[str, int] = {"A": 3, "B": 2, "C": 1}

#: no quantity in kg may reach this (a billion tonnes): it keeps every integer sum far from overflow
MAX_KG = 10**12

#: no price or cost per kg may exceed this (a million per kg): with MAX_KG it keeps the solver's scaled
#: integer margins far from int64 overflow
MAX_MONEY = 10**6

#: no distance may exceed this many km (longer than any road on Earth)
MAX_KM = 50_000

#: no count of days (shelf life, transit) may exceed this: a century
MAX_DAYS = 36_500

#: no time of day or duration in minutes may exceed this: a week (a routing shift is at most that)
MAX_MINUTES = 10_080

#: no count (vehicles of a type) may exceed this
MAX_COUNT = 100_000

#: dates are taken within these bounds (so that a date plus any count of days stays a date)
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

#: the longest identifier (offer, cooperative, order, demand row, region), in characters
MAX_ID_CHARS = 64

#: the longest name (product), in characters
MAX_TEXT_CHARS = 100


#: the words a flag cell may hold (any case)
FLAG_WORDS = {"true": True, "false": False}

#: what a cell of a column kind is sent as in JSON (``api.openapi`` states it; :func:`parse_records` checks it)
JsonType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class KindRule:
    """What a column kind holds: its type in a frame and in JSON, its limits, and what a message says
    was expected.

    ``minimum`` and ``maximum`` are inclusive (numbers; whole ones when ``json`` is ``"integer"``);
    ``max_length`` counts characters, ``pattern`` must match the whole text; ``values`` are the only
    texts taken; ``format`` is the JSON Schema format of a text (the checks here parse it).
    """

    dtype: pl.DataType
    json: JsonType
    expected: str
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    values: tuple[str, ...] | None = None
    format: str | None = None


#: every text of the contract: no NUL character (no database or C string holds one)
NO_NUL = "^[^\\x00]*$"

#: each column kind's type and limits, the one place they are written
KINDS: dict[Kind, KindRule] = {
    "id": KindRule(
        pl.String(),
        "string",
        f"a non-empty identifier of at most {MAX_ID_CHARS} characters without NUL characters",
        max_length=MAX_ID_CHARS,
        pattern=NO_NUL,
    ),
    "text": KindRule(
        pl.String(),
        "string",
        f"a non-empty name of at most {MAX_TEXT_CHARS} characters without NUL characters",
        max_length=MAX_TEXT_CHARS,
        pattern=NO_NUL,
    ),
    "grade": KindRule(pl.String(), "string", "one of " + ", ".join(GRADES), values=tuple(GRADES)),
    "kg": KindRule(pl.Int64(), "integer", "a whole number of kg greater than 0", minimum=1, maximum=MAX_KG - 1),
    "kg0": KindRule(pl.Int64(), "integer", f"a whole number of kg from 0 to {MAX_KG - 1:,}", minimum=0, maximum=MAX_KG - 1),
    "days": KindRule(pl.Int64(), "integer", f"a whole number of days from 0 to {MAX_DAYS:,}", minimum=0, maximum=MAX_DAYS),
    "money": KindRule(pl.Float64(), "number", f"an amount from 0 to {MAX_MONEY:,}", minimum=0, maximum=MAX_MONEY),
    "lat": KindRule(pl.Float64(), "number", "a latitude in degrees from -90 to 90", minimum=-90, maximum=90),
    "lon": KindRule(pl.Float64(), "number", "a longitude in degrees from -180 to 180", minimum=-180, maximum=180),
    "date": KindRule(pl.Date(), "string", f"a date as YYYY-MM-DD from {FIRST_DATE} to {LAST_DATE}", format="date"),
    "km": KindRule(pl.Float64(), "number", f"a distance from 0 to {MAX_KM:,} km", minimum=0, maximum=MAX_KM),
    "timestamp": KindRule(pl.Datetime(), "string", "a date and time as YYYY-MM-DDTHH:MM[:SS]", format="date-time"),
    "minutes": KindRule(pl.Float64(), "number", f"a number of minutes from 0 to {MAX_MINUTES:,}", minimum=0, maximum=MAX_MINUTES),
    "count": KindRule(pl.Int64(), "integer", f"a whole number from 1 to {MAX_COUNT:,}", minimum=1, maximum=MAX_COUNT),
    "flag": KindRule(pl.Boolean(), "boolean", "true or false"),
    "share": KindRule(pl.Float64(), "number", "a share from 0 to 1", minimum=0, maximum=1),
}
