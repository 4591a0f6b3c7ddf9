"""The daily batch job: files in, one cycle, files out (the edge around :func:`matcher.cycle.match`)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from matcher.cycle import Sources, match
from matcher.io import read_raw_table, write_outputs
from matcher.params import MatchParams
from matcher.schemas import DEMAND, LANES, OFFERS, parse_table
from regions.errors import InputError, Problem


def run_batch(
    *,
    offers: Path,
    demand: Path,
    regions: Path,
    date: dt.date,
    out: Path,
    params: MatchParams,
    lanes: Path | None = None,
) -> dict[str, Any]:
    """Read, validate everything, match, write. Returns the summary that was written.

    Raises
    ------
    InputError
        With every problem of every input file; nothing is written then.
    """
    from regions.polygons import read_regions

    clock = time.perf_counter()
    problems: list[Problem] = []
    tables = {}
    for key, path, schema, id_column in (
        ("offers", offers, OFFERS, "offer_id"),
        ("demand", demand, DEMAND, "demand_id"),
        ("lanes", lanes, LANES, None),
    ):
        if path is None:
            continue
        try:
            tables[key] = parse_table(read_raw_table(path), schema, source=Path(path).name, key=id_column)
        except InputError as exc:
            problems += exc.problems
    read_done = time.perf_counter()
    try:
        region_set = read_regions(regions)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    regions_done = time.perf_counter()

    sources = Sources(offers.name, demand.name, regions.name, lanes.name if lanes else "lanes")
    result = match(
        tables["offers"], tables["demand"], region_set.hubs, date=date, params=params, lanes=tables.get("lanes"), sources=sources
    )
    matched = time.perf_counter()
    summary = dict(result.summary)
    summary["hubs_derived"] = int(region_set.hubs["hub_derived"].sum())
    summary["regions"] = region_set.hubs.height
    summary["warnings"] = list(region_set.warnings)
    summary["inputs"] = {k: str(v) for k, v in (("offers", offers), ("demand", demand), ("regions", regions), ("lanes", lanes)) if v}
    seconds = summary.pop("seconds")
    summary["seconds"] = {"read": read_done - clock, "regions": regions_done - read_done, **seconds}
    outputs = {
        "allocations.csv": result.allocations,
        "offers_out.csv": result.offers,
        "demand_out.csv": result.demand,
    }
    before_write = time.perf_counter()
    summary["seconds"]["write"] = 0.0
    write_outputs(out, outputs, summary)
    summary["seconds"]["write"] = time.perf_counter() - before_write
    summary["seconds"]["total"] = time.perf_counter() - clock
    # the summary on disk carries the write time too
    write_outputs(out, {}, summary)
    return summary
