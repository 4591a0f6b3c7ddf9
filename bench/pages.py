"""The pages on the demo day, run by hand: ``.venv/bin/python bench/pages.py [--write bench/RESULTS.md]``.

What it measures (section ``pages`` of bench/RESULTS.md; the target: every page answers within 300 ms
on the demo day): the demo day (:func:`harvest.demo.day.build_demo_inputs`, about 570 offers and
156,000 household orders in China's 370 cities) is loaded into a fresh database as the browser tests
load it (:func:`tests.browser.live.load_demo_day`: every order belongs to one group leader,
``demo-buyers``, the worst case for that buyer's pages), one cycle of that day is run with its plan
(the linear freight model and 30 routing iterations per problem, as the browser tests run it; the
pages read the same tables whatever the model), buyers file claims on some of their filled orders,
and then every page a role sees is requested through Flask's test client signed in as that role:
one request to warm it, then ``--repeat`` timed requests; the median and the slowest are reported.
SQLite, and PostgreSQL when it answers at ``HARVEST_TEST_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``).

The time is the server's: from the request entering the app to the last byte of the answer, in this
process (no network, no browser rendering).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from freight import load, section, write_section  # noqa: E402
from service_day import _drop_postgres, _fresh_postgres  # noqa: E402

WORK = HERE / "data" / "pages"
TARGET_MS = 300.0
#: claims filed by the demo's buyer before the pages are read
CLAIMS = 40


def build(url: str) -> dict[str, Any]:
    """The demo day in a fresh database at ``url``, its cycle done and planned; what the pages need."""
    from sqlalchemy import func, select

    from api import create_app, jobs
    from api.db import create_key
    from api.models import Allocation, Cycle, OrderFill
    from api.planning import PlanConfig
    from api.worker import Worker
    from harvest.demo.day import build_demo_inputs
    from matcher.params import MatchParams
    from tests.browser.live import load_demo_day, today

    inputs = dict(build_demo_inputs(WORK / "input"))
    keys = load_demo_day(url, inputs)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-pages"})
    db = app.extensions["harvest_db"]
    cycle_id = jobs.enqueue(db, today(), rerun=False, params=MatchParams(freight="linear"))
    started = time.perf_counter()
    Worker(db, plan=PlanConfig(iterations=30)).run_once()
    seconds = time.perf_counter() - started
    with db.session() as session:
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None and cycle.status == "done", cycle.reason if cycle else "no cycle"
        busiest = select(Allocation.cooperative_id, func.count()).where(Allocation.cycle_id == cycle_id).group_by(Allocation.cooperative_id)
        seller = session.execute(busiest.order_by(func.count().desc()).limit(1)).one()
        some = select(OrderFill.order_id).where(OrderFill.cycle_id == cycle_id, OrderFill.filled_kg > 0).order_by(OrderFill.order_id).limit(CLAIMS)
        filled = list(session.scalars(some))
        rows = {
            "allocations": session.scalar(select(func.count()).select_from(Allocation).where(Allocation.cycle_id == cycle_id)),
            "fills": session.scalar(select(func.count()).select_from(OrderFill).where(OrderFill.cycle_id == cycle_id)),
        }
    keys["seller"] = create_key(db, "cooperative", cooperative_id=seller[0], label="bench pages")
    client = app.test_client()
    for order_id in filled:
        answer = client.post(
            "/claims",
            json={"order_id": order_id, "reason": "quality", "kg": 1, "remedy": "refund_only", "evidence": "bench: bruised crates"},
            headers={"Authorization": f"Bearer {keys['buyer']}"},
        )
        assert answer.status_code in (200, 201, 202), answer.get_data(as_text=True)
    return {"app": app, "db": db, "keys": keys, "cycle_id": cycle_id, "seller": seller[0], "order": filled[0], "cycle_seconds": seconds, "rows": rows}


def pages(day: dict[str, Any]) -> dict[str, list[str]]:
    """Each role's pages on this day (the key of ``day['keys']`` it signs in with -> paths)."""
    c = day["cycle_id"]
    return {
        "seller": [
            "/ui/offers",
            "/ui/offers?status=sold",
            "/ui/settlement",
            f"/ui/settlement/{c}",
            "/ui/sales/claims",
            "/ui/scorecard",
        ],
        "buyer": [
            "/ui/orders",
            f"/ui/orders/{day['order']}",
            "/ui/claims",
            "/ui/credit",
            "/ui/settlement",
        ],
        "operator": [
            "/ui/cycles",
            f"/ui/cycles/{c}",
            f"/ui/cycles/{c}/books",
            f"/ui/cycles/{c}/progress.json",
            "/ui/operator/claims",
        ],
        "planner": [
            "/ui/plans",
            f"/ui/plans/{c}/first_mile",
            f"/ui/plans/{c}/line_haul",
            f"/ui/plans/{c}/last_mile",
        ],
    }


def sign_in(client: Any, key: str) -> None:
    import re

    page = client.get("/ui/signin", headers={"Accept-Language": "zh-CN"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token, "the sign-in page has no CSRF token"
    done = client.post("/ui/signin", data={"key": key, "csrf_token": token.group(1)})
    assert done.status_code == 302, done.get_data(as_text=True)


def time_pages(day: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for role, paths in pages(day).items():
        client = day["app"].test_client()
        sign_in(client, day["keys"][role])
        for path in paths:
            first = client.get(path)
            assert first.status_code == 200, f"{path} as {role}: {first.status_code}"
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                answer = client.get(path)
                answer.get_data()
                times.append((time.perf_counter() - t) * 1000)
            rows.append({"role": role, "path": path, "median": statistics.median(times), "max": max(times), "bytes": len(first.get_data())})
    return rows


def table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    names = list(results)
    lines = ["| role | page | " + " | ".join(f"{n}: median / slowest ms" for n in names) + " | size (KB) |", "|---|---|" + "---:|" * (len(names) + 1)]
    for i, row in enumerate(results[names[0]]):
        cells = []
        for n in names:
            r = results[n][i]
            mark = "**" if r["max"] > TARGET_MS else ""
            cells.append(f"{r['median']:.0f} / {mark}{r['max']:.0f}{mark}")
        lines.append(f"| {row['role']} | `{row['path']}` | " + " | ".join(cells) + f" | {row['bytes'] / 1024:,.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--write", type=Path, help="replace the pages section in this Markdown file")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per page (default 7)")
    args = parser.parse_args()
    started = load()
    results: dict[str, list[dict[str, Any]]] = {}
    facts: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        urls = [("SQLite", f"sqlite:///{Path(folder) / 'pages.db'}")]
        pg = _fresh_postgres()
        if pg is not None:
            urls.append(("PostgreSQL", pg))
        try:
            for name, url in urls:
                print(f"  {name}: loading the demo day and running its cycle ...", file=sys.stderr, flush=True)
                day = build(url)
                results[name] = time_pages(day, args.repeat)
                facts[name] = {"cycle_seconds": day["cycle_seconds"], **day["rows"]}
                day["db"].engine.dispose()
        finally:
            if pg is not None:
                _drop_postgres(pg)
    slow = [(n, r) for n, rs in results.items() for r in rs if r["max"] > TARGET_MS]
    first = next(iter(facts.values()))
    lines = [
        f"Every page a role sees on the demo day, as the server answers it (Flask's test client, signed in; one warm-up request, "
        f"then {args.repeat} timed ones). The demo day loaded as the browser tests load it: about 570 offers and 156,000 orders, "
        "all of one group leader (`demo-buyers`: the worst case for a buyer's pages); one cycle run and planned "
        f"({first['allocations']:,} allocations, {first['fills']:,} order fills), then {CLAIMS} claims filed by the buyer. The "
        "cooperative is the one with the most allocations in the cycle. Target: every page within "
        f"{TARGET_MS:.0f} ms (slower ones in bold).",
        "",
        *table(results),
        "",
        "**Every page within the target on every database.**"
        if not slow
        else "Over the target: " + "; ".join(f"{n} `{r['path']}` {r['max']:.0f} ms" for n, r in slow) + ".",
    ]
    text = section("pages", "Pages on the demo day", "pages.py", lines, started)
    print(text)
    if args.write:
        write_section(args.write, "pages", text)


if __name__ == "__main__":
    main()
