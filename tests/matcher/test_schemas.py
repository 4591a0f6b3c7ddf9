"""The data contract: one set of rules and messages for CSV files and JSON bodies."""

from __future__ import annotations

import io
import json
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from harvestmatch.errors import InputError
from matcher.schemas import DEMAND, OFFERS, ORDERS, PRODUCTS, Column, parse_records, parse_table

OFFER = {
    "offer_id": "o1",
    "cooperative_id": "coop-17",
    "product": "apple",
    "grade": "A",
    "quantity_kg": 100,
    "lat": 30.5,
    "lon": 110,
    "ready_date": "2026-11-23",
    "shelf_life_days": 10,
    "ask_per_kg": 1.25,
}

KG = "expected a whole number of kg greater than 0"
ID = "expected a non-empty identifier of at most 64 characters without NUL characters"

BAD_RECORDS = [
    ("bool-for-kg", {"quantity_kg": True}, "row 1: column 'quantity_kg': " + KG + ", got true"),
    ("text-for-kg", {"quantity_kg": "100"}, "row 1: column 'quantity_kg': " + KG + ", got '100'"),
    ("fraction-for-kg", {"quantity_kg": 1.5}, "row 1: column 'quantity_kg': " + KG + ", got 1.5"),
    ("huge-float-for-kg", {"quantity_kg": 1e30}, "row 1: column 'quantity_kg': " + KG + ", got 1e+30"),
    ("price-beyond-any-market", {"ask_per_kg": 1e20}, "row 1: column 'ask_per_kg': expected an amount from 0 to 1,000,000, got 1e+20"),
    (
        "lone-surrogate",
        {"product": "\udfff"},
        "row 1: column 'product': expected a non-empty name of at most 100 characters without NUL characters, got '\\udfff'",
    ),
    ("year-9999", {"ready_date": "9999-12-31"}, "row 1: column 'ready_date': expected a date as YYYY-MM-DD from 1900-01-01 to 2199-12-31, got '9999-12-31'"),
    ("negative-kg", {"quantity_kg": -5}, "row 1: column 'quantity_kg': " + KG + ", got -5"),
    ("negative-lot", {"min_lot_kg": -5}, "row 1: column 'min_lot_kg': expected a whole number of kg from 0 to 999,999,999,999, got -5"),
    ("fraction-for-lot", {"min_lot_kg": 2.5}, "row 1: column 'min_lot_kg': expected a whole number of kg from 0 to 999,999,999,999, got 2.5"),
    ("huge-kg", {"quantity_kg": 2**70}, "row 1: column 'quantity_kg': " + KG + f", got {2**70}"),
    ("bool-for-money", {"ask_per_kg": False}, "row 1: column 'ask_per_kg': expected an amount from 0 to 1,000,000, got false"),
    ("text-for-lat", {"lat": "30.5"}, "row 1: column 'lat': expected a latitude in degrees from -90 to 90, got '30.5'"),
    ("number-for-id", {"offer_id": 17}, "row 1: column 'offer_id': " + ID + ", got 17"),
    ("lowercase-grade", {"grade": "a"}, "row 1: column 'grade': expected one of A, B, C, got 'a'"),
    ("id-of-65", {"offer_id": "x" * 65}, "row 1: column 'offer_id': " + ID + f", got '{'x' * 65}'"),
    ("product-of-101", {"product": "p" * 101}, "row 1: column 'product': expected a non-empty name of at most 100 characters"),
    ("nul-in-id", {"cooperative_id": "co\x00op"}, "row 1: column 'cooperative_id': " + ID + ", got 'co\\x00op'"),
    ("object-for-date", {"ready_date": {"y": 2026}}, "row 1: column 'ready_date': expected a date as YYYY-MM-DD from 1900-01-01 to 2199-12-31, got an object"),
    ("bad-date", {"ready_date": "2026-02-30"}, "row 1: column 'ready_date': expected a date as YYYY-MM-DD from 1900-01-01 to 2199-12-31, got '2026-02-30'"),
    ("null-required", {"product": None}, "row 1: column 'product': expected a non-empty name of at most 100 characters without NUL characters, got nothing"),
    ("missing-field", {"ask_per_kg": ...}, "row 1: column 'ask_per_kg': expected an amount from 0 to 1,000,000, got nothing (the field is missing)"),
    ("unknown-field", {"colour": "red"}, "row 1: column 'colour': unknown field 'colour' (allowed: offer_id, cooperative_id, product,"),
]


def offers_body(change: dict) -> list[object]:
    return [{k: v for k, v in {**OFFER, **change}.items() if v is not ...}]


@pytest.mark.parametrize(("change", "message"), [pytest.param(c, m, id=n) for n, c, m in BAD_RECORDS])
def test_bad_records(change: dict, message: str) -> None:
    with pytest.raises(InputError, match="^body: " + _literal(message)) as info:
        parse_records(offers_body(change), OFFERS, source="body", key="offer_id")
    assert len(info.value.problems) == 1, info.value.problems


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"offer_id": "o1"}, "body: expected a JSON array of objects, got an object"),
        ([OFFER, "o2"], "body: row 2: expected a JSON object, got 'o2'"),
        ([OFFER, [1, 2]], "body: row 2: expected a JSON object, got an array"),
        ([OFFER, OFFER], "body: row 2: column 'offer_id': duplicate offer_id 'o1' (first at row 1)"),
    ],
    ids=["not-a-list", "text-item", "array-item", "duplicate-id"],
)
def test_bad_bodies(records: object, message: str) -> None:
    with pytest.raises(InputError, match="^" + _literal(message)) as info:
        parse_records(records, OFFERS, source="body", key="offer_id")
    assert len(info.value.problems) == 1, info.value.problems


def test_every_problem_is_listed_once() -> None:
    """A refused cell is not reported again as empty; the other rows' domain problems still are."""
    body = [{**OFFER, "quantity_kg": "100"}, {**OFFER, "offer_id": "o2", "grade": "D"}, 7]
    with pytest.raises(InputError) as info:
        parse_records(body, OFFERS, source="body", key="offer_id")
    assert [(p.row, p.column) for p in info.value.problems] == [(1, "quantity_kg"), (2, "grade"), (3, None)]


def test_extra_columns_are_allowed_and_checked() -> None:
    extra = (Column("buyer_id", "id"),)
    order = {
        "order_id": "b1",
        "product": "kale",
        "min_grade": "C",
        "quantity_kg": 3,
        "lat": 30,
        "lon": 110,
        "max_price_per_kg": 2,
        "due_date": "2026-11-25",
        "buyer_id": "shop-9",
    }
    frame = parse_records([order], ORDERS, source="body", extra=extra)
    assert frame.columns[-1] == "buyer_id" and frame["buyer_id"].to_list() == ["shop-9"]
    with pytest.raises(InputError, match="column 'buyer_id': " + ID):
        parse_records([{**order, "buyer_id": "b" * 65}], ORDERS, source="body", extra=extra)


ORDER_ROWS = [
    {
        "order_id": "b1",
        "product": "kale",
        "min_grade": "C",
        "quantity_kg": 3,
        "lat": 30.25,
        "lon": 110,
        "max_price_per_kg": 2.37,
        "due_date": "2026-11-25",
        "created_at": "2026-11-22T08:00",
    },
    {
        "order_id": "b2",
        "product": " apple ",
        "min_grade": "A",
        "quantity_kg": 12000,
        "lat": -3.5,
        "lon": -60.125,
        "max_price_per_kg": 0,
        "due_date": "2026-11-24",
        "created_at": None,
    },
]


@pytest.mark.parametrize(
    ("schema", "rows"),
    [
        (ORDERS, ORDER_ROWS),
        (ORDERS, [{k: v for k, v in r.items() if k != "created_at"} for r in ORDER_ROWS]),
        (OFFERS, [OFFER, {**OFFER, "offer_id": "o2", "min_lot_kg": 5}]),
        (DEMAND, [{"demand_id": "d1", "region_id": "r0", "product": "kale", "min_grade": "B", "quantity_kg": 7, "price_per_kg": 1, "due_date": "2026-11-25"}]),
        (PRODUCTS, [{"product": "kale"}, {"product": "apple"}]),
        (ORDERS, []),
    ],
    ids=["orders", "orders-without-created-at", "offers-with-a-lot", "demand", "products", "nothing"],
)
def test_json_gives_the_frame_csv_gives(schema: tuple[Column, ...], rows: list[dict]) -> None:
    names = [c.name for c in schema if c.required or any(c.name in r for r in rows)]
    csv = ",".join(names) + "\n" + "".join(",".join(_csv_cell(r.get(n)) for n in names) + "\n" for r in rows)
    from_csv = parse_table(pl.read_csv(io.StringIO(csv), infer_schema=False), schema, source="upload")
    from_json = parse_records(json.loads(json.dumps(rows)), schema, source="body")
    assert_frame_equal(from_json, from_csv)


def test_csv_applies_the_same_limits() -> None:
    raw = pl.DataFrame({"product": ["p" * 100, "p" * 101, "kale"]})
    with pytest.raises(InputError) as info:
        parse_table(raw, PRODUCTS, source="products.csv")
    assert [str(p) for p in info.value.problems] == [
        f"products.csv: row 2: column 'product': expected a non-empty name of at most 100 characters without NUL characters, got '{'p' * 77}...'"
    ]


def _csv_cell(value: object) -> str:
    return "" if value is None else str(value)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


def test_whole_numbers_written_as_floats_are_whole_kg_as_in_a_csv() -> None:
    frame = parse_records([{**OFFER, "quantity_kg": 100.0}, {**OFFER, "quantity_kg": 1e3}], OFFERS, source="body")
    assert frame["quantity_kg"].to_list() == [100, 1000]


def test_a_million_unknown_fields_give_a_few_lines() -> None:
    with pytest.raises(InputError) as caught:
        parse_records([{**OFFER, **{f"x{k}": 1 for k in range(10_000)}}], OFFERS, source="body")
    assert len(caught.value.problems) == 11 and "9990 more unknown fields" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "want"),
    [(["true", "FALSE", " True "], [True, False, True])],
)
def test_flags_read_as_true_or_false_in_any_case(raw: list[str], want: list[bool]) -> None:
    from matcher.schemas import COOPERATIVES

    frame = parse_table(pl.DataFrame({"cooperative_id": ["a", "b", "c"], "small": raw}), COOPERATIVES, source="coops.csv")
    assert frame["small"].to_list() == want


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"cooperative_id": "a", "small": "yes"}], "row 1: column 'small': expected true or false, got 'yes'"),
        ([{"cooperative_id": "a", "small": 1}], "row 1: column 'small': expected true or false, got 1"),
        ([{"cooperative_id": "a", "product": "kale", "refund_rate": 1.2}], "row 1: column 'refund_rate': expected a share from 0 to 1, got 1.2"),
        ([{"cooperative_id": "a", "product": "kale", "refund_rate": True}], "row 1: column 'refund_rate': expected a share from 0 to 1, got true"),
    ],
)
def test_flags_and_shares_in_json(records: list[dict], message: str) -> None:
    from matcher.schemas import COOPERATIVES, QUALITY

    schema = QUALITY if "refund_rate" in records[0] else COOPERATIVES
    with pytest.raises(InputError, match=re.escape(message)):
        parse_records(records, schema, source="body")
    ok = [{**records[0], "small": False}] if schema is COOPERATIVES else [{**records[0], "refund_rate": 0.25}]
    assert parse_records(ok, schema, source="body").height == 1
