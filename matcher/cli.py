"""The ``harvest`` command: the batch contract of DESIGN.md section 3.

``harvest match`` reads the day's tables, validates all of them (every problem in every file, one line
each), runs :func:`matcher.cycle.match`, and writes the outputs all at once. Exit 0 on success, 2 on bad
input or options (nothing written), 1 when the solver fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.params import MatchParams
from regions.errors import HarvestError, InputError, ParameterError, Problem, SolverError

EXIT_OK, EXIT_SOLVER, EXIT_INPUT = 0, 1, 2

_PARAM_OPTIONS = {
    "circuity": (float, "road km per great-circle km (default 1.3)"),
    "km_per_day": (float, "km a truck covers per day; transit_days = ceil(km / km_per_day) (default 600)"),
    "freight_per_kg_km": (float, "freight cost per kg per km (default 0.0005)"),
    "handling_per_kg": (float, "fixed cost per kg shipped (default 0.10)"),
    "k_nearest": (int, "offers nearest to each region whose lanes start the solve; any value gives the same optimum (default 12)"),
    "max_rounds": (int, "pricing rounds before giving up with an error (default 100)"),
    "workers": (int, "processes solving products in parallel (default: the cores available)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(args.run(args))
    except (InputError, ParameterError) as exc:
        for line in _lines(exc):
            print(f"error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except SolverError as exc:
        print(f"solver error: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    except HarvestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    except OSError as exc:  # an output folder that cannot be written, a full disk
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_SOLVER


def _lines(exc: HarvestError) -> list[str]:
    if isinstance(exc, InputError):
        return [str(p) for p in exc.problems]
    return [str(exc)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harvest", description="harvestmatch: match harvest supply to pooled regional demand.")
    sub = parser.add_subparsers(dest="command")

    m = sub.add_parser("match", help="run one matching cycle on files", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--offers", required=True, type=Path, help="offers table (.csv or .parquet)")
    source = m.add_mutually_exclusive_group(required=True)
    source.add_argument("--demand", type=Path, help="pooled demand table (.csv or .parquet)")
    source.add_argument("--orders", type=Path, help="orders (.csv or .parquet), pooled into regional demand here")
    m.add_argument("--products", type=Path, help="product catalogue (a 'product' column): offers and orders naming others are rejected")
    m.add_argument("--max-snap-km", dest="max_snap_km", type=float, default=25.0,
                   help="an order outside every region joins the nearest within this many km, else it is rejected (default 25)")
    m.add_argument("--price-step", dest="price_step", type=float, default=0.05,
                   help="width of a price tier: an order's max price is rounded down to it (default 0.05)")
    m.add_argument("--regions", required=True, type=Path, help="region polygons (any vector format GDAL reads)")
    m.add_argument("--lanes", type=Path, help="the complete lane list: offer_id, region_id, distance_km [, transit_days, cost_per_kg]")
    m.add_argument("--date", required=True, type=_date, help="the cycle date, YYYY-MM-DD")
    m.add_argument("--out", required=True, type=Path, help="output folder (created; files in it replaced)")
    m.add_argument("--config", type=Path, help="TOML file of parameters (top level or a [match] table); options override it")
    for name, (kind, text) in _PARAM_OPTIONS.items():
        m.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    m.add_argument("--price-rule", dest="price_rule", choices=("farmer", "buyer", "midpoint"),
                   help="which optimal prices to publish (default farmer: the highest farm-gate prices)")
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.set_defaults(run=_run_match)

    k = sub.add_parser("keys", help="manage API keys of the HTTP service")
    ksub = k.add_subparsers(dest="keys_command", required=True)
    kc = ksub.add_parser("create", help="create a key and print it (only its hash is stored)")
    kc.add_argument("--role", required=True, choices=("cooperative", "buyer", "planner", "operator"))
    kc.add_argument("--cooperative", help="the cooperative a cooperative key is bound to")
    kc.add_argument("--label", help="a note to recognise the key by")
    kc.set_defaults(run=_run_keys_create)

    b = sub.add_parser("db", help="the service's database")
    bsub = b.add_subparsers(dest="db_command", required=True)
    bu = bsub.add_parser("upgrade", help="migrate the database (HARVEST_DATABASE_URL, else the SQLite default) to the newest schema")
    bu.set_defaults(run=_run_db_upgrade)

    s = sub.add_parser("serve", help="run the HTTP service with a production WSGI server (waitress)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--threads", type=int, default=8)
    s.set_defaults(run=_run_serve)

    d = sub.add_parser("demo", help="build the demo day on real geography (cached) and run one cycle on it")
    d.add_argument("--out", type=Path, default=Path("demo-out"), help="folder for the inputs, the results and the map")
    d.add_argument("--size", choices=("small", "national"), default="small",
                   help="small: 370 cities, a day of fresh produce (default); national: 2,875 counties, 200,000 offers, 300 products")
    d.add_argument("--seed", type=int, default=None)
    d.set_defaults(run=_run_demo)
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def params_from_args(args: argparse.Namespace) -> MatchParams:
    base = MatchParams.from_toml(args.config) if args.config else MatchParams()
    given = {name: getattr(args, name) for name in (*_PARAM_OPTIONS, "price_rule") if getattr(args, name) is not None}
    return MatchParams.from_mapping({**_as_dict(base), **given})


def _as_dict(params: MatchParams) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(params)


def _run_match(args: argparse.Namespace) -> int:
    from matcher.batch import run_batch

    from matcher.batch import Pooling

    summary = run_batch(
        offers=args.offers,
        demand=args.demand,
        orders=args.orders,
        regions=args.regions,
        lanes=args.lanes,
        products=args.products,
        date=args.date,
        out=args.out,
        params=params_from_args(args),
        pooling=Pooling(args.max_snap_km, args.price_step),
    )
    for warning in summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(format_summary(summary))
    return EXIT_OK


def _run_keys_create(args: argparse.Namespace) -> int:
    from api import create_app
    from api.db import create_key

    app = create_app()
    try:
        key = create_key(app.extensions["harvest_db"], args.role, cooperative_id=args.cooperative, label=args.label)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(key)
    return EXIT_OK


def _run_db_upgrade(args: argparse.Namespace) -> int:
    from api import create_app
    from api.migrate import upgrade

    app = create_app({"AUTO_MIGRATE": False})
    db = app.extensions["harvest_db"]
    upgrade(db)
    print(f"database at the newest schema: {db.engine.url.render_as_string(hide_password=True)}")
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    import waitress

    from api import create_app

    waitress.serve(create_app(), host=args.host, port=args.port, threads=args.threads)
    return EXIT_OK


def _run_demo(args: argparse.Namespace) -> int:
    from matcher.demo import run_demo

    seed = args.seed if args.seed is not None else (5 if args.size == "national" else 7)
    summary = run_demo(args.out, size=args.size, seed=seed)
    demo = summary["demo"]
    how = "reused from the cache" if demo["inputs_cached"] else "built"
    print(f"inputs {how} in {demo['build_seconds']:.1f} s: {args.out / 'input'}")
    print(format_summary(summary))
    print(f"results: {args.out / 'result'}")
    if "map" in demo:
        print(f"map: {demo['map']}")
    print(f"data: {demo['credit']} Volumes and prices are synthetic.")
    return EXIT_OK


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
        ("lanes solved / considered", f"{s['lanes']:,} / {s['lanes_considered']:,}  (pricing rounds: max {s['rounds']})"),
        ("seconds", "  ".join(f"{k} {v:.2f}" for k, v in seconds.items())),
    ]
    if "orders" in s:
        status = ", ".join(f"{k} {v:,}" for k, v in s.get("order_status", {}).items())
        rows[3:3] = [
            ("orders", f"{s['orders']:,} pooled into {s['pooled_demand_rows']:,} rows  ({status})"),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


__all__ = ["main", "format_summary", "params_from_args", "Problem"]

if __name__ == "__main__":
    sys.exit(main())
