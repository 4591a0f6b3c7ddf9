"""Money as published: two kinds, each at one precision in every output (docs/design.md section 4).

- A **price** is money per kg: an ask, a bid (``price_per_kg``, ``max_price_per_kg``), a farm-gate or
  clearing price, a lane's freight ``cost_per_kg``, a floor's dual. Published to
  :data:`PRICE_DECIMALS` (6) places.
- An **amount** is money: the subsidy paid to an offer, a route's cost, a claim's value, the books'
  lines. Published to :data:`AMOUNT_DECIMALS` (2) places, the cent.

A published figure is decimal text: an optional minus sign, digits, a point and exactly that many
places (``"4.109496"``, ``"31.31"``), never ``-0``. It is the value rounded **half to even** (the
rounding of the books, :mod:`matcher.settlement`); a float is rounded from its exact binary value, as
Python's ``format(x, ".6f")`` and polars' CSV writer do, so a published price is within half a unit
of its last place (5e-7) of the float the solver computed.

The names of the published money columns are listed here once (:data:`PRICES`, :data:`AMOUNTS`), so
that every writer (the batch's CSV files, the service's JSON answers and downloads) formats the same
column the same way: :func:`publish` formats those of a frame.

The computations never use the published figures: the solver works in integers, the books in exact
decimals; only what leaves the program is rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final, Literal

import numpy as np
import polars as pl

#: places of a published price (money per kg)
PRICE_DECIMALS: Final = 6
#: places of a published amount (money): the cent
AMOUNT_DECIMALS: Final = 2
#: how a published figure is rounded (the books' rounding)
ROUNDING: Final = ROUND_HALF_EVEN

#: the published columns and answer fields that hold a price
PRICES: Final = frozenset(
    {
        "ask_per_kg",
        "price_per_kg",
        "max_price_per_kg",
        "cost_per_kg",
        "farm_gate_price",
        "clearing_price",
        "floor_dual",
    }
)
#: the published columns and answer fields that hold an amount
AMOUNTS: Final = frozenset({"subsidy", "cost", "value", "gross", "refunds", "reserve", "net"})


def decimal_text(value: float | int | Decimal, places: int) -> str:
    """``value`` as decimal text with exactly ``places`` decimals, rounded half to even (a float from
    its exact binary value); never ``-0``.

    Raises
    ------
    ValueError
        ``value`` is not finite (NaN or infinite money is a bug upstream, never published).
    """
    exact = value if isinstance(value, Decimal) else Decimal(value)  # Decimal(float) is the float's exact value
    if not exact.is_finite():
        raise ValueError(f"money must be a finite number, got {value!r}")
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)
    if rounded.is_zero():
        rounded = abs(rounded)  # -0.000000 is 0
    return f"{rounded:f}"


def price_text(value: float | int | Decimal | None) -> str | None:
    """A price as published: :data:`PRICE_DECIMALS` places (None stays None)."""
    return None if value is None else decimal_text(value, PRICE_DECIMALS)


def amount_text(value: float | int | Decimal | None) -> str | None:
    """An amount as published: :data:`AMOUNT_DECIMALS` places (None stays None)."""
    return None if value is None else decimal_text(value, AMOUNT_DECIMALS)


def price_expr(column: str | pl.Expr) -> pl.Expr:
    """A float (or decimal) column's prices as published text (a String column; null stays null)."""
    return _text_expr(column, PRICE_DECIMALS)


def amount_expr(column: str | pl.Expr) -> pl.Expr:
    """A float (or decimal) column's amounts as published text (a String column; null stays null)."""
    return _text_expr(column, AMOUNT_DECIMALS)


def publish(frame: pl.DataFrame, *, as_: Literal["text", "decimal"] = "text") -> pl.DataFrame:
    """``frame`` with every money column (named in :data:`PRICES` or :data:`AMOUNTS`, and numeric) as
    published: text (``as_="text"``, for CSV and JSON) or decimals of the kind's places
    (``as_="decimal"``, for typed files such as Parquet); the other columns as they are."""
    formats = []
    for name, dtype in frame.schema.items():
        if name not in PRICES and name not in AMOUNTS:
            continue
        places = PRICE_DECIMALS if name in PRICES else AMOUNT_DECIMALS
        if _published(dtype, places):
            continue
        text = _text_expr(name, places)
        formats.append(text.cast(pl.Decimal(38, places)) if as_ == "decimal" else text)
    return frame.with_columns(formats) if formats else frame


def _published(dtype: pl.DataType, places: int) -> bool:
    """Already published, or not a number: text, or decimals at the kind's places (the books)."""
    if isinstance(dtype, pl.Decimal):
        return dtype.scale == places
    return not (dtype.is_float() or dtype.is_integer())


def _text_expr(column: str | pl.Expr, places: int) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.map_batches(lambda s: _texts(s, places), return_dtype=pl.String, is_elementwise=True)


def _texts(series: pl.Series, places: int) -> pl.Series:
    """Each value of ``series`` as text, converted once per distinct value (a result holds few
    distinct prices: one per offer and per demand row)."""
    if series.dtype.is_decimal():  # rare (the books are published at their scale): per value
        return pl.Series(series.name, [None if v is None else decimal_text(v, places) for v in series.to_list()], dtype=pl.String)
    present = series.drop_nulls()
    distinct, inverse = np.unique(present.to_numpy(), return_inverse=True)
    texts = pl.Series([decimal_text(v.item(), places) for v in distinct], dtype=pl.String)
    out = texts.gather(inverse.ravel()) if present.len() else pl.Series([], dtype=pl.String)
    if series.null_count():
        out = pl.Series(series.name, [None] * series.len(), dtype=pl.String).scatter(series.is_not_null().arg_true(), out)
    return out.alias(series.name)


__all__ = [
    "AMOUNTS",
    "AMOUNT_DECIMALS",
    "PRICES",
    "PRICE_DECIMALS",
    "ROUNDING",
    "amount_expr",
    "amount_text",
    "decimal_text",
    "price_expr",
    "price_text",
    "publish",
]
