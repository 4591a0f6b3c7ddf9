"""``harvest match``: the batch contract (docs/design.md, "The batch contract").

``harvest match`` reads the day's tables, validates all of them (every problem in every file, one line
each), runs :func:`matcher.cycle.match`, and writes the outputs all at once. Exit 0 on success, 2 on bad
input or options (nothing written), 1 when the solver fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from matcher.params import MatchParams

if TYPE_CHECKING:
    from matcher.routing.batch import PlanOptions

_PARAM_OPTIONS = {
    "circuity": (float, "road km per great-circle km (default 1.3)"),
    "km_per_day": (float, "km a truck covers per day; transit_days = ceil(km / km_per_day) (default 600)"),
    "freight_per_kg_km": (float, "freight cost per kg per km (default 0.0005)"),
    "handling_per_kg": (float, "fixed cost per kg shipped (default 0.10)"),
    "k_nearest": (int, "offers nearest to each region whose lanes start the solve; any value gives the same optimum (default 12)"),
    "max_rounds": (int, "pricing rounds before giving up with an error (default 100)"),
    "workers": (int, "processes solving products in parallel (default: the cores available)"),
    "max_snap_km": (float, "an order outside every region joins the nearest within this many km, else it is rejected (default 25)"),
    "price_step": (float, "width of a price tier: an order's max price is rounded down to it (default 0.05)"),
    "small_share": (float, "the safety net: a small cooperative's offers sell at least this share of their kg when a lane allows (default 0: off)"),
    "max_subsidy_per_kg": (float, "the safety net: the lowest lane margin a floor may use is minus this, money per kg (default 0)"),
    "small_kg": (float, "the safety net: without --cooperatives, a cooperative whose open offers total at most this many kg is small (default 2000)"),
}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``harvest match`` to the ``harvest`` command's subcommands."""
    m = sub.add_parser("match", help="run one matching cycle on files", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--offers", required=True, type=Path, help="offers table (.csv or .parquet)")
    source = m.add_mutually_exclusive_group(required=True)
    source.add_argument("--demand", type=Path, help="pooled demand table (.csv or .parquet)")
    source.add_argument("--orders", type=Path, help="orders (.csv or .parquet), pooled into regional demand here")
    m.add_argument("--products", type=Path, help="product catalogue (a 'product' column): offers and orders naming others are rejected")
    m.add_argument("--regions", required=True, type=Path, help="region polygons (any vector format GDAL reads)")
    m.add_argument("--lanes", type=Path, help="the complete lane list: offer_id, region_id, distance_km [, transit_days, cost_per_kg]")
    m.add_argument("--cooperatives", type=Path, help="cooperative_id, small (true/false): who the safety net treats as small (others by --small-kg)")
    m.add_argument("--quality", type=Path, help="cooperative_id, product, refund_rate: expected refunds, read with --refund-adjust")
    m.add_argument("--refund-adjust", dest="refund_adjust", action=argparse.BooleanOptionalAction, default=None,
                   help="value a lane at bid * (1 - refund_rate) - ask - cost (default off; --no-refund-adjust overrides a config that sets it)")
    m.add_argument("--date", required=True, type=_date, help="the cycle date, YYYY-MM-DD")
    m.add_argument("--out", required=True, type=Path, help="output folder: created, or replaced as a whole when it holds only a previous run's outputs")
    m.add_argument("--config", type=Path, help="TOML file of parameters (top level or a [match] table); options override it")
    for name, (kind, text) in _PARAM_OPTIONS.items():
        m.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    m.add_argument("--price-rule", dest="price_rule", choices=("farmer", "buyer", "midpoint"),
                   help="which optimal prices to publish (default farmer: the highest farm-gate prices)")
    m.add_argument("--fill-rule", dest="fill_rule", choices=("pro_rata", "max_min", "fcfs"),
                   help="how a demand row's filled kg go back to its orders (default pro_rata: the same share each; max_min: smallest first; fcfs: first come, first served)")
    m.add_argument("--solver", dest="solver", choices=("simplex", "ortools"),
                   help="the exact solver (default simplex, the fastest; ortools cross-checks it)")
    add_executor_options(m)
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.add_argument("--plan", action="store_true", help="also plan the transport (first mile, line haul, last mile) into OUT/plan/ (docs/routes.md)")
    add_plan_options(m)
    m.set_defaults(run=_run_match)

    p = sub.add_parser("plan", help="plan the transport of a result written by harvest match", description=_PLAN_TEXT,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--result", required=True, type=Path, help="a result folder of harvest match; the plan goes to RESULT/plan/")
    p.add_argument("--offers", type=Path, help="the offers the result was made from (default: the path its summary.json records)")
    p.add_argument("--orders", type=Path, help="the orders it was made from (default: as recorded; without orders no last mile is planned)")
    p.add_argument("--regions", type=Path, help="its region polygons (default: as recorded)")
    p.add_argument("--circuity", type=float, help="road km per great-circle km (default: the result's)")
    add_plan_options(p)
    add_executor_options(p)
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=_run_plan)


_PLAN_TEXT = """``harvest plan``: the transport plan of a result (docs/routes.md).

First-mile milk runs from farms to origin hubs (or warehouses), line haul between hubs (full truckloads
direct, the rest on multi-stop tours), last-mile deliveries from destination hubs to pickup points; each
written to RESULT/plan/ with a leg column. Exit 0 (also when stops cannot be served: unserved.csv says
why), 2 on bad input or options (nothing written).
"""


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=("local", "dask"),
                        help="where the day's problems run: local worker processes (default) or a Dask cluster (the dask extra)")
    parser.add_argument("--scheduler", help="the Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (default: $HARVEST_DASK_SCHEDULER)")


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fleet", type=Path, help="vehicle_type, capacity_kg, fixed_cost, cost_per_km, max_duration_min [, count, depot, leg] (default: docs/routes.md)")
    parser.add_argument("--warehouses", type=Path, help="warehouse_id, lat, lon, capacity_kg, handling_per_kg: offers are collected to the nearest with room")
    parser.add_argument("--matrix", type=Path, help="from_id, to_id, distance_km, duration_min for every pair a plan needs (docs/routes.md)")
    parser.add_argument("--route-seconds", dest="route_seconds", type=float, default=5.0, help="time limit per routing problem (default 5)")
    parser.add_argument("--route-iterations", dest="route_iterations", type=int, default=1_000, help="iterations per routing problem (default 1000)")
    parser.add_argument("--route-seed", dest="route_seed", type=int, default=1, help="seed of the routing search (default 1)")
    parser.add_argument("--speed-kmh", dest="speed_kmh", type=float, default=60.0, help="average speed without a matrix (default 60)")


def plan_options(args: argparse.Namespace) -> PlanOptions:
    from matcher.fanout import available_cores
    from matcher.routing.batch import PlanOptions

    workers = getattr(args, "workers", None) or available_cores()
    return PlanOptions(args.fleet, args.warehouses, args.matrix, args.route_seconds, args.route_iterations, args.route_seed, args.speed_kmh, workers,
                       executor=args.executor or "local", scheduler=args.scheduler)


def _run_plan(args: argparse.Namespace) -> int:
    from matcher.routing.batch import format_plan, run_plan

    summary = run_plan(result=args.result, options=plan_options(args), offers=args.offers, regions=args.regions,
                       orders=args.orders, circuity=args.circuity)
    if not args.quiet:
        print(format_plan(summary))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def params_from_args(args: argparse.Namespace) -> MatchParams:
    base = MatchParams.from_toml(args.config) if args.config else MatchParams()
    given = {name: getattr(args, name) for name in (*_PARAM_OPTIONS, "price_rule", "solver", "fill_rule", "executor", "scheduler", "refund_adjust") if getattr(args, name) is not None}
    return MatchParams.from_mapping({**_as_dict(base), **given})


def _as_dict(params: MatchParams) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(params)


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
        plan=plan_options(args) if args.plan else None,
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
            ("safety net", f"{net['floor_sold_kg']:,} of {net['floor_kg']:,} floor kg sold for {net['small_cooperatives']:,} small cooperatives "
                           f"({net['floor_shortfall_kg']:,} kg short); subsidy {net['subsidy']:,.2f}"),
            ("price of fairness", f"{net['price_of_fairness']:,.2f} "
                                  + (f"({net['price_of_fairness_pct']:.2f}% of {net['welfare_without_floor']:,.2f})" if net["price_of_fairness_pct"] is not None else "")),
        ]
    quality = s.get("quality") or {}
    if quality.get("refund_adjust"):
        rows[-3:-3] = [
            ("quality", f"{quality['offers_with_refund_rate']:,} offers with a refund rate; expected refunds {quality['expected_refunds']:,.2f}; "
                        f"welfare moved {quality['welfare_moved']:,.2f}"),
        ]
    if "orders" in s:
        status = ", ".join(f"{k} {v:,}" for k, v in s.get("order_status", {}).items())
        rows[3:3] = [
            ("orders", f"{s['orders']:,} pooled into {s['pooled_demand_rows']:,} rows  ({status})"),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


__all__ = ["add_commands", "format_summary", "params_from_args"]
