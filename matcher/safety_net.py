"""The safety net's policy: which cooperatives are small, each offer's floor kg, and the cycle's account.

Who is small: the ``cooperatives`` table (``cooperative_id, small``) when one is given; a cooperative it
does not list, or every cooperative when none is given, by the rule *small when its open offers in the
cycle total at most* ``small_kg``. A small cooperative's open offer gets the floor
``floor(min_share * quantity_kg)`` whole kg (:mod:`matcher.floor` solves it); everyone else 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from matcher.product import ProductSolution

I64 = NDArray[np.int64]


@dataclass(frozen=True)
class FloorPolicy:
    """The policy's parameters (:class:`matcher.params.MatchParams`) and the cooperatives table, if any."""

    min_share: float
    max_subsidy_per_kg: float
    small_kg: float
    cooperatives: pl.DataFrame | None = None  # cooperative_id, small (Boolean)

    @property
    def on(self) -> bool:
        return self.min_share > 0


def small_cooperatives(open_offers: pl.DataFrame, policy: FloorPolicy) -> pl.DataFrame:
    """``cooperative_id, small, rule`` for every cooperative with an open offer, in id order; ``rule``
    says what decided (``table`` or ``small_kg``)."""
    kg = open_offers.group_by("cooperative_id").agg(pl.col("quantity_kg").sum().alias("_kg")).sort("cooperative_id")
    by_rule = pl.col("_kg") <= policy.small_kg
    if policy.cooperatives is None:
        return kg.select("cooperative_id", small=by_rule, rule=pl.lit("small_kg"))
    table = policy.cooperatives.select("cooperative_id", pl.col("small").alias("_listed"))
    return kg.join(table, on="cooperative_id", how="left").select(
        "cooperative_id",
        small=pl.coalesce("_listed", by_rule),
        rule=pl.when(pl.col("_listed").is_null()).then(pl.lit("small_kg")).otherwise(pl.lit("table")),
    )


def floor_kg(open_offers: pl.DataFrame, policy: FloorPolicy) -> I64:
    """Each open offer's floor in whole kg, in the frame's order: ``floor(min_share * quantity_kg)``
    for a small cooperative's offer, else 0."""
    if not policy.on or open_offers.height == 0:
        return np.zeros(open_offers.height, np.int64)
    small = small_cooperatives(open_offers, policy).filter("small").get_column("cooperative_id")
    is_small = open_offers["cooperative_id"].is_in(small.implode()).to_numpy()
    kg = open_offers["quantity_kg"].to_numpy().astype(np.int64)
    # whole kg of the share as written (0.29 of 100,000,000 kg is 29,000,000, which floating point would
    # shave to 28,999,999): the share as a decimal fraction, the product in exact integers
    numerator, exponent = _fraction(policy.min_share)
    share = (kg.astype(object) * numerator // 10**exponent).astype(np.int64)
    return np.where(is_small, np.minimum(share, kg), 0)


def _fraction(share: float) -> tuple[int, int]:
    """``share`` as ``numerator / 10**exponent``, from the shortest text that reads back as it."""
    digits = Decimal(repr(share)).as_tuple()
    numerator = int("".join(map(str, digits.digits)) or "0")
    exponent = -int(digits.exponent)
    return (numerator, exponent) if exponent >= 0 else (numerator * 10**-exponent, 0)


def account(policy: FloorPolicy, open_offers: pl.DataFrame, offers_out: pl.DataFrame, solutions: list[ProductSolution], scale: int) -> dict[str, Any]:
    """The summary's ``safety_net`` object: the policy, the floors (from ``offers_out``) and their cost,
    exact from the solves.

    ``price_of_fairness`` is the welfare without floors less the welfare with them (both exact optima);
    ``price_of_fairness_pct`` is that as a percentage of the welfare without floors.
    """
    with_floor = sum(s.objective for s in solutions)
    without = sum(s.objective if s.floor is None else s.floor.objective_without_floor for s in solutions)
    floors = offers_out.filter(pl.col("floor_kg") > 0)
    floor, sold = int(floors["floor_kg"].sum()), int(floors["floor_sold_kg"].sum())
    reasons = floors["floor_reason"].value_counts().sort("floor_reason")
    small = small_cooperatives(open_offers, policy) if policy.on else None
    loss = (without - with_floor) / scale
    return {
        "min_share": policy.min_share,
        "max_subsidy_per_kg": policy.max_subsidy_per_kg,
        "small_kg": policy.small_kg,
        "small_cooperatives": 0 if small is None else int(small["small"].sum()),
        "small_by": "none" if small is None else ("table" if policy.cooperatives is not None else "small_kg"),
        "floor_offers": floors.height,
        "floor_kg": floor,
        "floor_sold_kg": sold,
        "floor_shortfall_kg": floor - sold,
        "floors_met": int(floors["floor_met"].sum()),
        "shortfall_reasons": {str(k): int(v) for k, v in reasons.iter_rows() if k != "met"},
        "subsidy": round(float(floors["subsidy"].sum()), 6),
        "subsidised_kg": int(floors.filter(pl.col("subsidy") > 0)["floor_sold_kg"].sum()),
        "welfare": with_floor / scale,
        "welfare_without_floor": without / scale,
        "price_of_fairness": loss,
        # a share of a positive welfare only; none when the day without floors makes none
        "price_of_fairness_pct": 100.0 * loss / (without / scale) if without > 0 else (0.0 if loss == 0 else None),
    }
