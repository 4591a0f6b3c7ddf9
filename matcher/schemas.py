"""The data contract: the columns of every table that enters the cycle, checked once at the entry.

:func:`parse_table` turns a raw frame (every column as read, often all strings) into a typed one, or
raises :class:`~harvestmatch.errors.SchemaError` / :class:`~harvestmatch.errors.InputError` listing every defect:
one :class:`~harvestmatch.errors.Problem` per bad cell, naming the table, the row and the column. Extra
columns are kept and ignored. Identifiers are strings; quantities whole kilograms; dates ISO 8601.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from harvestmatch.errors import InputError, Problem, SchemaError

Kind = Literal["id", "text", "grade", "kg", "days", "money", "lat", "lon", "date", "km", "timestamp"]

#: grade letters and their ranks: an offer serves a demand row when its rank is at least the row's
GRADES: dict[str, int] = {"A": 3, "B": 2, "C": 1}

#: how many bad rows are listed per column before the rest are counted in one line
MAX_LISTED = 10

#: no quantity in kg may reach this (a billion tonnes): it keeps every integer sum far from overflow
MAX_KG = 10**12


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True


OFFERS: tuple[Column, ...] = (
    Column("offer_id", "id"),
    Column("cooperative_id", "id"),
    Column("product", "text"),
    Column("grade", "grade"),
    Column("quantity_kg", "kg"),
    Column("lat", "lat"),
    Column("lon", "lon"),
    Column("ready_date", "date"),
    Column("shelf_life_days", "days"),
    Column("ask_per_kg", "money"),
    Column("min_lot_kg", "days", required=False),
)

DEMAND: tuple[Column, ...] = (
    Column("demand_id", "id"),
    Column("region_id", "id"),
    Column("product", "text"),
    Column("min_grade", "grade"),
    Column("quantity_kg", "kg"),
    Column("price_per_kg", "money"),
    Column("due_date", "date"),
)

ORDERS: tuple[Column, ...] = (
    Column("order_id", "id"),
    Column("product", "text"),
    Column("min_grade", "grade"),
    Column("quantity_kg", "kg"),
    Column("lat", "lat"),
    Column("lon", "lon"),
    Column("max_price_per_kg", "money"),
    Column("due_date", "date"),
    Column("created_at", "timestamp", required=False),
)

PRODUCTS: tuple[Column, ...] = (Column("product", "text"),)

LANES: tuple[Column, ...] = (
    Column("offer_id", "id"),
    Column("region_id", "id"),
    Column("distance_km", "km"),
    Column("transit_days", "days", required=False),
    Column("cost_per_kg", "money", required=False),
)

_DTYPES: dict[Kind, pl.DataType] = {
    "id": pl.String(),
    "text": pl.String(),
    "grade": pl.String(),
    "kg": pl.Int64(),
    "days": pl.Int64(),
    "money": pl.Float64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "date": pl.Date(),
    "km": pl.Float64(),
    "timestamp": pl.Datetime(),
}

_EXPECTED: dict[Kind, str] = {
    "id": "a non-empty identifier without NUL characters",
    "text": "a non-empty name without NUL characters",
    "grade": "one of " + ", ".join(GRADES),
    "kg": "a whole number of kg greater than 0",
    "days": "a whole number of 0 or more",
    "money": "a finite amount of 0 or more",
    "lat": "a latitude in degrees from -90 to 90",
    "lon": "a longitude in degrees from -180 to 180",
    "date": "a date as YYYY-MM-DD",
    "km": "a finite distance of 0 or more",
    "timestamp": "a date and time as YYYY-MM-DDTHH:MM[:SS]",
}


def parse_table(raw: pl.DataFrame, schema: Sequence[Column], *, source: str, key: str | None = None) -> pl.DataFrame:
    """Check and type a table against its schema.

    Parameters
    ----------
    raw
        The table as read; columns may be strings or already typed.
    schema
        :data:`OFFERS`, :data:`DEMAND` or :data:`LANES`.
    source
        The name used in messages (usually the file name).
    key
        A column whose values must be unique.

    Returns
    -------
    polars.DataFrame
        The schema's columns with their types (optional ones only when present), then the extra columns.

    Raises
    ------
    SchemaError
        A required column is missing (nothing else is checked then).
    InputError
        One problem per bad cell (at most :data:`MAX_LISTED` listed per column) and per duplicate key.
    """
    missing = [c.name for c in schema if c.required and c.name not in raw.columns]
    if missing:
        raise SchemaError(
            [Problem(source, None, name, f"required column is missing (has: {', '.join(raw.columns) or 'none'})") for name in missing]
        )
    present = [c for c in schema if c.name in raw.columns]
    problems: list[Problem] = []
    typed = {}
    for column in present:
        value, bad = _parse(raw.get_column(column.name), column)
        typed[column.name] = value
        problems.extend(_describe(raw.get_column(column.name), bad, column, source))
    out = raw.with_columns(*(typed[c.name].alias(c.name) for c in present))
    if key is not None:
        problems.extend(duplicate_problems(out, key, source))
    if problems:
        raise InputError(sorted(problems, key=_order))
    names = [c.name for c in present]
    return out.select(names + [c for c in out.columns if c not in names])


def dtypes(schema: Sequence[Column]) -> dict[str, pl.DataType]:
    """Every column of ``schema`` (optional ones too) and the type :func:`parse_table` gives it."""
    return {c.name: _DTYPES[c.kind] for c in schema}


def empty_table(schema: Sequence[Column]) -> pl.DataFrame:
    """A table of no rows with every column of ``schema`` typed as :func:`parse_table` types it."""
    return pl.DataFrame(schema=dtypes(schema))


def duplicate_problems(frame: pl.DataFrame, key: str | list[str], source: str) -> list[Problem]:
    """One problem per row whose key repeats an earlier row's."""
    keys = [key] if isinstance(key, str) else key
    repeated = frame.select(pl.struct(keys).is_duplicated().alias("_dup"))["_dup"]
    if not repeated.any():  # the usual case, answered by one hash pass
        return []
    indexed = frame.select(keys).with_row_index("_row", offset=1).filter(repeated).drop_nulls(keys)
    first = pl.col("_row").min().over(keys)
    dup = indexed.with_columns(first.alias("_first")).filter(pl.col("_row") != pl.col("_first"))
    label = " + ".join(keys)
    problems = [
        Problem(source, int(r["_row"]), label, f"duplicate {label} {_show(r, keys)} (first at row {r['_first']})")
        for r in dup.head(MAX_LISTED).iter_rows(named=True)
    ]
    if dup.height > MAX_LISTED:
        problems.append(Problem(source, None, label, f"... and {dup.height - MAX_LISTED} more duplicate rows"))
    return problems


def _show(row: dict[str, object], keys: list[str]) -> str:
    return ", ".join(repr(row[k]) for k in keys)


def _order(p: Problem) -> tuple[int, str, str]:
    return (p.row if p.row is not None else 0, p.column or "", p.message)


def _as_text(series: pl.Series) -> pl.Series:
    text = series if series.dtype == pl.String else series.cast(pl.String, strict=False)
    text = text.str.strip_chars()
    return pl.select(pl.when(text == "").then(None).otherwise(text)).to_series().alias(series.name)


def _parse(series: pl.Series, column: Column) -> tuple[pl.Series, pl.Series]:
    """(typed values, mask of bad cells) for one column; an optional column may leave cells empty (a
    lane's empty ``transit_days`` keeps the computed value)."""
    value, bad = _parse_cells(series, column)
    if not column.required:
        bad = bad & _as_text(series).is_not_null()
    return value, bad


def _parse_cells(series: pl.Series, column: Column) -> tuple[pl.Series, pl.Series]:
    """(typed values, mask of bad cells) for one column, every cell required.

    Text is parsed; a column that is already typed (Parquet) is checked as it is, without a detour
    through strings.
    """
    kind = column.kind
    numeric = kind in ("kg", "days", "money", "lat", "lon", "km")
    if numeric and series.dtype.is_numeric():
        return _check_number(series.cast(pl.Float64), column)
    if kind == "date" and series.dtype == pl.Date:
        return series.alias(column.name), series.is_null()
    if kind == "timestamp" and isinstance(series.dtype, pl.Datetime):
        # typed explicitly: a list of no booleans would be inferred as the Null type
        return series.cast(pl.Datetime("us")).alias(column.name), pl.repeat(False, len(series), dtype=pl.Boolean, eager=True)
    text = _as_text(series)
    if kind in ("id", "text"):
        value = text
        bad = value.is_null() | value.str.contains("\x00", literal=True).fill_null(False)
    elif kind == "grade":
        value = text.str.to_uppercase()
        bad = value.is_null() | ~value.is_in(list(GRADES))
    elif kind == "date":
        value = text.str.to_date("%Y-%m-%d", strict=False)
        bad = value.is_null()
    elif kind == "timestamp":
        value = text.str.replace(" ", "T").str.to_datetime(strict=False, time_unit="us")
        bad = value.is_null() & text.is_not_null()  # optional column: an empty cell is allowed
    else:
        return _check_number(text.cast(pl.Float64, strict=False), column)
    return value.alias(column.name), bad.fill_null(True)


def _check_number(number: pl.Series, column: Column) -> tuple[pl.Series, pl.Series]:
    kind = column.kind
    finite = number.is_not_null() & number.is_finite()
    if kind == "kg":
        ok = finite & (number > 0) & (number == number.floor()) & (number < MAX_KG)
    elif kind == "days":
        ok = finite & (number >= 0) & (number == number.floor()) & (number < 10**6)
    elif kind == "lat":
        ok = finite & (number >= -90) & (number <= 90)
    elif kind == "lon":
        ok = finite & (number >= -180) & (number <= 180)
    else:  # money, km
        ok = finite & (number >= 0)
    bad = ~ok.fill_null(False)
    value = number if _DTYPES[kind] == pl.Float64() else number.cast(pl.Int64, strict=False)
    return value.alias(column.name), bad.fill_null(True)


def _describe(original: pl.Series, bad: pl.Series, column: Column, source: str) -> list[Problem]:
    rows = bad.arg_true()
    problems = []
    for row in rows.head(MAX_LISTED).to_list():
        cell = original[row]
        got = "nothing" if cell is None or (isinstance(cell, str) and not cell.strip()) else repr(_plain(cell))
        problems.append(Problem(source, row + 1, column.name, f"expected {_EXPECTED[column.kind]}, got {got}"))
    if len(rows) > MAX_LISTED:
        problems.append(
            Problem(source, None, column.name, f"... and {len(rows) - MAX_LISTED} more rows with bad values")
        )
    return problems


def _plain(cell: object) -> object:
    return str(cell) if not isinstance(cell, (str, int, float)) else cell
