"""Files in and out: thin readers around the pure parsers, and an all-or-nothing writer.

Tables are CSV or Parquet, chosen by extension. CSV is read with every column as text so that the
schema check, not the reader, decides what a bad cell is (and can name it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from harvestmatch.errors import InputError, Problem

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_raw_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV (all columns as text) or Parquet file; raise InputError naming the file on failure."""
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(Problem(source, None, None, f"unknown table format {suffix or '(none)'!r}; expected .csv or .parquet"))
    if not path.is_file():
        raise InputError(Problem(source, None, None, f"no such file: {path}"))
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(Problem(source, None, None, f"cannot read as {suffix[1:]}: {first}")) from exc


def write_outputs(
    out_dir: str | Path, tables: Mapping[str, pl.DataFrame], summary: Callable[[], Mapping[str, Any]]
) -> list[Path]:
    """Write every table as CSV and ``summary.json`` into ``out_dir``, all or nothing.

    Files are written into a temporary folder beside ``out_dir`` and moved into place only when all
    of them are complete, so a failure never leaves a partial set. ``summary`` is called after the
    tables are written, so that it can report how long that took.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, frame in tables.items():
            frame.write_csv(staging / name, float_precision=6)
        (staging / "summary.json").write_text(json.dumps(summary(), indent=2, default=str) + "\n", encoding="utf-8")
        out.mkdir(exist_ok=True)
        written = []
        for item in sorted(staging.iterdir()):
            os.replace(item, out / item.name)
            written.append(out / item.name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
