"""What a command loads: a tiny day's ``harvest match`` and ``harvest --help`` leave the heavy packages
they do not use unloaded (the start-up's time is measured by ``bench/run.py startup``, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: the packages none of these commands needs on a tiny day with demand rows and GeoJSON regions
UNUSED = ("pandas", "geopandas", "pyogrio", "pyproj", "pyarrow", "ortools", "flask", "sqlalchemy", "matplotlib")


def _loaded(argv: list[str]) -> set[str]:
    """The top-level packages loaded after running ``harvest`` with ``argv`` in a fresh interpreter."""
    code = (
        "import sys, json\n"
        "from harvest.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def tiny_day(tmp_path: Path) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from startup import write_tiny_day
    finally:
        sys.path.remove(str(ROOT / "bench"))
    paths = write_tiny_day(tmp_path)
    day = ["--offers", str(paths["offers"]), "--demand", str(paths["demand"]), "--regions", str(paths["regions"]), "--date", "2026-11-23"]
    return [*day, "--out", str(tmp_path / "out"), "--quiet"]


def test_help_loads_no_solver_and_no_geography() -> None:
    loaded = _loaded(["--help"])
    assert loaded.isdisjoint({*UNUSED, "numba", "scipy", "pyvrp", "shapely"}), loaded & {*UNUSED, "numba", "scipy", "pyvrp", "shapely"}


def test_a_tiny_linear_match_runs_its_kernels_interpreted_and_loads_no_compiler(tiny_day: list[str]) -> None:
    """A tiny day's kernel calls are small: they run interpreted, and numba (with the scipy it loads) stays
    out of the process (harvestmatch.kernels)."""
    loaded = _loaded(["match", *tiny_day, "--freight", "linear"])
    assert loaded.isdisjoint({*UNUSED, "pyvrp", "numba", "scipy", "llvmlite"}), loaded & {*UNUSED, "pyvrp", "numba", "scipy", "llvmlite"}
    assert {"polars", "shapely"} <= loaded  # the test would pass vacuously if the run had failed early


def test_a_tiny_trucks_match_loads_the_router_but_not_the_rest(tiny_day: list[str]) -> None:
    loaded = _loaded(["match", *tiny_day])
    assert loaded.isdisjoint({*UNUSED, "numba"}), loaded & {*UNUSED, "numba"}
    assert "pyvrp" in loaded
