"""The ``harvest`` command: one program, each package's subcommands.

``harvest match`` (the batch job) and ``harvest plan`` come from :mod:`matcher.cli`, ``harvest routes``
from :mod:`matcher.routing.cli`, ``harvest dfc`` from :mod:`matcher.dfc_cli`; ``harvest serve``, ``worker``,
``keys`` and ``db`` (the service) from :mod:`api.cli`; ``harvest demo`` is here. No command takes an abbreviated option (:class:`Parser`). Exit codes are the
same for all: 0 success, 2 bad input or options (one line per problem, nothing written), 1 a failure
of the solver, the database or the disk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from harvestmatch.errors import HarvestError, InputError, ParameterError, SolverError

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """``harvest`` and every subcommand's parser (``add_subparsers`` makes them of the same class):
    options must be spelled out. With abbreviations, ``--freight x`` would be read as
    ``--freight-per-kg-km x``, and a new option could silently change what an old command line means."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    _show_progress()
    try:
        return int(args.run(args))
    except (InputError, ParameterError) as exc:
        lines = [str(p) for p in exc.problems] if isinstance(exc, InputError) else [str(exc)]
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except SolverError as exc:
        print(f"solver error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except HarvestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # an output folder that cannot be written, a full disk
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED


def _show_progress(stream: TextIO | None = None) -> None:
    """On a terminal, a long day's progress lines (products and routing problems done, elapsed, an
    estimate; :data:`matcher.fanout.PROGRESS_LOG`) go to standard error."""
    import logging

    stream = stream or sys.stderr
    log = logging.getLogger("harvestmatch.progress")
    if not stream.isatty() or any(getattr(h, "_harvest_progress", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._harvest_progress = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _parser() -> argparse.ArgumentParser:
    from api.cli import add_commands as service_commands
    from matcher.cli import add_commands as batch_commands
    from matcher.dfc_cli import add_commands as dfc_commands
    from matcher.routing.cli import add_commands as routing_commands

    parser = Parser(prog="harvest", description="harvestmatch: match harvest supply to pooled regional demand.")
    sub = parser.add_subparsers(dest="command")
    batch_commands(sub)
    routing_commands(sub)
    service_commands(sub)
    dfc_commands(sub)
    d = sub.add_parser("demo", help="build the demo day on real geography (cached) and run one cycle on it")
    d.add_argument("--out", type=Path, default=Path("demo-out"), help="folder for the inputs, the results, the plan and the maps")
    d.add_argument(
        "--size",
        choices=("small", "national"),
        default="small",
        help="small: 370 cities, a day of fresh produce (default); national: 2,875 counties, 200,000 offers, 300 products",
    )
    d.add_argument("--seed", type=int, default=None)
    d.add_argument(
        "--crossdocks",
        action="store_true",
        help="line haul may run through the crossdocks of China's seven regional centres (written to OUT/input/crossdocks.csv; docs/freight.md)",
    )
    d.set_defaults(run=_run_demo)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from harvest.demo.day import run_demo
    from matcher.cli import format_summary

    seed = args.seed if args.seed is not None else (5 if args.size == "national" else 7)
    summary = run_demo(args.out, size=args.size, seed=seed, crossdocks=args.crossdocks)
    demo = summary["demo"]
    how = "reused from the cache" if demo["inputs_cached"] else "built"
    print(f"inputs {how} in {demo['build_seconds']:.1f} s: {args.out / 'input'}")
    print(format_summary(summary))
    print(f"results: {args.out / 'result'}")
    if "plan" in summary:
        from matcher.routing.batch import format_plan

        print(format_plan(summary["plan"]))
        print(f"plan: {args.out / 'result' / 'plan'}")
    for path in demo.get("maps", []):
        print(f"map: {path}")
    print(f"data: {demo['credit']} Volumes and prices are synthetic.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
