"""Delivered quality feeds the matching: expected refunds lower the value of a cooperative's lanes.

A cooperative whose goods of a product are often refunded should not look as cheap to the matching as
one whose goods arrive fine. With ``refund_adjust`` on, an offer of cooperative ``c`` and product ``p``
carries the expected refund rate ``rho_cp`` (the batch job's quality table ``cooperative_id, product,
refund_rate``; the service's scorecards), and a lane's margin becomes::

    M_ij = bid_j * (1 - rho_i) - ask_i - cost_ij

a buyer values a kg at what it keeps after refunds. Still a transportation problem, still exact and
certified (the margins change, nothing else: :attr:`regions.lanes.Supply.keep`). At the optimum a
shipping lane has ``farm_gate_i + cost_ij = clearing_j - rho_i * bid_j``: the cooperative's price
carries its expected refunds, and the platform holds ``rho_i * bid_j`` per kg against them.

The summary's ``quality`` object reports what the adjustment moved: the expected refunds of the chosen
allocation, and the welfare (at the refund-aware margins) of the allocation that ignores them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from matcher.product import ProductSolution

F64 = NDArray[np.float64]


def refund_rates(open_offers: pl.DataFrame, quality: pl.DataFrame | None) -> F64:
    """Each open offer's expected refund rate, in the frame's order: its cooperative's rate for its
    product, 0 where the table has none."""
    if quality is None or open_offers.height == 0:
        return np.zeros(open_offers.height)
    rates = open_offers.select("cooperative_id", "product").join(
        quality.select("cooperative_id", "product", "refund_rate"), on=["cooperative_id", "product"], how="left", maintain_order="left"
    )
    return rates["refund_rate"].fill_null(0.0).to_numpy().astype(np.float64)


def account(on: bool, open_offers: pl.DataFrame, rates: F64, allocations: pl.DataFrame, solutions: list[ProductSolution], welfare: float) -> dict[str, Any]:
    """The summary's ``quality`` object: whether refunds steer the matching, how many offers carry a
    rate, and when they steer: the chosen allocation's expected refunds (``rho * bid * kg``), its
    welfare, and the welfare at the same margins of the optimum that ignores refunds."""
    out: dict[str, Any] = {"refund_adjust": on, "offers_with_refund_rate": int((rates > 0).sum())}
    if not on:
        return out
    rate = pl.DataFrame({"offer_id": open_offers["offer_id"], "_rate": rates})
    shipped = allocations.join(rate, on="offer_id", how="left")
    expected = float((shipped["quantity_kg"] * shipped["price_per_kg"] * shipped["_rate"].fill_null(0.0)).sum())
    ignored = sum(s.welfare_if_quality_ignored if s.welfare_if_quality_ignored is not None else _welfare(s) for s in solutions)
    out.update(expected_refunds=expected, welfare=welfare, welfare_if_quality_ignored=ignored, welfare_moved=welfare - ignored)
    return out


def _welfare(solution: ProductSolution) -> float:
    return float(np.dot(solution.shipped.astype(np.float64), solution.lanes.margin))
