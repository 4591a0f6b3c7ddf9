"""From per-product solutions to the cycle's tables: allocations, offers, demand rows, summary.

Reasons for what did not sell (docs/design.md section 3), per offer and per demand row:

- ``sold`` / ``filled``, ``partly_sold`` / ``partly_filled``: some or all of it cleared;
- ``no_feasible_lane``: no lane exists (product, grade, or the goods cannot arrive in time);
- ``not_profitable``: lanes exist, but on every one the bid does not cover ask plus freight;
- ``outbid``: a profitable lane exists, but the optimum used the counterpart elsewhere at a better margin;
- ``not_ready`` / ``expired`` (offers only): not open on the cycle date, so not in the cycle;
- ``not_routable`` (offers; orders too): with the ``trucks`` freight model, the plan could not collect,
  carry or deliver it, so it was taken out of the match (docs/freight.md).

The safety net's columns of an offer (:mod:`matcher.floor`; empty or 0 for an offer without a floor):
``floor_kg`` (whole kg), ``floor_sold_kg`` (kg sold through the floor), ``floor_met``, ``floor_reason``
(``met``, ``no_feasible_lane``, ``beyond_subsidy_cap``, ``demand_taken``), ``floor_dual`` (the welfare
one more kg of floor would cost, per kg: the cost of that producer's safety net) and ``subsidy`` (money
the platform pays to make the floor's sales happen).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from matcher.bounded import NO_LANE, UNPROFITABLE
from matcher.day import Day
from matcher.floor import FLOOR_REASONS
from matcher.product import ProductSolution

#: how a cycle ended; a solve that cannot prove an optimum raises SolverError instead of returning

#: an offer's ``reason`` (offers_out.csv): the first five by :func:`_reason`'s code, then the offers not open
OFFER_REASONS = ("sold", "partly_sold", "no_feasible_lane", "not_profitable", "outbid", "not_ready", "expired", "not_routable")
#: a demand row's ``reason`` (demand_out.csv), by :func:`_reason`'s code
DEMAND_REASONS = ("filled", "partly_filled", "no_feasible_lane", "not_profitable", "outbid")

ALLOCATION_COLUMNS = (
    "offer_id",
    "cooperative_id",
    "demand_id",
    "region_id",
    "product",
    "quantity_kg",
    "distance_km",
    "transit_days",
    "cost_per_kg",
    "ask_per_kg",
    "price_per_kg",
    "farm_gate_price",
    "clearing_price",
)
OFFER_COLUMNS = (
    "offer_id",
    "cooperative_id",
    "sold_kg",
    "unsold_kg",
    "farm_gate_price",
    "reason",
    "floor_kg",
    "floor_sold_kg",
    "floor_met",
    "floor_reason",
    "floor_dual",
    "subsidy",
)
DEMAND_COLUMNS = ("demand_id", "region_id", "product", "filled_kg", "unmet_kg", "clearing_price", "reason")


@dataclass(frozen=True)
class MatchResult:
    """What a cycle produces (docs/design.md section 3).

    Attributes
    ----------
    allocations
        One row per shipped lane (:data:`ALLOCATION_COLUMNS`).
    offers
        One row per offer (:data:`OFFER_COLUMNS`).
    demand
        One row per demand row (:data:`DEMAND_COLUMNS`).
    summary
        Welfare, kg, counts, lanes, rounds, parameters, seconds per stage, and ``status``: always
        ``"optimal"`` (a solve that cannot prove its optimum raises :class:`SolverError` instead).
    """

    allocations: pl.DataFrame
    offers: pl.DataFrame
    demand: pl.DataFrame
    summary: Mapping[str, Any]
    #: ``offer_id, refund_rate`` of the offers whose expected refunds steered the matching (None: off)
    refund_rate: pl.DataFrame | None = None


@dataclass(frozen=True)
class Tables:
    """The result frames and the summary's counts, before the cycle adds its timings."""

    allocations: pl.DataFrame
    offers: pl.DataFrame
    demand: pl.DataFrame
    counts: Mapping[str, Any]


def assemble(day: Day, solutions: list[ProductSolution], *, scale: int) -> Tables:
    """Build the result frames and the summary's counts from the per-product solutions."""
    n_open, n_rows = day.open_offers.height, day.demand.height
    supply_kg = day.open_offers["quantity_kg"].to_numpy().astype(np.int64)
    demand_kg = day.demand["quantity_kg"].to_numpy().astype(np.int64)
    unsold, unmet = supply_kg.copy(), demand_kg.copy()
    u, w = np.zeros(n_open), np.zeros(n_rows)
    offer_reach = np.full(n_open, NO_LANE, np.int8)
    row_reach = np.full(n_rows, NO_LANE, np.int8)
    floor_kg = np.asarray(day.floor_kg, np.int64)
    floor_sold, subsidy = np.zeros(n_open, np.int64), np.zeros(n_open)
    # an offer whose product has no demand row is in no problem: its floor has no lane
    floor_dual = np.full(n_open, np.nan)
    floor_reason = np.where(floor_kg > 0, FLOOR_REASONS.index("no_feasible_lane"), 0).astype(np.int8)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("offer", "demand", "kg", "km", "days", "cost", "margin")}
    for sol, oa, da in zip(solutions, day.offer_start, day.demand_start, strict=True):
        n, m = len(sol.unsold), len(sol.unmet)
        unsold[oa : oa + n], unmet[da : da + m] = sol.unsold, sol.unmet
        u[oa : oa + n], w[da : da + m] = sol.u, sol.w
        offer_reach[oa : oa + n], row_reach[da : da + m] = sol.offer_reach, sol.row_reach
        if sol.floor is not None:
            f = sol.floor
            floor_sold[oa : oa + n], subsidy[oa : oa + n] = f.floor_sold, f.subsidy
            floor_dual[oa : oa + n], floor_reason[oa : oa + n] = f.dual, f.reason
        lanes = sol.lanes
        for key, values in (
            ("offer", lanes.offer + oa),
            ("demand", lanes.demand + da),
            ("kg", sol.shipped),
            ("km", lanes.distance_km),
            ("days", lanes.transit_days),
            ("cost", lanes.cost_per_kg),
            ("margin", lanes.margin),
        ):
            parts[key].append(values)
    cols = {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}
    # allocations sorted by (offer_id, demand_id): by the ids' ranks, each id list sorted once (strings
    # sort slowly), and every column gathered once, in that order
    offer_order = day.open_offers["offer_id"].arg_sort().to_numpy()
    row_order = day.demand["demand_id"].arg_sort().to_numpy()
    offer_rank, row_rank = np.empty(n_open, np.int64), np.empty(n_rows, np.int64)
    offer_rank[offer_order] = np.arange(n_open)
    row_rank[row_order] = np.arange(n_rows)
    by_id = np.lexsort((row_rank[cols["demand"].astype(np.int64)], offer_rank[cols["offer"].astype(np.int64)]))
    cols = {k: v[by_id] for k, v in cols.items()}
    offer_ix, row_ix = cols["offer"].astype(np.int64), cols["demand"].astype(np.int64)
    kg = cols["kg"].astype(np.int64)

    ask = day.open_offers["ask_per_kg"].to_numpy()
    bid = day.demand["price_per_kg"].to_numpy()
    farm_gate, clearing = ask + u, bid - w

    allocations = pl.DataFrame(
        {
            "offer_id": day.open_offers["offer_id"].gather(offer_ix),
            "cooperative_id": day.open_offers["cooperative_id"].gather(offer_ix),
            "demand_id": day.demand["demand_id"].gather(row_ix),
            "region_id": day.demand["region_id"].gather(row_ix),
            "product": day.open_offers["product"].gather(offer_ix),
            "quantity_kg": kg,
            "distance_km": cols["km"].astype(np.float64),
            "transit_days": cols["days"].astype(np.int64),
            "cost_per_kg": cols["cost"].astype(np.float64),
            "ask_per_kg": ask[offer_ix],
            "price_per_kg": bid[row_ix],
            "farm_gate_price": farm_gate[offer_ix],
            "clearing_price": clearing[row_ix],
        }
    )

    sold = supply_kg - unsold
    offer_reason = _reason(sold, unsold, offer_reach, OFFER_REASONS[:5])
    has_floor = pl.Series(floor_kg > 0)
    open_out = day.open_offers.select("offer_id", "cooperative_id").with_columns(
        sold_kg=pl.Series(sold),
        unsold_kg=pl.Series(unsold),
        farm_gate_price=pl.Series(farm_gate),
        reason=offer_reason,
        floor_kg=pl.Series(floor_kg),
        floor_sold_kg=pl.Series(floor_sold),
        floor_met=pl.when(has_floor).then(pl.Series(floor_sold >= floor_kg)),  # empty without a floor
        floor_reason=pl.when(has_floor).then(pl.Series(FLOOR_REASONS, dtype=pl.String).gather(floor_reason)),
        floor_dual=pl.Series(floor_dual, nan_to_null=True),
        subsidy=pl.Series(subsidy),
    )
    closed = day.offers.filter(~pl.col("_open")).select(
        "offer_id",
        "cooperative_id",
        sold_kg=pl.lit(0, pl.Int64),
        unsold_kg=pl.col("quantity_kg"),
        farm_gate_price=pl.lit(None, pl.Float64),
        reason=pl.when("_not_ready").then(pl.lit("not_ready")).otherwise(pl.lit("expired")),
        floor_kg=pl.lit(0, pl.Int64),
        floor_sold_kg=pl.lit(0, pl.Int64),
        floor_met=pl.lit(None, pl.Boolean),
        floor_reason=pl.lit(None, pl.String),
        floor_dual=pl.lit(None, pl.Float64),
        subsidy=pl.lit(0.0, pl.Float64),
    )
    offers_out = pl.concat([open_out, closed]).sort("offer_id")

    filled = demand_kg - unmet
    row_reason = _reason(filled, unmet, row_reach, DEMAND_REASONS)
    demand_out = day.demand.select("demand_id", "region_id", "product").with_columns(
        filled_kg=pl.Series(filled),
        unmet_kg=pl.Series(unmet),
        clearing_price=pl.Series(clearing),
        reason=row_reason,
    )[row_order]

    welfare = float(np.dot(kg.astype(np.float64), cols["margin"].astype(np.float64)))
    counts: dict[str, Any] = {
        "welfare": welfare,
        "welfare_scaled": sum(s.objective for s in solutions) / scale,
        "allocated_kg": int(kg.sum()),
        "supply_kg": int(supply_kg.sum()),
        "demand_kg": int(demand_kg.sum()),
        "offers": n_open,
        "offers_not_open": day.offers.height - n_open,
        "demand_rows": n_rows,
        "products": len(solutions),
        "lanes": int(sum(s.lanes_solved for s in solutions)),
        "lanes_considered": int(sum(s.lanes_considered for s in solutions)),
        "lanes_shipped": allocations.height,
        "rounds": max((s.rounds for s in solutions), default=0),
        "rounds_total": int(sum(s.rounds for s in solutions)),
        "regions_served": allocations["region_id"].n_unique(),
        "offer_reasons": _counts(offers_out["reason"]),
        "demand_reasons": _counts(demand_out["reason"]),
    }
    return Tables(allocations, offers_out, demand_out, counts)


def _reason(done: np.ndarray, left: np.ndarray, reach: np.ndarray, names: tuple[str, ...]) -> pl.Series:
    """``names[code]``: 0 nothing left, 1 some done, 2 no feasible lane, 3 none profitable, 4 outbid."""
    code = np.select([left == 0, done > 0, reach == NO_LANE, reach == UNPROFITABLE], [0, 1, 2, 3], default=4)
    return pl.Series(names, dtype=pl.String).gather(code)


def _counts(series: pl.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts(sort=True).sort("count", "reason", descending=[True, False]).iter_rows()}
