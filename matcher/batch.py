"""The daily batch job: files in, one cycle, files out (the edge around :func:`matcher.pipeline.compute_cycle`)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import polars as pl

from harvestmatch.errors import InputError, ParameterError, Problem, first_problems
from matcher.cycle import Sources
from matcher.io import PLAN_FOLDER, output_folder_problems, read_tables, write_outputs
from matcher.params import MatchParams
from matcher.pipeline import compute_cycle
from matcher.routing.batch import PlanOptions
from matcher.schemas import COOPERATIVES, DEMAND, LANES, OFFERS, ORDERS, PRODUCTS, QUALITY


def run_batch(
    *,
    offers: Path,
    regions: Path,
    date: dt.date,
    out: Path,
    params: MatchParams,
    demand: Path | None = None,
    orders: Path | None = None,
    lanes: Path | None = None,
    products: Path | None = None,
    cooperatives: Path | None = None,
    quality: Path | None = None,
    plan: PlanOptions | None = None,
    write_plan: bool = True,
    warm_start: Path | None = None,
) -> dict[str, Any]:
    """Read and validate every file, run :func:`~matcher.pipeline.compute_cycle`, write the results.
    Returns the summary that was written.

    Exactly one of ``demand`` (pooled rows) and ``orders`` (pooled here) is given. With ``plan`` and
    ``write_plan``, the cycle's transport plan is made too, before anything is written, and written to
    ``out/plan/`` (:mod:`matcher.routing.batch`); the summary then holds the plan's under ``plan``.
    Without ``write_plan``, ``plan``'s fleets, warehouses and matrix still price the ``trucks`` freight.
    ``warm_start`` is a previous result folder whose prices start the solve (:mod:`matcher.previous`).

    Raises
    ------
    InputError
        With every problem of every input file; nothing is written then.
    """
    from regions.polygons import read_regions

    if (demand is None) == (orders is None):
        raise ParameterError("give exactly one of demand (pooled rows) and orders")
    clock = time.perf_counter()
    tables, problems = read_tables(
        (
            ("offers", offers, OFFERS, "offer_id"),
            ("demand", demand, DEMAND, "demand_id"),
            ("orders", orders, ORDERS, "order_id"),
            ("lanes", lanes, LANES, None),
            ("products", products, PRODUCTS, "product"),
            ("cooperatives", cooperatives, COOPERATIVES, "cooperative_id"),
            ("quality", quality, QUALITY, ["cooperative_id", "product"]),
        )
    )
    plan_tables = None
    if plan is not None:
        from matcher.routing.batch import read_plan_tables, settings_for

        plan_tables, more = read_plan_tables(plan)
        problems += more
    if "products" in tables:
        problems += _unknown_products(tables, {"offers": offers, "orders": orders, "demand": demand}, products)
    previous = None
    if warm_start is not None:
        from matcher.previous import read_previous

        try:
            previous = read_previous(warm_start)
        except InputError as exc:
            problems += exc.problems
    read_done = time.perf_counter()
    try:
        region_set = read_regions(regions)
    except InputError as exc:
        problems += exc.problems
    problems += output_folder_problems(out)  # said now, not after the solve
    if problems:
        raise InputError(problems)
    regions_done = time.perf_counter()

    demand_name = (demand or orders).name  # type: ignore[union-attr]
    sources = Sources(offers.name, demand_name, regions.name, lanes.name if lanes else "lanes")
    cycle = compute_cycle(
        tables["offers"],
        region_set,
        date=date,
        params=params,
        orders=tables.get("orders"),
        demand=tables.get("demand"),
        lanes=tables.get("lanes"),
        sources=sources,
        cooperatives=tables.get("cooperatives"),
        quality=tables.get("quality"),
        plan=settings_for(plan, plan_tables, params) if plan is not None and plan_tables is not None else None,
        warehouses=plan_tables.warehouses if plan_tables is not None else None,
        crossdocks=plan_tables.crossdocks if plan_tables is not None else None,
        publish_plan=write_plan,
        previous=previous,
    )
    outputs = {
        "allocations.csv": cycle.match.allocations,
        "offers_out.csv": cycle.match.offers,
        "demand_out.csv": cycle.match.demand,
        "settlement.csv": cycle.settlement,
    }
    if cycle.orders is not None:
        outputs["demand.csv"] = cycle.demand.drop("orders")
        outputs["orders_out.csv"] = cycle.orders

    given = (
        ("offers", offers),
        ("demand", demand),
        ("orders", orders),
        ("regions", regions),
        ("lanes", lanes),
        ("products", products),
        ("cooperatives", cooperatives),
        ("quality", quality),
        ("crossdocks", plan.crossdocks if plan is not None else None),
        ("warm_start", warm_start),
    )
    summary = {key: value for key, value in cycle.summary.items() if key != "seconds"}
    summary["inputs"] = {k: str(v) for k, v in given if v}
    summary["seconds"] = {"read": read_done - clock, "regions": regions_done - read_done, **cycle.summary["seconds"]}
    if cycle.plan is not None:
        summary["plan"] = {k: cycle.plan.plan.summary[k] for k in ("status", "routed_cost", "routed_cost_per_kg", "assumed_cost_per_kg", "routed_vs_assumed")}
    before_write = time.perf_counter()

    def finished() -> dict[str, Any]:
        summary["seconds"]["write"] = time.perf_counter() - before_write
        summary["seconds"]["total"] = time.perf_counter() - clock
        return summary

    folders = None
    if cycle.plan is not None:  # written with the result: both land, or neither
        from matcher.routing.batch import plan_folder

        folders = {PLAN_FOLDER: plan_folder(cycle.plan.plan, cycle.plan.inputs)}
    write_outputs(out, outputs, finished, folders=folders)
    if cycle.plan is not None:
        summary["plan"] = cycle.plan.plan.summary
    return summary


def _unknown_products(tables: dict[str, pl.DataFrame], paths: dict[str, Path | None], catalogue: Path | None) -> list[Problem]:
    known = tables["products"].select("product")
    name = catalogue.name if catalogue else "products"
    problems: list[Problem] = []
    for key in ("offers", "orders", "demand"):
        if key not in tables or paths[key] is None:
            continue
        bad = tables[key].select("product").with_row_index("_row", offset=1).join(known, on="product", how="anti")
        source = paths[key].name  # type: ignore[union-attr]
        listed = (Problem(source, int(r), "product", f"{p!r} is not a product in {name}") for r, p in bad.iter_rows())
        problems += first_problems(listed, source=source, column="product", rest="rows with unknown products", total=bad.height)
    return problems
