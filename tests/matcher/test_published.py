"""The published files alone certify the optimum (docs/design.md section 4).

Prices are published to six places, each within 5e-7 of the solver's exact price (its integers of
``1/scale`` per kg); so on every shipped lane ``f + c - p`` read from allocations.csv, offers_out.csv
and demand_out.csv is 0, and on every other feasible lane at least 0, to within three roundings:
1.5e-6 per kg. The check reads the files' text as decimals (no float arithmetic).
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given

from harvestmatch.money import price_text
from matcher import MatchParams, match
from matcher.io import write_outputs
from tests.frames import DATE, hubs_frame
from tests.matcher.test_oracle import build, instances
from tests.reference import reference_lanes

#: three roundings of at most half a unit of the sixth place
TOL = Decimal("1.5e-6")
FILES = ("allocations.csv", "offers_out.csv", "demand_out.csv")


@given(instance=instances())
def test_published_prices_certify_random_days(instance: dict) -> None:
    _check_published(instance)


@given(instance=instances(adversarial=True))
def test_published_prices_certify_adversarial_days(instance: dict) -> None:
    _check_published(instance)


def _check_published(instance: dict) -> None:
    offers, demand = build(instance)
    p = instance["params"]
    result = match(offers, demand, hubs_frame(instance["hubs"]), date=DATE, params=MatchParams(workers=1, **p), dense=not instance["bounded"])
    files = _published({"allocations.csv": result.allocations, "offers_out.csv": result.offers, "demand_out.csv": result.demand})
    out, rows = files["offers_out.csv"], files["demand_out.csv"]
    f = {k: Decimal(v) for k, v in zip(out["offer_id"], out["farm_gate_price"]) if v is not None}
    price = {k: Decimal(v) for k, v in zip(rows["demand_id"], rows["clearing_price"])}

    shipped = set()
    for a in files["allocations.csv"].iter_rows(named=True):
        key = (a["offer_id"], a["demand_id"])
        shipped.add(key)
        # an allocation repeats its offer's and its row's published prices
        assert (Decimal(a["farm_gate_price"]), Decimal(a["clearing_price"])) == (f[key[0]], price[key[1]]), key
        gap = Decimal(a["farm_gate_price"]) + Decimal(a["cost_per_kg"]) - Decimal(a["clearing_price"])
        assert abs(gap) <= TOL, f"shipped lane {key}: f + c - p = {gap} from the published files"

    lane_args = {k: p[k] for k in ("freight_per_kg_km", "handling_per_kg", "km_per_day")}
    oid, did = offers["offer_id"].to_list(), demand["demand_id"].to_list()
    for lane in reference_lanes(offers, demand, instance["hubs"], DATE, **lane_args):
        key = (oid[lane.offer], did[lane.row])
        if key in shipped:
            continue
        cost = Decimal(price_text(lane.cost_per_kg))  # type: ignore[arg-type]  # as allocations.csv would publish it
        gap = f[key[0]] + cost - price[key[1]]
        assert gap >= -TOL, f"lane {key} not shipped: f + c - p = {gap} from the published files"


def _published(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The tables as the batch writes them, read back as text."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        write_outputs(out, tables, dict)
        return {name: pl.read_csv(out / name, infer_schema=False) for name in FILES}
