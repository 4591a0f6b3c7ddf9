"""The freight benchmark, run by hand: ``.venv/bin/python bench/freight.py [--write bench/RESULTS.md]``.

What it measures (section ``freight`` of bench/RESULTS.md, "Freight the trucks achieve"; docs/freight.md):

- **the demo day** (``build_demo_inputs``, the inputs ``harvest demo`` writes, cached in
  ``bench/data/freight/demo/input``) matched and planned with the demo's own parameters
  (``DEMO_PARAMS``: ``--small-share 0.5 --max-subsidy-per-kg 0.5``; ``DEMO_ROUTE_ITERATIONS``:
  ``--route-iterations 300``), once with ``--freight linear`` and once with ``--freight trucks``: two
  ``harvest match ... --plan`` processes, one after the other, each timed (wall, CPU, peak RSS of the
  process tree; bench/measure.py). Per model: published and realized welfare, the routed and the assumed
  freight, kg sold, the plan's unserved kg, what the trucks model left out as ``not_routable``, the line
  haul's load factor and cost per kg; the trucks model's rounds.
- **through crossdocks**: the trucks model again with `--crossdocks` (the demo's seven regional centres,
  `DEMO_CROSSDOCKS`, written to the day's input folder).
- **the national day** (``--national``; section ``freight-national``): ``build_national_inputs`` (as
  ``harvest demo --size national``: China's 2,875 counties, 200,000 offers, 300 products), matched and
  planned end to end by one ``harvest match --plan`` with the trucks model: wall, CPU, peak RSS, the
  stages and the rounds, against the issue's 10-minute target.
- **an unseen day**: the same builder with another seed (``build_demo_inputs(folder, seed=11)``: other
  offers and orders on the same geography), the same two runs.

Each day's results stay in ``bench/data/freight/<day>/{linear,trucks}`` (git-ignored with bench/data/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from measure import Measured, run_measured  # noqa: E402

WORK = HERE / "data" / "freight"
HARVEST = [sys.executable, "-m", "harvest"]
#: the runs of a day: the two freight models, and the trucks model through the demo's crossdocks
MODELS = ("linear", "trucks", "crossdocks")

#: the issue's targets: on the demo day, and on a day the model was not tuned on
DEMO_TARGETS = {"routed_vs_assumed": 1.25, "realized_ratio": 1.5, "unserved_share": 0.005}
UNSEEN_TARGETS = {"routed_vs_assumed": 1.3, "realized_ratio": 1.2, "unserved_share": 0.01}


@dataclass
class ModelRun:
    model: str
    cmd: list[str]
    run: Measured
    summary: dict[str, Any]
    plan: dict[str, Any]
    unserved_kg: int
    not_routable_kg: int  # the kg of orders the trucks model left out as not_routable


# ------------------------------------------------------------------------------------------- days
def demo_args() -> list[str]:
    """The demo's own match and plan parameters, as command-line options."""
    from harvest.demo.day import DEMO_PARAMS, DEMO_ROUTE_ITERATIONS

    return [
        "--route-iterations",
        str(DEMO_ROUTE_ITERATIONS),
        "--small-share",
        f"{DEMO_PARAMS.small_share:g}",
        "--max-subsidy-per-kg",
        f"{DEMO_PARAMS.max_subsidy_per_kg:g}",
    ]


def run_day(name: str, seed: int) -> tuple[dict[str, Any], dict[str, ModelRun]]:
    from harvest.demo.day import build_demo_inputs

    folder = WORK / name
    paths = build_demo_inputs(folder / "input", seed=seed)
    cached = paths.pop("cached")
    date = paths.pop("date")
    runs = {}
    from harvest.demo.day import DEMO_CROSSDOCKS

    DEMO_CROSSDOCKS.write_csv(folder / "input" / "crossdocks.csv")
    for model in MODELS:
        out = folder / model
        how = ["--freight", "linear"] if model == "linear" else ["--freight", "trucks"]
        if model == "crossdocks":
            how += ["--crossdocks", str(folder / "input" / "crossdocks.csv")]
        cmd = [
            *HARVEST,
            "match",
            "--offers",
            str(paths["offers"]),
            "--orders",
            str(paths["orders"]),
            "--products",
            str(paths["products"]),
            "--regions",
            str(paths["regions"]),
            "--date",
            date.isoformat(),
            "--out",
            str(out),
            "--quiet",
            "--plan",
            *demo_args(),
            *how,
        ]
        print(f"  {name}: harvest match {' '.join(how)} ...", file=sys.stderr, flush=True)
        run = run_measured(cmd, poll=0.05, cwd=ROOT)
        if run.returncode != 0:
            raise SystemExit(f"harvest match {' '.join(how)} ({name}) failed (exit {run.returncode}):\n{run.stderr}")
        summary = json.loads((out / "summary.json").read_text())
        plan = json.loads((out / "plan" / "summary.json").read_text())
        unserved = pl.read_csv(out / "plan" / "unserved.csv")
        orders = pl.read_csv(out / "orders_out.csv", columns=["reason", "unfilled_kg"])
        lost = int(orders.filter(pl.col("reason") == "not_routable")["unfilled_kg"].sum())
        runs[model] = ModelRun(model, cmd, run, summary, plan, int(unserved["kg"].sum()) if unserved.height else 0, lost)
        print(f"    {run.seconds:.0f} s, realized {summary['freight'].get('realized_welfare')}", file=sys.stderr, flush=True)
    return {"name": name, "seed": seed, "cached": cached, "date": date}, runs


# ----------------------------------------------------------------------------------------- tables
def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _total(value: Any) -> float | None:
    """A freight cost: a number, or a per-leg dict with its ``total``."""
    if value is None:
        return None
    return float(value["total"]) if isinstance(value, dict) else float(value)


def comparison_table(runs: dict[str, ModelRun]) -> list[str]:
    lin, tru, xd = runs["linear"], runs["trucks"], runs["crossdocks"]
    rows: list[tuple[str, ...]] = []

    def row(label: str, f: Any) -> None:
        rows.append((label, f(lin), f(tru), f(xd)))

    row("published welfare (the match's objective at its lane costs)", lambda r: _money(r.summary["welfare"]))
    row("**realized welfare** (the tours paid instead of the lanes' costs)", lambda r: f"**{_money(r.summary['freight']['realized_welfare'])}**")
    base = lin.summary["freight"]["realized_welfare"]
    rows.append(
        (
            "realized welfare / linear's",
            "1",
            f"**{tru.summary['freight']['realized_welfare'] / base:.2f}x**",
            f"{xd.summary['freight']['realized_welfare'] / base:.2f}x",
        )
    )
    row("routed freight (tours + handling)", lambda r: _money(_total(r.summary["freight"]["routed"])))
    row("assumed freight (the lanes' cost_per_kg x kg, handling included)", lambda r: _money(_total(r.summary["freight"]["assumed"])))
    row("**routed / assumed** (`freight.routed_vs_assumed`)", lambda r: f"**{r.summary['freight']['routed_vs_assumed']:.3f}**")
    row("the plan's own `routed_vs_assumed` (tours without handling / assumed with it)", lambda r: f"{r.plan['routed_vs_assumed']:.3f}")
    row("kg sold", lambda r: f"{r.summary['allocated_kg']:,}")
    row("unserved kg in the plan (`plan/unserved.csv`)", lambda r: f"{r.unserved_kg:,} ({r.unserved_kg / max(1, r.summary['allocated_kg']):.2%} of sold)")
    row(
        "not routable: offers / orders (kg of those orders)",
        lambda r: (
            "-"
            if "not_routable" not in r.summary["freight"]
            else f"{r.summary['freight']['not_routable']['offers']:,} / {r.summary['freight']['not_routable']['orders']:,} ({r.not_routable_kg:,} kg)"
        ),
    )
    row(
        "line haul: load factor / cost per kg it carries",
        lambda r: f"{r.plan['legs']['line_haul']['load_factor']:.0%} / {r.plan['legs']['line_haul']['cost_per_kg']:.3f}",
    )
    row("line haul: vehicles / km", lambda r: f"{r.plan['legs']['line_haul']['vehicles']:,} / {r.plan['legs']['line_haul']['km']:,.0f}")
    row("routed cost per kg sold (tours + handling)", lambda r: f"{_total(r.summary['freight']['routed']) / max(1, r.summary['allocated_kg']):.3f}")
    row(
        "kg through crossdocks / their handling",
        lambda r: (
            "-"
            if "crossdock_handling" not in r.summary["freight"]["routed"]
            else f"{r.summary['freight']['rounds'][r.summary['freight']['kept_round']].get('crossdock_kg', 0):,} (kept round) / "
            f"{_money(r.summary['freight']['routed']['crossdock_handling'])}"
        ),
    )
    row("regions served", lambda r: f"{r.summary['regions_served']:,}")
    row(
        "offers: sold / partly sold / not sold",
        lambda r: (
            f"{r.summary['offer_reasons'].get('sold', 0):,} / {r.summary['offer_reasons'].get('partly_sold', 0):,} / "
            f"{sum(v for k, v in r.summary['offer_reasons'].items() if k not in ('sold', 'partly_sold')):,}"
        ),
    )
    row(
        "safety net: floor kg sold of floor kg (floors met / floor offers)",
        lambda r: (
            f"{r.summary['safety_net']['floor_sold_kg']:,} of {r.summary['safety_net']['floor_kg']:,} "
            f"({r.summary['safety_net']['floors_met']} / {r.summary['safety_net']['floor_offers']})"
            if r.summary.get("safety_net")
            else "-"
        ),
    )
    row("wall s (whole `harvest match --plan`)", lambda r: f"{r.run.seconds:.0f}")
    row("of which: plan s (stages of the summary)", lambda r: f"{r.summary['seconds'].get('plan', float('nan')):.0f}")
    row("CPU s (process tree)", lambda r: "-" if r.run.cpu_seconds is None else f"{r.run.cpu_seconds:.0f} ({r.run.cpu_seconds / r.run.seconds:.2f} cores busy)")
    row("peak RSS, process tree (MB)", lambda r: f"{r.run.peak_rss_mb:,.0f}")
    lines = ["| | `--freight linear` | `--freight trucks` | `--freight trucks --crossdocks` (the demo's 7) |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def rounds_table(trucks: ModelRun) -> list[str]:
    f = trucks.summary["freight"]
    lines = [
        "| round | welfare (at the round's lane costs) | realized welfare | kg | corridors (line haul) | assumed | routed | routed / assumed | "
        "estimated legs | unserved kg | seconds (match + route) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in f["rounds"]:
        a, ro = _total(r["assumed"]), _total(r["routed"])
        s = r.get("seconds", {})
        secs = f"{s.get('match', 0) + s.get('route', 0):.0f} ({s.get('match', 0):.0f} + {s.get('route', 0):.0f})" if isinstance(s, dict) else f"{s:.0f}"
        kept = " (kept)" if r["round"] == f["kept_round"] else ""
        lines.append(
            f"| {r['round']}{kept} | {_money(r['welfare'])} | {_money(r['realized_welfare'])} | {r['kg']:,} | "
            f"{'-' if r['corridors'] is None else format(r['corridors'], ',')} | {_money(a)} | {_money(ro)} | "
            f"{(ro / a if a else float('nan')):.2f} | {', '.join(r.get('estimated_legs', [])) or '-'} | {r.get('unserved_kg', 0):,} | {secs} |"
        )
    lines += [
        "",
        f"Stopped: `{f['stopped']}`; kept round {f['kept_round']}; repairs {f['repairs']}; bound (round 0's welfare at full "
        f"vehicles' rates) {_money(f.get('bound'))}, gap of the published plan's realized welfare to it "
        f"{'-' if f.get('gap') is None else format(f['gap'], '.1%')}; the freight loop's seconds {f.get('seconds', 0):.0f}. "
        "The kept round is then routed whole at the plan's budget and repaired: the published realized welfare "
        f"({_money(f['realized_welfare'])}) is that plan's, not the round's. Rounds after 0 do not route the last mile: their "
        "*routed* and *realized* take the last mile at what the lanes assumed (`estimated legs`), so they read better than a whole "
        f"plan would; in the published plan the last mile cost {_money(f['routed']['last_mile'])} against "
        f"{_money(f['assumed']['last_mile'])} assumed ({f['routed']['last_mile'] / max(1.0, f['assumed']['last_mile']):.2f}x), "
        f"the line haul {_money(f['routed']['line_haul'])} against {_money(f['assumed']['line_haul'])} "
        f"({f['routed']['line_haul'] / max(1.0, f['assumed']['line_haul']):.2f}x), the first mile {_money(f['routed']['first_mile'])} "
        f"against {_money(f['assumed']['first_mile'])} ({f['routed']['first_mile'] / max(1.0, f['assumed']['first_mile']):.2f}x).",
    ]
    return lines


def targets(runs: dict[str, ModelRun], wanted: dict[str, float], unseen: bool) -> list[str]:
    lin, tru = runs["linear"], runs["trucks"]
    rva = tru.summary["freight"]["routed_vs_assumed"]
    ratio = tru.summary["freight"]["realized_welfare"] / lin.summary["freight"]["realized_welfare"]
    share = tru.unserved_kg / max(1, tru.summary["allocated_kg"])
    lost = tru.not_routable_kg / max(1, tru.summary["allocated_kg"])
    yes = lambda ok: "**yes**" if ok else "**no**"  # noqa: E731
    realized_target = (
        f"clearly above linear's (read here as at least {wanted['realized_ratio']:g}x)" if unseen else f"at least {wanted['realized_ratio']:g}x linear's"
    )
    return [
        "| target (trucks) | measured | met |",
        "|---|---|---|",
        f"| routed / assumed at most {wanted['routed_vs_assumed']:g} | {rva:.3f} | {yes(rva <= wanted['routed_vs_assumed'])} |",
        f"| realized welfare {realized_target} | {ratio:.2f}x ({_money(tru.summary['freight']['realized_welfare'])} against "
        f"{_money(lin.summary['freight']['realized_welfare'])}) | {yes(ratio >= wanted['realized_ratio'])} |",
        f"| unserved kg in the plan at most {wanted['unserved_share']:.1%} of sold kg | {tru.unserved_kg:,} kg, {share:.2%} "
        f"(besides: {tru.not_routable_kg:,} kg of orders left out as not_routable before publishing, {lost:.2%} of sold kg) | "
        f"{yes(share <= wanted['unserved_share'])} |",
    ]


def day_lines(day: dict[str, Any], runs: dict[str, ModelRun], unseen: bool) -> list[str]:
    s = runs["linear"].summary
    what = (
        f"seed {day['seed']}: other offers and orders on the demo's geography, the demo's own parameters"
        if unseen
        else f"seed {day['seed']}, the day `harvest demo` runs"
    )
    lines = [
        f"### {'An unseen day' if unseen else 'The demo day'} ({what})",
        "",
        f"`build_demo_inputs(folder, seed={day['seed']})` (version {_demo_version(WORK / day['name'] / 'input')}; inputs "
        f"{'reused from the cache' if day['cached'] else 'built by this run'}): {s['offers']:,} offers, {s['orders']:,} orders pooled into "
        f"{s['demand_rows']:,} demand rows in China's 370 cities, {s['supply_kg']:,} kg offered.",
        "",
        "```",
        *(_command(r.cmd) for r in runs.values()),
        "```",
        "",
        *comparison_table(runs),
        "",
        "The trucks model's rounds (`summary.json` `freight.rounds`; rounds route with at most 100 iterations per problem, the last mile only in round 0):",
        "",
        *rounds_table(runs["trucks"]),
        "",
        "Through the demo's seven crossdocks (`harvest demo --crossdocks`; `DEMO_CROSSDOCKS`), the rounds:",
        "",
        *rounds_table(runs["crossdocks"]),
        "",
        *targets(runs, UNSEEN_TARGETS if unseen else DEMO_TARGETS, unseen),
        "",
    ]
    return lines


# ----------------------------------------------------------------------------------------- output
def _command(cmd: list[str]) -> str:
    words = ["harvest", *cmd[len(HARVEST) :]] if cmd[: len(HARVEST)] == HARVEST else cmd
    out = []
    for w in words:
        text = str(w)
        if text.startswith("/"):
            try:
                text = str(Path(text).relative_to(ROOT))
            except ValueError:
                pass
        out.append(text)
    return " ".join(out)


def _demo_version(folder: Path) -> str:
    stamp = folder / "BUILD.json"
    return str(json.loads(stamp.read_text()).get("version", "?")) if stamp.exists() else "?"


def machine() -> str:
    """CPU model, cores and RAM from /proc; Python and the kernel."""
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
    return f"{os.cpu_count()} cores ({cpu}), {kib / 2**20:.1f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def code_version() -> str:
    """The commit, and whether the code the benchmark runs differs from it."""

    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--", "matcher", "regions", "harvestmatch", "harvest")
    return f"commit {git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes in matcher/, regions/, harvest/ or harvestmatch/" if changed else "")


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def section(key: str, title: str, script: str, lines: list[str], load_at_start: str) -> str:
    shared = max(float(x) for x in load_at_start.split(", ")[:1] + load().split(", ")[:1]) > 0.75 * (os.cpu_count() or 1)
    busy = " (other work shared the machine: wall times are indicative)" if shared else ""
    head = [
        f"<!-- bench:{key} -->",
        f"## {title}",
        "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()}; load average at the start {load_at_start}, at the end "
        f"{load()}{busy}; code at {code_version()}.",
        f"Command: `.venv/bin/python bench/{script} {' '.join(sys.argv[1:])}`",
        "",
    ]
    return "\n".join(head + lines + [f"<!-- /bench:{key} -->"]) + "\n"


def write_section(path: Path, key: str, text: str) -> None:
    old = path.read_text()
    pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->\n", re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


# ----------------------------------------------------------------------------------------- national
NATIONAL_TARGET_S = 600.0


def run_national(timeout: float) -> list[str]:
    """The national day matched and planned end to end by one process with the trucks model."""
    from harvest.demo.day import build_national_inputs

    folder = WORK / "national"
    paths = build_national_inputs(folder / "input")
    cached = paths.pop("cached")
    date = paths.pop("date")
    out = folder / "trucks"
    cmd = [
        *HARVEST,
        "match",
        "--offers",
        str(paths["offers"]),
        "--demand",
        str(paths["demand"]),
        "--regions",
        str(paths["regions"]),
        "--date",
        date.isoformat(),
        "--out",
        str(out),
        "--quiet",
        "--plan",
        "--freight",
        "trucks",
    ]
    print("  national: harvest match --plan --freight trucks ...", file=sys.stderr, flush=True)
    run = run_measured(cmd, poll=0.2, cwd=ROOT, timeout=timeout)
    lines = [
        f"The national day (`build_national_inputs`, as `harvest demo --size national`; inputs "
        f"{'reused from the cache' if cached else 'built by this run'}), matched and planned by one process with the trucks "
        "model, default parameters and fleets, 2 workers:",
        "",
        "```",
        _command(cmd),
        "```",
        "",
    ]
    if run.timed_out:
        return lines + [f"**Stopped after {timeout:,.0f} s without finishing** (peak RSS of the process tree {run.peak_rss_mb:,.0f} MB): target not met."]
    if run.returncode != 0:
        raise SystemExit(f"harvest match --plan (national) failed (exit {run.returncode}):\n{run.stderr}")
    s = json.loads((out / "summary.json").read_text())
    plan = json.loads((out / "plan" / "summary.json").read_text())
    unserved = pl.read_csv(out / "plan" / "unserved.csv")
    unserved_kg = int(unserved["kg"].sum()) if unserved.height else 0
    f = s["freight"]
    sold = max(1, s["allocated_kg"])
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in s["seconds"].items() if isinstance(v, (int, float)))
    ok = run.seconds <= NATIONAL_TARGET_S
    lines += [
        f"{s['offers']:,} offers, {s['demand_rows']:,} pooled demand rows (no pickup locations: the plan has no last mile), "
        f"{s['allocated_kg']:,} kg sold to {s['regions_served']:,} regions.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| **end to end wall time** (target at most {NATIONAL_TARGET_S / 60:.0f} min) | **{run.seconds:,.0f} s ({run.seconds / 60:.1f} min): "
        f"{'met' if ok else 'not met'}** |",
        f"| CPU s (process tree) | {'-' if run.cpu_seconds is None else f'{run.cpu_seconds:,.0f} ({run.cpu_seconds / run.seconds:.2f} cores busy)'} |",
        f"| peak RSS, process tree / driver (MB) | {run.peak_rss_mb:,.0f} / {run.driver_mb:,.0f} |",
        f"| stages (summary.json `seconds`) | {stages} |",
        f"| published welfare | {_money(s['welfare'])} |",
        f"| realized welfare (after the tours' cost) | {_money(f['realized_welfare'])} |",
        f"| routed / assumed freight | {f['routed_vs_assumed']:.3f} ({_money(_total(f['routed']))} against {_money(_total(f['assumed']))}) |",
        f"| line haul: load factor / vehicles / cost per kg | {plan['legs']['line_haul']['load_factor']:.0%} / "
        f"{plan['legs']['line_haul']['vehicles']:,} / {plan['legs']['line_haul']['cost_per_kg']:.3f} |",
        f"| unserved kg in the plan | {unserved_kg:,} ({unserved_kg / sold:.2%} of sold) |",
        f"| not routable (left out before publishing): offers / orders | {f['not_routable']['offers']:,} / {f['not_routable']['orders']:,} |",
        "",
        "The rounds:",
        "",
        *rounds_table(ModelRun("trucks", cmd, run, s, plan, unserved_kg, 0)),
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--write", type=Path, help="replace the freight section in this Markdown file")
    parser.add_argument("--unseen-seed", type=int, default=11, help="the seed of the unseen day (the demo's is 7)")
    parser.add_argument("--skip-unseen", action="store_true", help="only the demo day")
    parser.add_argument("--national", action="store_true", help="only the national day, end to end (section freight-national)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="national: stop the run after this many seconds")
    args = parser.parse_args()
    started = load()
    if args.national:
        text = section("freight-national", "Freight the trucks achieve: the national day end to end", "freight.py", run_national(args.timeout), started)
        print(text)
        if args.write:
            write_section(args.write, "freight-national", text)
        return
    days = [("demo", 7, False)] + ([] if args.skip_unseen else [(f"seed-{args.unseen_seed}", args.unseen_seed, True)])
    lines = [
        "`harvest match --plan` with `--freight linear` (the old model: freight_per_kg_km x km + handling_per_kg, the linear "
        "relaxation of the per-truck problem) and `--freight trucks` (the default: lanes priced from the fleets, refined over "
        "rounds of match and route; docs/freight.md), one process after the other on the same inputs, the demo's own "
        "parameters (`DEMO_PARAMS`: the safety net on; `DEMO_ROUTE_ITERATIONS`: 300 iterations per routing problem), the "
        "default fleets, 2 workers. **Realized welfare** = kg x (bid - ask) - what the plan's tours cost - handling: what a "
        "day's trade is worth once the trucks are paid (`summary.json` `freight.realized_welfare`, both models). Routed / "
        "assumed is `freight.routed_vs_assumed`: tours plus handling over the lanes' `cost_per_kg` x kg (handling included "
        "on both sides). The plan's own `plan/summary.json` `routed_vs_assumed` divides the tours *without* handling by the "
        "assumed cost *with* it, so it reads lower; it is shown for reference.",
        "",
    ]
    for name, seed, unseen in days:
        day, runs = run_day(name, seed)
        lines += day_lines(day, runs, unseen)
    text = section("freight", "Freight the trucks achieve", "freight.py", lines, started)
    print(text)
    if args.write:
        write_section(args.write, "freight", text)


if __name__ == "__main__":
    main()
