"""Published money: exactly PRICE_DECIMALS / AMOUNT_DECIMALS places, rounded half to even from the exact value."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvestmatch.money import AMOUNT_DECIMALS, PRICE_DECIMALS, amount_expr, amount_text, decimal_text, price_expr, price_text, publish

FLOATS = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
#: floats exactly half way between two published prices: (2k + 1) / 128 has seven decimals, the last a 5
TIES = st.integers(-(10**9), 10**9).map(lambda k: (2 * k + 1) / 2**7)


def _check(text: str, exact: Decimal, places: int) -> None:
    assert re.fullmatch(rf"-?[0-9]+\.[0-9]{{{places}}}", text), text
    published = Decimal(text)
    half = Decimal(1).scaleb(-places) / 2
    assert abs(published - exact) <= half
    if abs(published - exact) == half:  # a tie goes to the even neighbour
        assert int(text[-1]) % 2 == 0, (text, exact)
    assert published == exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    assert not (published == 0 and text.startswith("-")), "never -0"


@given(FLOATS)
def test_a_price_has_six_places_rounded_half_to_even(x: float) -> None:
    _check(price_text(x), Decimal(x), PRICE_DECIMALS)  # type: ignore[arg-type]


@given(FLOATS)
def test_an_amount_has_two_places_rounded_half_to_even(x: float) -> None:
    _check(amount_text(x), Decimal(x), AMOUNT_DECIMALS)  # type: ignore[arg-type]


@given(TIES)
def test_exact_ties_go_to_the_even_neighbour(x: float) -> None:
    _check(decimal_text(x, PRICE_DECIMALS), Decimal(x), PRICE_DECIMALS)


@given(st.decimals(-(10**9), 10**9, places=9, allow_nan=False, allow_infinity=False), st.sampled_from([PRICE_DECIMALS, AMOUNT_DECIMALS]))
def test_decimals_are_rounded_the_same_way(value: Decimal, places: int) -> None:
    _check(decimal_text(value, places), value, places)


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (4.109496099999999, PRICE_DECIMALS, "4.109496"),
        (0.0078125, PRICE_DECIMALS, "0.007812"),  # a tie: to even
        (0.0234375, PRICE_DECIMALS, "0.023438"),  # a tie: to even
        (0.125, AMOUNT_DECIMALS, "0.12"),
        (0.375, AMOUNT_DECIMALS, "0.38"),
        (2.675, AMOUNT_DECIMALS, "2.67"),  # the float is 2.67499999...: not a tie
        (-1e-9, PRICE_DECIMALS, "0.000000"),  # never -0
        (Decimal("-0.004"), AMOUNT_DECIMALS, "0.00"),
        (7, AMOUNT_DECIMALS, "7.00"),
        (Decimal("31.31"), AMOUNT_DECIMALS, "31.31"),
    ],
)
def test_published_examples(value: float | Decimal, places: int, text: str) -> None:
    assert decimal_text(value, places) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), Decimal("NaN")])
def test_money_that_is_not_finite_is_refused(value: float | Decimal) -> None:
    with pytest.raises(ValueError, match="money must be a finite number"):
        decimal_text(value, PRICE_DECIMALS)


def test_none_stays_none() -> None:
    assert price_text(None) is None and amount_text(None) is None


@given(st.lists(st.one_of(st.none(), FLOATS), max_size=30))
def test_a_column_is_formatted_as_its_values_are(values: list[float | None]) -> None:
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    out = frame.select(price=price_expr("x"), amount=amount_expr(pl.col("x")))
    assert out.schema == pl.Schema({"price": pl.String, "amount": pl.String})
    assert out["price"].to_list() == [price_text(v) for v in values]
    assert out["amount"].to_list() == [amount_text(v) for v in values]


@given(st.lists(st.floats(0, 1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_published_prices_are_what_the_csv_writer_wrote_at_six_places(values: list[float]) -> None:
    """Before money had its own module, every CSV float was written by polars at six places: the
    published prices are those same texts, so the batch's price columns did not change."""
    floats = pl.DataFrame({"clearing_price": values}).write_csv(float_precision=6)
    assert publish(pl.DataFrame({"clearing_price": values})).write_csv() == floats


def test_publish_formats_the_money_columns_only() -> None:
    frame = pl.DataFrame(
        {
            "offer_id": ["a", "b"],
            "farm_gate_price": [5.0764785, None],
            "subsidy": [818.425, 0.0],
            "distance_km": [238.1202841, 0.5],
            "net": [Decimal("-31.31"), Decimal("0.00")],
        },
        schema_overrides={"net": pl.Decimal(38, 2)},
    )
    out = publish(frame)
    assert out.select("farm_gate_price", "subsidy").rows() == [(price_text(5.0764785), amount_text(818.425)), (None, "0.00")]
    assert out.select("offer_id", "distance_km", "net").equals(frame.select("offer_id", "distance_km", "net"))
    typed = publish(frame, as_="decimal")
    assert (typed.schema["farm_gate_price"], typed.schema["subsidy"]) == (pl.Decimal(38, PRICE_DECIMALS), pl.Decimal(38, AMOUNT_DECIMALS))
    assert typed["subsidy"].to_list() == [Decimal(amount_text(818.425)), Decimal("0.00")]  # type: ignore[arg-type]
