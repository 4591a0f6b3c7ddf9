"""The previous cycle's prices, for a warm start (``harvest match --warm-start PREVIOUS_RESULT_DIR``).

A result folder of ``harvest match`` holds ``offers_out.csv`` with each offer's ``farm_gate_price``
(empty for an offer that was not open). :func:`read_previous` reads and checks it;
:func:`parse_previous` is the pure check of a table already read (the service hands in its stored
rows). What comes out is ``offer_id, farm_gate_price``: one price per offer that had one, the guess
:mod:`matcher.warm` starts today's solve from. Offers not in it (new today) start without one. A warm
start changes how fast the optimum is reached, never the optimum or the published prices.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from harvestmatch.errors import InputError, Problem
from matcher.schemas import Column, parse_table

#: the file of a result folder the prices come from
OFFERS_FILE = "offers_out.csv"

#: its columns a warm start reads (others are kept and ignored); the price is empty for offers that were not open
PREVIOUS_OFFERS: tuple[Column, ...] = (
    Column("offer_id", "id"),
    Column("farm_gate_price", "money", required=False),
)


def read_previous(folder: Path) -> pl.DataFrame:
    """``offer_id, farm_gate_price`` of the offers that had a price in the result written to ``folder``.

    Raises
    ------
    InputError
        Naming the folder when it is not a folder or holds no ``offers_out.csv``, and naming the file,
        row and column of every bad cell.
    """
    from matcher.io import read_raw_table

    name = str(folder)
    if not folder.is_dir():
        raise InputError(Problem(name, None, None, "--warm-start: not a folder (expected a result folder of harvest match)"))
    path = folder / OFFERS_FILE
    if not path.is_file():
        raise InputError(Problem(name, None, None, f"--warm-start: no {OFFERS_FILE} in this folder (expected a result folder of harvest match)"))
    try:
        raw = read_raw_table(path)
    except InputError as exc:  # the message names the file; say which folder it is in
        raise InputError([Problem(str(path), p.row, p.column, p.message) for p in exc.problems]) from exc
    return parse_previous(raw, source=str(path))


def parse_previous(raw: pl.DataFrame, *, source: str) -> pl.DataFrame:
    """Check and type a previous result's offers (the columns of :data:`PREVIOUS_OFFERS`) and keep the
    offers that had a price.

    Raises
    ------
    InputError
        A missing ``farm_gate_price`` column, or bad cells (file, row and column named).
    """
    if "farm_gate_price" not in raw.columns:
        raise InputError(Problem(source, None, "farm_gate_price", "missing column (a warm start reads each offer's previous farm-gate price)"))
    table = parse_table(raw, PREVIOUS_OFFERS, source=source, key="offer_id")
    return table.select("offer_id", "farm_gate_price").drop_nulls("farm_gate_price")
