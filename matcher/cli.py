"""``harvest match``: the batch contract (docs/design.md, "The batch contract").

``harvest match`` reads the day's tables, validates all of them (every problem in every file, one line
each), runs the cycle (:func:`matcher.pipeline.compute_cycle`: with ``--plan`` its transport plan too), and
writes the outputs all at once. Exit 0 on success, 2 on bad
input or options (nothing written), 1 when the solver fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from harvestmatch.settings import add_options, from_options, options_given
from matcher.params import MatchParams
from matcher.routing.tables import Travel
from matcher.routing.vrp import SolveSettings

if TYPE_CHECKING:
    from matcher.routing.batch import PlanOptions

#: the cycle parameters ``harvest plan`` takes too: where its routing problems run
_EXECUTOR_SETTINGS = ("executor", "scheduler")

#: the routing search's options: ``--route-iterations`` and so on (``harvest routes`` says ``--iterations``)
_SEARCH_FLAGS = {"iterations": "--route-iterations", "seconds": "--route-seconds", "seed": "--route-seed", "budget": "--route-budget"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``harvest match`` to the ``harvest`` command's subcommands."""
    m = sub.add_parser("match", help="run one matching cycle on files", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--offers", required=True, type=Path, help="offers table (.csv or .parquet)")
    source = m.add_mutually_exclusive_group(required=True)
    source.add_argument("--demand", type=Path, help="pooled demand table (.csv or .parquet)")
    source.add_argument("--orders", type=Path, help="orders (.csv or .parquet), pooled into regional demand here")
    m.add_argument("--products", type=Path, help="product catalogue (a 'product' column): offers and orders naming others are rejected")
    m.add_argument("--regions", required=True, type=Path, help="region polygons (any vector format GDAL reads)")
    m.add_argument("--lanes", type=Path, help="the complete lane list: offer_id, region_id, distance_km [, transit_days, cost_per_kg]")
    m.add_argument("--cooperatives", type=Path, help="cooperative_id, small (true/false): who the safety net treats as small (others by --small-kg)")
    m.add_argument("--quality", type=Path, help="cooperative_id, product, refund_rate: expected refunds, read with --refund-adjust")
    m.add_argument("--date", required=True, type=_date, help="the cycle date, YYYY-MM-DD")
    m.add_argument("--out", required=True, type=Path, help="output folder: created, or replaced as a whole when it holds only a previous run's outputs")
    m.add_argument(
        "--warm-start",
        type=Path,
        metavar="PREVIOUS_RESULT_DIR",
        help="a previous result folder of harvest match: each product's solve starts from its farm-gate prices (same result, sooner)",
    )
    m.add_argument("--config", type=Path, help="TOML file of parameters (top level or a [match] table); options override it")
    add_options(m, MatchParams)
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.add_argument("--plan", action="store_true", help="also plan the transport (first mile, line haul, last mile) into OUT/plan/ (docs/routes.md)")
    add_plan_options(m)
    m.set_defaults(run=_run_match)

    p = sub.add_parser(
        "plan", help="plan the transport of a result written by harvest match", description=_PLAN_TEXT, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--result", required=True, type=Path, help="a result folder of harvest match; the plan goes to RESULT/plan/")
    p.add_argument("--offers", type=Path, help="the offers the result was made from (default: the path its summary.json records)")
    p.add_argument("--orders", type=Path, help="the orders it was made from (default: as recorded; without orders no last mile is planned)")
    p.add_argument("--regions", type=Path, help="its region polygons (default: as recorded)")
    p.add_argument("--circuity", type=float, help="road km per great-circle km (default: the result's)")
    add_plan_options(p)
    add_options(p, MatchParams, _EXECUTOR_SETTINGS)
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=_run_plan)


_PLAN_TEXT = """``harvest plan``: the transport plan of a result (docs/routes.md).

First-mile milk runs from farms to origin hubs (or warehouses), line haul between hubs (full truckloads
direct, the rest on multi-stop tours), last-mile deliveries from destination hubs to pickup points; each
written to RESULT/plan/ with a leg column. Exit 0 (also when stops cannot be served: unserved.csv says
why), 2 on bad input or options (nothing written).
"""


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fleet", type=Path, help="vehicle_type, capacity_kg, fixed_cost, cost_per_km, max_duration_min [, count, depot, leg] (default: docs/routes.md)"
    )
    parser.add_argument("--warehouses", type=Path, help="warehouse_id, lat, lon, capacity_kg, handling_per_kg: offers are collected to the nearest with room")
    parser.add_argument("--matrix", type=Path, help="from_id, to_id, distance_km, duration_min for every pair a plan needs (docs/routes.md)")
    parser.add_argument(
        "--crossdocks",
        type=Path,
        help="crossdock_id, lat, lon, capacity_kg, handling_per_kg: line haul may run through these (trucks freight; docs/freight.md)",
    )
    add_options(parser, SolveSettings, flags=_SEARCH_FLAGS)
    add_options(parser, Travel, ("speed_kmh",))


def plan_options(args: argparse.Namespace) -> PlanOptions:
    """The plan's options from the command line (the search's and the speed's defaults where none is
    given; where it runs is the cycle's parameters' business)."""
    from matcher.routing.batch import PlanOptions

    return PlanOptions(
        args.fleet,
        args.warehouses,
        args.matrix,
        search=from_options(args, SolveSettings, flags=_SEARCH_FLAGS),
        speed_kmh=from_options(args, Travel, names=("speed_kmh",)).speed_kmh,
        crossdocks=args.crossdocks,
    )


def _run_plan(args: argparse.Namespace) -> int:
    from matcher.routing.batch import format_plan, run_plan

    where = MatchParams(executor=args.executor or MatchParams.executor, scheduler=args.scheduler).resolved(os.environ)
    summary = run_plan(
        result=args.result, options=plan_options(args), where=where, offers=args.offers, regions=args.regions, orders=args.orders, circuity=args.circuity
    )
    if not args.quiet:
        print(format_plan(summary))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def params_from_args(args: argparse.Namespace) -> MatchParams:
    """The cycle's parameters: the defaults, then ``--config``, then the options given; the Dask
    scheduler's address from the environment when none is given (:meth:`MatchParams.resolved`)."""
    from matcher.io import read_params

    base = read_params(args.config) if args.config else MatchParams()
    return MatchParams.from_mapping({**asdict(base), **options_given(args, MatchParams)}).resolved(os.environ)


def _run_match(args: argparse.Namespace) -> int:
    from matcher.batch import run_batch

    summary = run_batch(
        offers=args.offers,
        demand=args.demand,
        orders=args.orders,
        regions=args.regions,
        lanes=args.lanes,
        products=args.products,
        cooperatives=args.cooperatives,
        quality=args.quality,
        date=args.date,
        out=args.out,
        params=params_from_args(args),
        plan=plan_options(args),  # the fleets price the trucks model's freight even when no plan is written
        write_plan=args.plan,
        warm_start=args.warm_start,
    )
    for warning in summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(format_summary(summary))
        if "plan" in summary:
            from matcher.routing.batch import format_plan

            print(format_plan(summary["plan"]))
    return 0


def format_summary(summary: dict) -> str:
    """A short human-readable table of the cycle."""
    s = summary
    seconds = s.get("seconds", {})
    rows = [
        ("date", s.get("date")),
        ("status", s.get("status")),
        ("offers (open)", f"{s['offers']:,}  ({s['offers_not_open']:,} not open)"),
        ("demand rows", f"{s['demand_rows']:,}"),
        ("products", f"{s['products']:,}"),
        ("supply kg", f"{s['supply_kg']:,}"),
        ("demand kg", f"{s['demand_kg']:,}"),
        ("allocated kg", f"{s['allocated_kg']:,}"),
        ("unmet demand kg", f"{s['demand_kg'] - s['allocated_kg']:,}"),
        ("welfare", f"{s['welfare']:,.2f}"),
        ("regions served", f"{s['regions_served']:,}"),
        ("solver", f"{s['solver']}: {s['pivots']:,} pivots, {s['rounds_total']:,} pricing rounds (max {s['rounds']} per product)"),
        ("lanes solved / considered", f"{s['lanes']:,} / {s['lanes_considered']:,}"),
        ("seconds", "  ".join(f"{k} {v:.2f}" for k, v in seconds.items())),
    ]
    net = s.get("safety_net") or {}
    if net.get("min_share"):
        rows[-3:-3] = [
            (
                "safety net",
                f"{net['floor_sold_kg']:,} of {net['floor_kg']:,} floor kg sold for {net['small_cooperatives']:,} small cooperatives "
                f"({net['floor_shortfall_kg']:,} kg short); subsidy {net['subsidy']:,.2f}",
            ),
            (
                "price of fairness",
                f"{net['price_of_fairness']:,.2f} "
                + (f"({net['price_of_fairness_pct']:.2f}% of {net['welfare_without_floor']:,.2f})" if net["price_of_fairness_pct"] is not None else ""),
            ),
        ]
    quality = s.get("quality") or {}
    if quality.get("refund_adjust"):
        rows[-3:-3] = [
            (
                "quality",
                f"{quality['offers_with_refund_rate']:,} offers with a refund rate; expected refunds {quality['expected_refunds']:,.2f}; "
                f"welfare moved {quality['welfare_moved']:,.2f}",
            ),
        ]
    freight = s.get("freight") or {}
    if "realized_welfare" in freight:
        rows[-3:-3] = _freight_rows(freight)
    if "orders" in s:
        status = ", ".join(f"{k} {v:,}" for k, v in s.get("order_status", {}).items())
        rows[3:3] = [
            ("orders", f"{s['orders']:,} pooled into {s['pooled_demand_rows']:,} rows  ({status})"),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _freight_rows(freight: dict) -> list[tuple[str, str]]:
    """What the trucks cost against what the lanes assumed, and (trucks) the rounds that priced them."""
    assumed, routed = freight["assumed"]["total"], freight["routed"]["total"]
    rows = [
        ("realized welfare", f"{freight['realized_welfare']:,.2f}  (after the tours' cost instead of the lanes' assumed freight)"),
        ("freight", f"{freight['model']}: tours {routed:,.2f} against assumed {assumed:,.2f}: x{freight['routed_vs_assumed'] or 0:.4f}"),
    ]
    if freight["model"] == "trucks":
        realized = ", ".join(f"{r['realized_welfare']:,.0f}" for r in freight["rounds"])
        bound = f"; bound {freight['bound']:,.2f} (gap {freight['gap']:.1%})" if freight.get("bound") is not None else ""
        lost = freight["not_routable"]
        rows.append(
            (
                "freight rounds",
                f"{len(freight['rounds'])} ({freight['stopped']}), realized {realized}; kept round {freight['kept_round']}{bound}; "
                f"not routable: {lost['offers']:,} offers, {lost['orders']:,} orders",
            )
        )
    return rows


__all__ = ["add_commands", "format_summary", "params_from_args"]
