"""The data contract: the columns of every table that enters the cycle, checked once at the entry.

:func:`parse_table` turns a raw frame (every column as read, often all strings) into a typed one, or
raises :class:`~harvestmatch.errors.SchemaError` / :class:`~harvestmatch.errors.InputError` listing every defect:
one :class:`~harvestmatch.errors.Problem` per bad cell, naming the table, the row and the column. Extra
columns are kept and ignored. :func:`parse_records` does the same for decoded JSON records (a request
body), checking each value's JSON type first and then handing the frame to :func:`parse_table`, so a
file and a body meet the same rules and messages.

One set of limits, :data:`harvestmatch.kinds.KINDS`: each column kind's type and bounds, which the
checks here apply and the API's OpenAPI document states (``api.openapi``). Identifiers at most :data:`MAX_ID_CHARS`
characters, names at most :data:`MAX_TEXT_CHARS`, neither empty nor holding NUL; grades exactly ``A``,
``B`` or ``C``; quantities whole kilograms; dates ISO 8601.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from harvestmatch.errors import InputError, Problem, SchemaError, first_problems
from harvestmatch.kinds import FIRST_DATE, FLAG_WORDS, KINDS, LAST_DATE, Kind


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
    Column("min_lot_kg", "kg0", required=False),
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

#: a cooperative and whether the safety net treats it as small (matcher.safety_net); extra columns
#: (members, hectares) are kept and ignored
COOPERATIVES: tuple[Column, ...] = (
    Column("cooperative_id", "id"),
    Column("small", "flag"),
)

#: a cooperative's expected refund rate for a product (matcher.quality): the share of its delivered kg
#: refunded, from its after-sales record
QUALITY: tuple[Column, ...] = (
    Column("cooperative_id", "id"),
    Column("product", "text"),
    Column("refund_rate", "share"),
)


def parse_table(raw: pl.DataFrame, schema: Sequence[Column], *, source: str, key: str | list[str] | None = None) -> pl.DataFrame:
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
        One problem per bad cell (at most :data:`~harvestmatch.errors.MAX_LISTED` listed per column)
        and per duplicate key.
    """
    missing = [c.name for c in schema if c.required and c.name not in raw.columns]
    if missing:
        raise SchemaError([Problem(source, None, name, f"required column is missing (has: {', '.join(raw.columns) or 'none'})") for name in missing])
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


def parse_records(
    records: object,
    schema: Sequence[Column],
    *,
    source: str,
    key: str | None = None,
    extra: Sequence[Column] = (),
) -> pl.DataFrame:
    """Check and type decoded JSON records (a request body) against a schema, as :func:`parse_table`
    does a file.

    Each record must be an object whose fields are columns of ``schema`` or ``extra``, each value of
    the JSON type its column takes: whole kg and days are JSON integers; amounts, coordinates and km
    JSON numbers; identifiers, names, grades, dates and timestamps JSON strings (so ``true`` is never
    a number and ``"100"`` not one). Then the frame is built with those types, never inferred from the
    values, and goes through :func:`parse_table`, so every domain rule and message is the one a CSV
    file gets.

    Parameters
    ----------
    records
        The decoded JSON: a list of objects.
    schema
        The table's columns, as for :func:`parse_table`.
    source
        The name used in messages; rows are 1-based positions in the list.
    key
        A column whose values must be unique.
    extra
        Further columns a record may carry, checked the same way (after the schema's in the result).

    Returns
    -------
    polars.DataFrame
        The required columns and the optional ones some record gives, typed as :func:`parse_table`
        types them.

    Raises
    ------
    InputError
        One problem per record that is not an object, per unknown field, per value of the wrong JSON
        type, missing or null where required, and every problem :func:`parse_table` finds in the rest.
    """
    columns = [*schema, *extra]
    if not isinstance(records, list):
        raise InputError(Problem(source, None, None, f"expected a JSON array of objects, got {_json_kind(records)}"))
    known = {c.name: c for c in columns}
    allowed = ", ".join(known)
    present = {name for item in records if isinstance(item, dict) for name in item}
    wanted = [c for c in columns if c.required or c.name in present]
    values: dict[str, list[object]] = {c.name: [None] * len(records) for c in wanted}
    wrong: dict[str | None, list[Problem]] = {}
    unknown: list[Problem] = []
    # decoded JSON is Python objects already, and its types can only be told one value at a time
    for row, item in enumerate(records, start=1):
        if not isinstance(item, dict):
            wrong.setdefault(None, []).append(Problem(source, row, None, f"expected a JSON object, got {_json_kind(item)}"))
            continue
        for name in item:
            if name not in known:
                shown = name if len(name) <= 40 else name[:37] + "..."
                unknown.append(Problem(source, row, shown, f"unknown field {shown!r} (allowed: {allowed})"))
        for column in wanted:
            cell, ok = _json_cell(item.get(column.name), column)
            if ok:
                values[column.name][row - 1] = cell
            else:
                got = "nothing (the field is missing)" if column.name not in item else _json_shown(item[column.name])
                wrong.setdefault(column.name, []).append(Problem(source, row, column.name, f"expected {KINDS[column.kind].expected}, got {got}"))
    frame = pl.DataFrame([pl.Series(c.name, values[c.name], dtype=_JSON_DTYPES[c.kind]) for c in wanted])
    problems = [p for name, listed in wrong.items() for p in first_problems(listed, source=source, column=name, rest="rows with bad values")]
    # a body of a million unknown keys gets ten lines, not a million
    problems += first_problems(unknown, source=source, column=None, rest="unknown fields")
    if not problems:
        return parse_table(frame, columns, source=source, key=key)
    # cells already refused were left empty: parse_table would only say so again
    seen = {(p.row, p.column) for p in problems} | {(p.row, c.name) for p in wrong.get(None, []) for c in wanted}
    try:
        parse_table(frame, columns, source=source, key=key)
    except InputError as exc:
        problems += [p for p in exc.problems if (p.row, p.column) not in seen]
    raise InputError(sorted(problems, key=_order))


def dtypes(schema: Sequence[Column]) -> dict[str, pl.DataType]:
    """Every column of ``schema`` (optional ones too) and the type :func:`parse_table` gives it."""
    return {c.name: KINDS[c.kind].dtype for c in schema}


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
    listed = (Problem(source, int(r["_row"]), label, f"duplicate {label} {_show(r, keys)} (first at row {r['_first']})") for r in dup.iter_rows(named=True))
    return first_problems(listed, source=source, column=label, rest="duplicate rows", total=dup.height)


#: the type a JSON value of each kind is held in before parse_table checks it (dates still as text)
_JSON_DTYPES: dict[Kind, pl.DataType] = {kind: pl.String() if rule.json == "string" else rule.dtype for kind, rule in KINDS.items()}

_INT64 = 2**63


def _json_cell(value: object, column: Column) -> tuple[object, bool]:
    """(the value as its column holds it, whether its JSON type fits); null fits optional columns only."""
    if value is None:
        return None, not column.required
    json = KINDS[column.kind].json
    if json == "boolean":  # JSON true or false, nothing else
        return (value, True) if isinstance(value, bool) else (None, False)
    if isinstance(value, bool):  # a bool is an int in Python, never a number in the contract
        return None, False
    if json == "integer":
        if isinstance(value, float) and value.is_integer():  # 10.0 and 1e3 are whole, as in a CSV cell
            value = int(value)
        return (value, True) if isinstance(value, int) and -_INT64 <= value < _INT64 else (None, False)
    if json == "number":
        if not isinstance(value, (int, float)):
            return None, False
        try:
            return float(value), True
        except OverflowError:  # an integer beyond any float
            return None, False
    if not isinstance(value, str):
        return None, False
    try:  # a lone surrogate ("\ud800") is valid JSON but no text: no database or frame can hold it
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None, False
    return value, True


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return _json_shown(value)


def _json_shown(value: object) -> str:
    """A JSON value as messages show it: strings quoted as parse_table quotes them, the rest as JSON."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _json_kind(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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
    kind, rule = column.kind, KINDS[column.kind]
    numeric = rule.json in ("integer", "number")
    if numeric and series.dtype.is_numeric():
        return _check_number(series.cast(pl.Float64), column)
    if kind == "date" and series.dtype == pl.Date:
        return series.alias(column.name), ~series.is_between(FIRST_DATE, LAST_DATE).fill_null(False)
    if kind == "flag" and series.dtype == pl.Boolean:
        return series.alias(column.name), series.is_null()
    if kind == "timestamp" and isinstance(series.dtype, pl.Datetime):
        # typed explicitly: a list of no booleans would be inferred as the Null type
        return series.cast(pl.Datetime("us")).alias(column.name), pl.repeat(False, len(series), dtype=pl.Boolean, eager=True)
    text = _as_text(series)
    if kind in ("id", "text"):
        value = text
        assert rule.pattern is not None and rule.max_length is not None
        unfit = ~value.str.contains(rule.pattern) | (value.str.len_chars() > rule.max_length)
        bad = value.is_null() | unfit.fill_null(False)
    elif kind == "grade":
        value = text  # exactly A, B or C: the same rule for CSV, Parquet and JSON, no case folding
        bad = value.is_null() | ~value.is_in(list(rule.values or ()))
    elif kind == "date":
        value = text.str.to_date("%Y-%m-%d", strict=False)
        bad = ~value.is_between(FIRST_DATE, LAST_DATE).fill_null(False)
    elif kind == "flag":
        value = text.str.to_lowercase().replace_strict(FLAG_WORDS, default=None, return_dtype=pl.Boolean)
        bad = value.is_null()
    elif kind == "timestamp":
        value = text.str.replace(" ", "T").str.to_datetime(strict=False, time_unit="us")
        bad = value.is_null() & text.is_not_null()  # optional column: an empty cell is allowed
    else:
        return _check_number(text.cast(pl.Float64, strict=False), column)
    return value.alias(column.name), bad.fill_null(True)


def _check_number(number: pl.Series, column: Column) -> tuple[pl.Series, pl.Series]:
    rule = KINDS[column.kind]
    assert rule.minimum is not None and rule.maximum is not None
    ok = number.is_not_null() & number.is_finite() & (number >= rule.minimum) & (number <= rule.maximum)
    if rule.json == "integer":
        ok = ok & (number == number.floor())
    bad = ~ok.fill_null(False)
    value = number if rule.dtype == pl.Float64() else number.cast(pl.Int64, strict=False)
    return value.alias(column.name), bad.fill_null(True)


def _describe(original: pl.Series, bad: pl.Series, column: Column, source: str) -> list[Problem]:
    rows = bad.arg_true()
    listed = (Problem(source, row + 1, column.name, f"expected {KINDS[column.kind].expected}, got {_got(original[row])}") for row in rows)
    return first_problems(listed, source=source, column=column.name, rest="rows with bad values", total=len(rows))


def _got(cell: object) -> str:
    return "nothing" if cell is None or (isinstance(cell, str) and not cell.strip()) else _shown(_plain(cell))


def _shown(cell: object) -> str:
    """A cell as a message quotes it, cut to 80 characters (a message must not echo a whole upload)."""
    if isinstance(cell, str):
        return repr(cell if len(cell) <= 80 else cell[:77] + "...")
    text = repr(cell)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(cell: object) -> object:
    return str(cell) if not isinstance(cell, (str, int, float)) else cell
