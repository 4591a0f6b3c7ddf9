"""harvestmatch benchmarks, run by hand (``make bench`` or ``python bench/run.py NAME``).

- ``lp``: one product, about a million lanes given as a lane table; ``harvest match`` with each exact
  solver against HiGHS (dual simplex and IPM) and PuLP + CBC on the same lanes: wall time, peak RSS,
  welfare agreement.
- ``national``: a national day (200,000 offers, 3,000 regions x 2 price tiers, 300 products), exact
  over all feasible lanes, end to end through the CLI with each solver side by side; then the final
  lane sets re-solved alone.
- ``village``: the demo day, and the demo day with 2,000 offers of 50 kg at one place (a village's
  households), with each solver.
- ``pool``: 10 million orders pooled into China's 370 cities and into its 2,875 counties.
- ``service``: the demo day through the service on SQLite and PostgreSQL: a cycle's seconds by stage.
- ``fairness``: the safety net's price-of-fairness curve on the demo day and the national day for
  ``min_share`` in {0, 0.25, 0.5, 0.75, 1}: welfare given up against floor kg sold, a table and a plot
  (``bench/fairness.png``).
- ``startup``: the whole ``harvest`` process on a tiny day, repeated, and its imports (``bench/startup.py``).
- ``ratios``: ``harvest match`` against every-lane OR-Tools at a national shape and against PuLP + CBC
  on a million dense lanes, whole process against whole process (``bench/ratios.py``).
- ``warm``: a 7-day national sequence, each day cold and warm-started from the day before
  (``bench/warm.py``): solve seconds, welfare, pivots, day-to-day price moves, an unchanged day.
- ``dask``: the national day on the local pool and on a Dask cluster of two local worker processes;
  with ``--million``, a million-offer day (1,000 products): memory of the driver and the workers, and the
  solve stage projected on 8, 32 and 128 workers from the measured per-product times.

Each benchmark prints a Markdown section and, with ``--write FILE``, replaces its section in FILE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from measure import run_measured  # noqa: E402

DATE = dt.date(2026, 11, 23)
HARVEST = [sys.executable, "-m", "harvest"]


def machine() -> str:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def write_instance(
    folder: Path, *, n_offers: int, n_regions: int, n_products: int, seed: int, towns: tuple[int, int] = (30, 300), regions_as: str = "GPKG"
) -> dict[str, Path]:
    from matcher.synthetic import synthetic_day
    from regions.synthetic import grid_regions

    folder.mkdir(parents=True, exist_ok=True)
    regions = grid_regions(n_regions, seed=seed)
    pts = regions.geometry.representative_point()
    lat = np.where(regions["hub_lat"].isna(), pts.y, regions["hub_lat"])
    lon = np.where(regions["hub_lon"].isna(), pts.x, regions["hub_lon"])
    offers, demand = synthetic_day(
        n_offers=n_offers,
        n_products=n_products,
        region_ids=list(regions["region_id"]),
        region_lat=lat,
        region_lon=lon,
        date=DATE,
        seed=seed,
        towns=towns,
        freight_hint=0.0005,
    )
    suffix = {"GPKG": "gpkg", "GeoJSON": "geojson"}[regions_as]
    paths = {"offers": folder / "offers.parquet", "demand": folder / "demand.parquet", "regions": folder / f"regions.{suffix}"}
    offers.write_parquet(paths["offers"])
    demand.write_parquet(paths["demand"])
    regions.to_file(paths["regions"], driver=regions_as)
    return paths


def harvest_cmd(paths: dict[str, Path], out: Path, *extra: str) -> list[str]:
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
        DATE.isoformat(),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    if "lanes" in paths:
        cmd += ["--lanes", str(paths["lanes"])]
    return cmd


# --------------------------------------------------------------------------------------------- lp
def bench_lp(args: argparse.Namespace) -> str:
    from matcher.bounded import nearest_offer_pairs
    from matcher.day import Day
    from matcher.params import MatchParams
    from regions.lanes import lanes_for_pairs

    folder = HERE / "data" / "lp"
    paths = write_instance(folder, n_offers=args.offers, n_regions=3000, n_products=1, seed=11)
    offers = pl.read_parquet(paths["offers"])
    demand = pl.read_parquet(paths["demand"])
    from regions.polygons import read_regions

    hubs = read_regions(paths["regions"]).hubs
    day = Day.build(offers, demand, hubs, None, DATE)
    problem = day.problems[0]
    params = MatchParams()
    # the lane set: every region with its nearest offers, enough pairs for about a million lanes
    k = max(1, round(args.lanes / 2 / 3000))
    o, r = nearest_offer_pairs(problem.supply, problem.hubs, np.unique(problem.demand.region), k)
    lanes = lanes_for_pairs(o, r, problem.supply, problem.demand, problem.hubs, params.costs)
    good = lanes.margin > 0
    table = pl.DataFrame(
        {
            "offer_id": day.open_offers["offer_id"].gather(o),
            "region_id": day.hubs["region_id"].gather(r),
            "distance_km": params.costs.circuity * _hav(problem, o, r),
        }
    )
    paths["lanes"] = folder / "lanes.parquet"
    table.write_parquet(paths["lanes"])
    lp_file = folder / "lp.npz"
    np.savez(
        lp_file,
        lane_offer=lanes.offer[good],
        lane_demand=lanes.demand[good],
        margin=lanes.margin[good],
        supply_kg=problem.supply_kg,
        demand_kg=problem.demand_kg,
    )
    n_lanes = int(good.sum())

    rows = []
    ours = float("nan")
    harvest_seconds = {}
    for solver in ("simplex", "ortools"):
        run = run_measured(harvest_cmd(paths, folder / "out", "--workers", "1", "--solver", solver))
        if run.returncode != 0:
            raise SystemExit(run.stderr)
        summary = json.loads((folder / "out" / "summary.json").read_text())
        if solver == "simplex":
            ours = summary["welfare"]
        solver_s = summary["solver_seconds"]
        harvest_seconds[solver] = run.seconds
        rows.append((f"harvest match --solver {solver} (end to end, CLI)", run.seconds, run.peak_rss_mb, summary["welfare"], "optimal"))
        rows.append((f"  of which the solve ({summary['pivots']:,} pivots) + duals", solver_s["solve"] + solver_s["prices"], None, summary["welfare"], ""))
        rows.append(
            (
                "  of which reading, lanes, outputs",
                summary["seconds"]["read"] + summary["seconds"]["prepare"] + summary["seconds"]["write"],
                None,
                summary["welfare"],
                "",
            )
        )
    results = {}
    for solver in ("highs-simplex", "highs-ipm", "pulp-cbc"):
        m = run_measured([sys.executable, str(HERE / "lp_worker.py"), str(lp_file), solver, str(args.limit)], timeout=args.limit + 600)
        if m.returncode != 0 and not m.timed_out:  # a crash (a missing `bench` extra, say) is not a result
            raise SystemExit(f"{solver} failed (install the bench extra: make bench):\n{m.stderr}")
        # the result is the last line: HiGHS prints a banner on stdout before any option can silence it
        last = m.stdout.strip().splitlines()[-1] if m.stdout.strip() else ""
        r = json.loads(last) if m.returncode == 0 and last.startswith("{") else {"status": "killed", "objective": float("nan"), "optimal": False}
        results[solver] = (m, r)
        rows.append((solver, m.seconds, m.peak_rss_mb, r["objective"], r["status"] + ("" if r["optimal"] else " (not optimal)")))

    lines = [
        f"Instance: 1 product, {offers.height:,} offers, {demand.height:,} demand rows (3,000 regions x 2 tiers), "
        f"{n_lanes:,} profitable lanes given as a lane table (each region's {k} nearest offers). "
        f"Time limit for the LP solvers: {args.limit:.0f} s.",
        "",
        "| solver | wall s | peak RSS MB | welfare | relative gap to harvest | status |",
        "|---|---|---|---|---|---|",
    ]
    for name, sec, rss, welfare, status in rows:
        gap = abs(welfare - ours) / max(1.0, abs(ours)) if welfare == welfare else float("nan")
        lines.append(f"| {name} | {sec:.2f} | {'' if rss is None else f'{rss:,.0f}'} | {welfare:,.2f} | {gap:.1e} | {status} |")
    hs = results["highs-simplex"][0].seconds
    hi = results["highs-ipm"][0].seconds
    pc = results["pulp-cbc"][0].seconds
    ours_s = harvest_seconds["simplex"]
    lines += [
        "",
        f"Speed-up of `harvest match` (simplex) end to end: {hs / ours_s:.0f}x over HiGHS simplex, "
        f"{hi / ours_s:.0f}x over HiGHS IPM, {pc / ours_s:.0f}x over PuLP + CBC (each capped by its time limit "
        f"when it did not finish); {harvest_seconds['ortools'] / ours_s:.1f}x over `--solver ortools`.",
    ]
    return section("lp", f"harvest match vs HiGHS and PuLP+CBC at {n_lanes / 1e6:.1f} million lanes", args, lines)


def _hav(problem, o, r):
    from regions.geodesy import haversine_km

    return haversine_km(problem.supply.lat[o], problem.supply.lon[o], problem.hubs.lat[r], problem.hubs.lon[r])


# --------------------------------------------------------------------------------------- national
def bench_national(args: argparse.Namespace) -> str:
    folder = HERE / "data" / "national"
    t = time.perf_counter()
    paths = write_instance(folder, n_offers=args.offers, n_regions=args.regions, n_products=args.products, seed=5)
    generated = time.perf_counter() - t
    workers = ["--workers", str(args.workers)] if args.workers else []
    runs, summaries = {}, {}
    for solver in ("simplex", "ortools"):
        run = run_measured(harvest_cmd(paths, folder / f"out-{solver}", "--solver", solver, *workers))
        if run.returncode != 0:
            raise SystemExit(run.stderr)
        runs[solver] = run
        summaries[solver] = json.loads((folder / f"out-{solver}" / "summary.json").read_text())
    s = summaries["simplex"]
    resolve = _resolve_final_networks(paths, s["params"])
    lines = [
        f"Instance: {s['offers']:,} open offers ({s['offers_not_open']:,} more not open), {s['demand_rows']:,} demand rows "
        f"({args.regions:,} regions x {args.products} products x 2 tiers), generated in {generated:.0f} s "
        "(`matcher.synthetic`: each product grown around 30 to 300 farm towns, regional bids rising with distance "
        "from them, 1% noise). Both solvers in one run, one after the other.",
        "",
        "| measure | `--solver simplex` | `--solver ortools` |",
        "|---|---|---|",
    ]

    def both(name: str, f) -> str:
        return f"| {name} | {f('simplex')} | {f('ortools')} |"

    lines += [
        both("end to end wall time (`harvest match`)", lambda k: f"{runs[k].seconds:.1f} s ({summaries[k]['workers']} workers)"),
        both("peak RSS, whole process tree", lambda k: f"{runs[k].peak_rss_mb:,.0f} MB"),
        both("status", lambda k: f"{summaries[k]['status']} (exact over all feasible lanes)"),
        both("welfare", lambda k: f"{summaries[k]['welfare']:,.2f}"),
        both("allocated / supply / demand kg", lambda k: f"{summaries[k]['allocated_kg']:,} / {summaries[k]['supply_kg']:,} / {summaries[k]['demand_kg']:,}"),
        both("pricing per product (dense / bounded)", lambda k: f"{summaries[k]['pricing']['dense']} / {summaries[k]['pricing']['bounded']}"),
        both("lanes solved (final networks)", lambda k: f"{summaries[k]['lanes']:,}"),
        both("pricing rounds (max per product / total)", lambda k: f"{summaries[k]['rounds']} / {summaries[k]['rounds_total']:,}"),
        both("simplex pivots", lambda k: f"{summaries[k]['pivots']:,}"),
        both("stages (wall)", lambda k: ", ".join(f"{a} {b:.1f} s" for a, b in summaries[k]["seconds"].items())),
        both(
            "solver stages summed over products (CPU in the workers)", lambda k: ", ".join(f"{a} {b:.1f} s" for a, b in summaries[k]["solver_seconds"].items())
        ),
        "",
        f"The final lane sets of the simplex run, re-solved alone by the simplex from a greedy start in one process: "
        f"{resolve:.1f} s; end to end (2 workers) / that pure solve: {runs['simplex'].seconds / resolve:.2f}.",
    ]
    return section("national", "a national day end to end", args, lines)


def _resolve_final_networks(paths: dict[str, Path], params: dict) -> float:
    """Solve every product's final lane set once more, alone, timing only the simplex (greedy start on
    those lanes, then pivots to the optimum)."""
    from matcher.cycle import cost_scale
    from matcher.day import Day
    from matcher.fanout import solve_products
    from matcher.params import MatchParams
    from matcher.product import SolveOptions
    from matcher.simplex import TransportationSimplex
    from regions.polygons import read_regions

    p = MatchParams.from_mapping(params)
    day = Day.build(pl.read_parquet(paths["offers"]), pl.read_parquet(paths["demand"]), read_regions(paths["regions"]).hubs, None, DATE)
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    options = SolveOptions.of(p, scale=scale, keep_network=True)
    solutions, _ = solve_products(day.problems, options, workers=p.workers)
    total = 0.0
    for problem, sol in zip(day.problems, solutions):
        net = sol.network
        margin = np.rint(net.margin * scale).astype(np.int64)
        t = time.perf_counter()
        TransportationSimplex(problem.supply_kg, problem.demand_kg, net.offer, net.demand, margin).solve()
        total += time.perf_counter() - t
    return total


# --------------------------------------------------------------------------------------- village
def bench_village(args: argparse.Namespace) -> str:
    """The demo day, then the same day with 2,000 offers of 50 kg at one place, with each solver."""
    from harvest.demo.day import build_demo_inputs

    folder = HERE / "data" / "village"
    paths = build_demo_inputs(HERE / "data" / "demo")
    paths.pop("cached")
    date = paths.pop("date")
    offers = pl.read_csv(paths["offers"], infer_schema_length=0)
    first = offers.row(0, named=True)
    village = pl.DataFrame(
        {
            **{k: [v] * 2000 for k, v in first.items()},
            "offer_id": [f"VILLAGE{k:05d}" for k in range(2000)],
            "cooperative_id": [f"household{k:05d}" for k in range(2000)],
            "quantity_kg": ["50"] * 2000,
        }
    ).select(offers.columns)
    folder.mkdir(parents=True, exist_ok=True)
    with_village = folder / "offers_with_village.csv"
    pl.concat([offers, village]).write_csv(with_village)
    lines = [
        f"The demo day ({offers.height:,} offers, orders pooled by the run), and the same day with 2,000 more offers "
        f"of 50 kg each at the place, product, grade, dates and ask of its first offer ({first['product']} at "
        f"{first['lat']}, {first['lon']}). Identical offers are merged before the solve (exact) and the optimum "
        "handed back to them; before that merge a re-run of such a day took 220 s in 57 pricing rounds.",
        "",
        "| day | solver | wall s | solve s | pricing rounds (max / total) | lanes solved | pivots | welfare |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for name, offers_path in (("demo day", paths["offers"]), ("demo day + village", with_village)):
        for solver in ("simplex", "ortools"):
            out = folder / f"out-{solver}"
            cmd = [
                *HARVEST,
                "match",
                "--offers",
                str(offers_path),
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
                "--solver",
                solver,
            ]
            run = run_measured(cmd)
            if run.returncode != 0:
                raise SystemExit(run.stderr)
            s = json.loads((out / "summary.json").read_text())
            lines.append(
                f"| {name} | {solver} | {run.seconds:.1f} | {s['seconds']['solve']:.1f} | {s['rounds']} / {s['rounds_total']} "
                f"| {s['lanes']:,} | {s['pivots']:,} | {s['welfare']:,.2f} |"
            )
    return section("village", "Many identical offers: a village's households on the demo day", args, lines)


# -------------------------------------------------------------------------------------- fairness
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def bench_fairness(args: argparse.Namespace) -> str:
    """The price of fairness as the floor rises: each day solved at every ``min_share``, exactly."""
    from harvest.demo.day import build_demo_inputs

    demo = build_demo_inputs(HERE / "data" / "demo")
    demo.pop("cached")
    date = demo.pop("date")
    days = [
        (
            "demo day",
            [
                *HARVEST,
                "match",
                "--offers",
                str(demo["offers"]),
                "--orders",
                str(demo["orders"]),
                "--products",
                str(demo["products"]),
                "--regions",
                str(demo["regions"]),
                "--date",
                date.isoformat(),
            ],
            HERE / "data" / "fairness-demo",
            "2000",
        )
    ]
    if not args.quick:
        national = write_instance(HERE / "data" / "national", n_offers=args.offers, n_regions=args.regions, n_products=args.products, seed=5)
        cmd = harvest_cmd(national, Path("unused"))
        days.append(("national day", cmd[: cmd.index("--out")], HERE / "data" / "fairness-national", "10000"))
    lines = [
        "Each day solved exactly at each `min_share` (`--small-share`), `--max-subsidy-per-kg 0.5`; small cooperatives by the "
        "`--small-kg` rule (the demo's cooperatives offer about 2,500 kg each, the national day's about 20,000: the rule "
        "is set so that a share of them is small). The price of fairness is the welfare of the same day solved without "
        "floors less the welfare with them; both are exact optima.",
        "",
        "| day | min_share | small coops | floor kg | sold under the floor | short | subsidy | welfare | price of fairness | % | wall s | solve s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    curves: dict[str, list[tuple[float, float]]] = {}
    for name, base, folder, small_kg in days:
        for share in SHARES:
            out = folder / f"share-{share}"
            run = run_measured([*base, "--out", str(out), "--quiet", "--small-share", str(share), "--max-subsidy-per-kg", "0.5", "--small-kg", small_kg])
            if run.returncode != 0:
                raise SystemExit(run.stderr)
            s = json.loads((out / "summary.json").read_text())
            n = s["safety_net"]
            curves.setdefault(name, []).append((n["floor_sold_kg"], n["price_of_fairness"]))
            lines.append(
                f"| {name} | {share} | {n['small_cooperatives']:,} | {n['floor_kg']:,} | {n['floor_sold_kg']:,} | {n['floor_shortfall_kg']:,} "
                f"| {n['subsidy']:,.0f} | {n['welfare']:,.0f} | {n['price_of_fairness']:,.0f} | {n['price_of_fairness_pct']:.2g} "
                f"| {run.seconds:.1f} | {s['seconds']['solve']:.1f} |"
            )
    plot = HERE / "fairness.png"
    _plot_fairness(curves, plot)
    lines += ["", f"![welfare given up against floor kg sold]({plot.name})"]
    return section("fairness", "The price of fairness: the small-producer floor", args, lines)


def _plot_fairness(curves: dict[str, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4), squeeze=False)
    for ax, (name, points) in zip(axes[0], curves.items()):
        kg = [p[0] / 1000 for p in points]
        loss = [p[1] for p in points]
        ax.plot(kg, loss, marker="o")
        for (x, y), share in zip(zip(kg, loss), SHARES):
            ax.annotate(f"{share:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("kg sold under the floor (tonnes)")
        ax.set_ylabel("welfare given up (price of fairness)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    fig.suptitle("Price of fairness by min_share (labels)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------ pool
def bench_pool(args: argparse.Namespace) -> str:
    """Pool 10 million orders into China's 370 cities and into its 2,875 counties."""
    from harvest.demo.china import load_regions, load_towns

    folder = HERE / "data" / "pool"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for level in ("city", "county"):
        files[level] = folder / f"{level}.gpkg"
        if not files[level].exists():
            load_regions(level).to_file(files[level], driver="GPKG")
    orders_file = folder / f"orders-v2-{args.orders}.parquet"
    if not orders_file.exists():
        _orders_frame(load_towns("CN"), args.orders, np.random.default_rng(3)).write_parquet(orders_file)
    lines = [
        f"Orders: {args.orders:,} (Parquet), placed around China's towns by population with a few km of spread; "
        "300 products, a price level per town and product (1 to 20 yuan/kg) with a premium tier, 3 grades, "
        "3 due dates (`bench/run.py: _orders_frame`). Each run in its own process; times in seconds.",
        "",
        "| regions | demand rows | rejected | snapped | read s | validate s | regions s | pool s | total s | wall s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in ("city", "county"):
        m = run_measured([sys.executable, str(HERE / "pool_worker.py"), str(orders_file), str(files[level])])
        if m.returncode != 0:
            raise SystemExit(m.stderr)
        r = json.loads(m.stdout)
        lines.append(
            f"| {r['regions']:,} ({level}) | {r['demand_rows']:,} | {r['rejected']:,} | {r['snapped']:,} | {r['read']:.1f} | "
            f"{r['validate']:.1f} | {r['regions_read']:.1f} | {r['pool']:.1f} | {r['total']:.1f} | {m.seconds:.1f} | {m.peak_rss_mb:,.0f} |"
        )
    return section("pool", f"pooling {args.orders / 1e6:g} million orders", args, lines)


def _orders_frame(towns: pl.DataFrame, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Household orders around towns by population: 300 products, a price level per town and product
    with a premium tier, mostly grade C, 3 delivery days; a few km of spread puts some at sea or over
    a border, so that snapping is exercised."""
    pop = towns["population"].to_numpy().astype(np.float64)
    at = rng.choice(len(pop), n, p=pop / pop.sum())
    product = rng.integers(0, 300, n)
    level = rng.uniform(1, 20, (len(pop), 300))
    price = level[at, product] * np.where(rng.random(n) < 0.3, 1.08, 1.0) + rng.uniform(0, 0.04, n)
    due = np.datetime64(DATE) + rng.integers(1, 4, n).astype("timedelta64[D]")
    return pl.DataFrame(
        {
            "order_id": pl.int_range(0, n, eager=True).cast(pl.String).str.zfill(9),
            "product": pl.Series(product).cast(pl.String).str.zfill(3),
            "min_grade": rng.choice(np.array(["A", "B", "C"]), n, p=[0.05, 0.25, 0.7]),
            "quantity_kg": np.maximum(np.rint(rng.lognormal(np.log(3), 0.8, n)), 1).astype(np.int64),
            "lat": towns["lat"].to_numpy()[at] + rng.normal(0, 0.05, n),
            "lon": towns["lon"].to_numpy()[at] + rng.normal(0, 0.05, n),
            "max_price_per_kg": np.round(price, 2),
            "due_date": pl.Series(due).cast(pl.Date),
        }
    )


def bench_service(args: argparse.Namespace) -> str:
    from service_day import run

    rows = run(HERE / "data")
    stages = ["load", "snapshot", "pool", "prepare", "solve", "assemble", "write", "total", "wall"]
    lines = [
        "The demo day (real geography, about 150,000 orders) loaded into a fresh database, then one cycle run by a",
        "worker in the process. Seconds from the cycle's own summary: `snapshot` reads the database into typed",
        "frames, `write` is the one transaction that commits every result, the offers' remaining kg and the orders'",
        "fills (PostgreSQL: `COPY`; SQLite: one executemany per table), `total` the cycle, `wall` the claim to the",
        "end; `load` is the benchmark's own bulk load of the inputs.",
        "",
        "| database | offers | orders | lanes shipped | " + " | ".join(stages) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(stages),
    ]
    for r in rows:
        cells = [f"{r.get(s + '_seconds', float('nan')):.2f}" for s in stages]
        lines.append(f"| {r['database']} | {r['offers']:,} | {r['orders']:,} | {r['lanes_shipped']:,} | " + " | ".join(cells) + " |")
    return section("service", "A service cycle on the demo day", args, lines)


# ---------------------------------------------------------------------------------------- output
# ------------------------------------------------------------------------------------------- dask


def bench_dask(args: argparse.Namespace) -> str:
    """The national day on the local pool and on a Dask cluster of two local worker processes (same
    bytes, the overhead of Dask); then a million-offer day on the local pool: wall time, peak memory of
    the driver and of the workers, and the solve stage projected on more workers from the measured
    per-product times."""
    import subprocess

    import psutil

    folder = HERE / "data" / "national"
    paths = write_instance(folder, n_offers=args.offers, n_regions=args.regions, n_products=args.products, seed=5)
    local = run_measured(harvest_cmd(paths, folder / "out-local", "--workers", "2"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    procs += [
        subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet)
        for _ in range(2)
    ]
    try:
        from distributed import Client

        time.sleep(2)
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        dask = run_measured(harvest_cmd(paths, folder / "out-dask", "--executor", "dask", "--scheduler", address))
        cluster_rss = sum(psutil.Process(p.pid).memory_info().rss for p in procs if p.poll() is None) / 2**20
    finally:
        for p in procs:
            p.kill()
            p.wait()
    same = all(
        (folder / "out-local" / n).read_bytes() == (folder / "out-dask" / n).read_bytes() for n in ("allocations.csv", "offers_out.csv", "demand_out.csv")
    )
    sl = json.loads((folder / "out-local" / "summary.json").read_text())
    sd = json.loads((folder / "out-dask" / "summary.json").read_text())
    lines = [
        f"National day ({sl['offers']:,} offers, {sl['demand_rows']:,} demand rows, {args.products} products):",
        "",
        "| executor | wall time | solve stage | peak RSS |",
        "|---|---|---|---|",
        f"| local pool, 2 workers | {local.seconds:.1f} s | {sl['seconds']['solve']:.1f} s | {local.peak_rss_mb:,.0f} MB (driver and workers) |",
        f"| Dask, scheduler + 2 worker processes on this machine | {dask.seconds:.1f} s | {sd['seconds']['solve']:.1f} s "
        f"| {dask.peak_rss_mb:,.0f} MB driver, {cluster_rss:,.0f} MB cluster at the end |",
        "",
        f"Outputs byte-identical: {'yes' if same else 'NO'}. Dask's overhead on the solve stage: {sd['seconds']['solve'] - sl['seconds']['solve']:+.1f} s "
        f"({(sd['seconds']['solve'] / sl['seconds']['solve'] - 1) * 100:+.0f}%).",
        "",
    ]
    if args.million:
        big = HERE / "data" / "million"
        t = time.perf_counter()
        bpaths = write_instance(big, n_offers=1_000_000, n_regions=args.regions, n_products=1000, seed=11)
        generated = time.perf_counter() - t
        run = run_measured(harvest_cmd(bpaths, big / "out", "--workers", "2"), poll=0.05)
        if run.returncode:
            raise SystemExit(run.stderr)
        sb = json.loads((big / "out" / "summary.json").read_text())
        per = sorted(sb["product_seconds"].values(), reverse=True)
        serial = sum(v for k, v in sb["seconds"].items() if k not in ("solve", "match", "total"))
        lines += [
            f"A million-offer day ({sb['offers']:,} offers, {sb['demand_rows']:,} demand rows, 1,000 products, {args.regions:,} regions; "
            f"generated in {generated:.0f} s), local pool of 2 workers:",
            "",
            f"- wall time {run.seconds:.0f} s (stages: {', '.join(f'{k} {v:.1f} s' for k, v in sb['seconds'].items())});",
            f"- peak RSS: driver {run.driver_mb:,.0f} MB, largest worker {run.worker_mb:,.0f} MB, whole tree {run.peak_rss_mb:,.0f} MB;",
            f"- per-product solve: sum {sum(per):.0f} s, longest {per[0]:.2f} s, median {per[len(per) // 2]:.2f} s.",
            "",
            "Projected solve stage (longest-first scheduling of the measured per-product times; the longest product is the floor) "
            "and the whole run (plus the stages that do not fan out, measured here):",
            "",
            "| workers | solve stage | whole run |",
            "|---|---|---|",
        ]
        for w in (2, 8, 32, 128):
            span = _makespan(per, w)
            lines.append(f"| {w} | {span:.1f} s | {span + serial:.1f} s |")
        lines += [
            "",
            f"The stages that do not fan out take {serial:.0f} s together "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in sb['seconds'].items() if k not in ('solve', 'match', 'total'))}): "
            "they stop the day scaling first, well before the longest product does.",
        ]
    return section("dask", "the day on a Dask cluster, and a million-offer day", args, lines)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _makespan(seconds: list[float], workers: int) -> float:
    """Longest-first list scheduling of the per-product times on ``workers``."""
    import heapq

    loads = [0.0] * workers
    for t in sorted(seconds, reverse=True):
        heapq.heapreplace(loads, loads[0] + t)
    return max(loads)


def _bench_startup(args: argparse.Namespace) -> str:
    from startup import bench_startup

    return bench_startup(args)


def _bench_ratios(args: argparse.Namespace) -> str:
    from ratios import bench_ratios

    return bench_ratios(args)


def _bench_warm(args: argparse.Namespace) -> str:
    from warm import bench_warm

    return bench_warm(args)


def section(key: str, title: str, args: argparse.Namespace, lines: list[str]) -> str:
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    head = [f"<!-- bench:{key} -->", f"## {title}", "", f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()}.", f"Command: `{command}`", ""]
    return "\n".join(head + lines + [f"<!-- /bench:{key} -->"]) + "\n"


def write_section(path: Path, key: str, text: str) -> None:
    old = path.read_text() if path.exists() else "# Benchmark results\n\nWritten by `bench/run.py`; each section says its machine and command.\n\n"
    pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->\n", re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    names = ["lp", "national", "village", "pool", "service", "fairness", "dask", "startup", "ratios", "warm"]
    # no default list: argparse checks a nargs="*" default against the choices as one value, and refuses it
    parser.add_argument("names", nargs="*", choices=names, help="the benchmarks to run (default: all of them)")
    parser.add_argument("--write", type=Path, help="replace each benchmark's section in this Markdown file")
    parser.add_argument("--offers", type=int, default=None)
    parser.add_argument("--regions", type=int, default=3000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--orders", type=int, default=10_000_000, help="pool: how many orders")
    parser.add_argument("--lanes", type=int, default=1_000_000, help="lp: about how many lanes")
    parser.add_argument("--limit", type=float, default=600.0, help="lp: time limit per LP solver, seconds")
    parser.add_argument("--million", action="store_true", help="dask: also run the million-offer day (long)")
    parser.add_argument("--quick", action="store_true", help="fairness: the demo day only")
    parser.add_argument("--runs", type=int, default=None, help="startup, ratios: counted runs per command (default 10 and 3)")
    parser.add_argument("--before", help="startup: a git revision measured first, in a temporary worktree")
    parser.add_argument("--days", type=int, default=7, help="warm: days in the sequence (an unchanged day follows)")
    args = parser.parse_args()
    for name in args.names or names:
        a = argparse.Namespace(**vars(args))
        if a.offers is None:
            a.offers = 20_000 if name == "lp" else 550 * a.products if name == "warm" else 200_000
        if name == "pool":
            a.orders = args.orders
        if name in ("startup", "ratios") and a.runs is None:
            a.runs = 10 if name == "startup" else 3
        text = {
            "lp": bench_lp,
            "national": bench_national,
            "village": bench_village,
            "pool": bench_pool,
            "service": bench_service,
            "fairness": bench_fairness,
            "dask": bench_dask,
            "startup": _bench_startup,
            "ratios": _bench_ratios,
            "warm": _bench_warm,
        }[name](a)
        print(text)
        if args.write:
            write_section(args.write, name, text)


if __name__ == "__main__":
    main()
