"""The cycle's books: who pays whom, in decimal money, balanced to the cent. Zero commission made visible.

Every shipped kg moves money four ways. With the solver's integer units (``1/S`` currency per kg, ``S``
the cost scale), a lane of offer ``i`` to demand row ``j`` carrying ``x`` kg has the solver's margin
``M`` (an integer), the offer's premium ``u`` and the row's saving ``w`` (integers or half-integers),
and the offer's kept share ``k = 1 - refund_rate`` (1 without expected refunds)::

    the buyer pays          x * p,   p = bid - w / S            (the row's clearing price)
    the cooperative gets    x * f,   f = ask + u / S            (the offer's farm-gate price)
    freight gets            x * c,   c = bid * k - ask - M / S  (the lane's cost at the solver's unit)
    the platform keeps      x * bid * (1 - k)                   (the reserve against expected refunds)
    the platform pays       x * (u + w - M) / S                 (the safety net's subsidy: 0 off a floor)

and ``p - f - c = bid (1 - k) - (u + w - M) / S`` exactly, so the lane balances. Refunds decided in
after-sales move money back to a buyer from whoever bears them: the cooperative, freight, or the
platform's protection fund.

Each party's line is computed from its own definition, in :class:`decimal.Decimal` at full precision
(every amount is a whole multiple of ``1 / (2 S)`` per kg, so nothing is rounded): the buyers' from
clearing prices, the cooperatives' from farm-gate prices, freight's from the lanes, the platform's from
the reserve, the safety net's published subsidies and the fund's payouts. Their sum must be exactly
zero, and the subsidy the lanes imply must equal the one published per offer; anything else raises
:class:`~harvestmatch.errors.SolverError`. Published lines are rounded to the cent (half to even); what
the rounding leaves, at most half a cent per line, is one last ``rounding`` line of the platform's, so
the published books balance to the cent as well.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from typing import Any

import numpy as np
import polars as pl

from harvestmatch.errors import SolverError

#: the settlement's columns: a party, its id, its kg, and its money (net: + received, - paid)
SETTLEMENT_COLUMNS = ("party", "party_id", "kg", "gross", "refunds", "subsidy", "reserve", "net")
PARTIES = ("buyer", "cooperative", "freight", "platform")
CENT = Decimal("0.01")
MONEY = pl.Decimal(38, 2)

#: who may bear a refund
BEARERS = ("cooperative", "freight", "protection_fund")

getcontext().prec = 60  # amounts are integers of up to ~40 digits in units of 1/(2S): exact


def settle(
    allocations: pl.DataFrame,
    offers: pl.DataFrame,
    buyers: pl.DataFrame,
    *,
    scale: int,
    refund_rate: pl.DataFrame | None = None,
    refunds: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The cycle's settlement: one line per party, and its totals.

    Parameters
    ----------
    allocations, offers
        The cycle's ``allocations`` and ``offers_out`` (:mod:`matcher.results`).
    buyers
        ``buyer_id, demand_id, filled_kg``: who bought the kg each demand row filled (an order's buyer,
        or the demand row itself); a buyer pays its row's clearing price.
    scale
        The cycle's cost scale (``summary.json`` ``cost_scale``).
    refund_rate
        ``offer_id, refund_rate`` for the offers whose expected refunds steered the matching.
    refunds
        ``buyer_id, cooperative_id, amount, bearer``: refunds decided in after-sales (``amount`` in
        money, ``bearer`` one of :data:`BEARERS`).

    Returns
    -------
    (polars.DataFrame, dict)
        :data:`SETTLEMENT_COLUMNS` (money as ``Decimal(38, 2)``), sorted by party and id; and the
        totals (strings of decimal money) with ``balanced``.

    Raises
    ------
    SolverError
        The lines do not sum to zero exactly, or the subsidy on the lanes is not the published one.
    """
    s2 = 2 * Decimal(scale)
    a = allocations
    x = a["quantity_kg"].to_numpy().astype(np.int64)
    bid, ask, cost = (a[c].to_numpy().astype(np.float64) for c in ("price_per_kg", "ask_per_kg", "cost_per_kg"))
    rate = np.zeros(a.height)
    if refund_rate is not None and a.height:
        rate = a.select("offer_id").join(refund_rate, on="offer_id", how="left", maintain_order="left")["refund_rate"].fill_null(0.0).to_numpy()
    value = np.where(rate == 0.0, bid, bid * (1.0 - rate))
    m = np.rint(((value - ask) - cost) * scale).astype(np.int64)  # the solver's margins, by its own arithmetic
    u2 = np.rint(2 * scale * (a["farm_gate_price"].to_numpy() - ask)).astype(np.int64)
    w2 = np.rint(2 * scale * (bid - a["clearing_price"].to_numpy())).astype(np.int64)
    gap2 = u2 + w2 - 2 * m  # twice the platform's subsidy per kg, in units: 0 off a floor's lanes
    if np.any(gap2 < 0):
        k = int(np.flatnonzero(gap2 < 0)[0])
        raise SolverError(f"lane {a['offer_id'][k]} -> {a['demand_id'][k]}: prices leave the platform a margin: not a zero-commission optimum")
    xo = x.astype(object)  # exact integer sums, whatever their size
    subsidy_lanes = Decimal(int(np.dot(xo, gap2.astype(object)) if len(x) else 0)) / s2

    # cooperatives: sold kg times farm-gate price, offer by offer (one price per offer)
    per_offer = (
        a.with_columns(_u2=pl.Series(u2))
        .group_by("offer_id", maintain_order=True)
        .agg(pl.col("cooperative_id").first(), pl.col("ask_per_kg").first(), pl.col("quantity_kg").sum(), pl.col("_u2").n_unique().alias("_prices"), pl.col("_u2").first())
    )
    if (per_offer["_prices"] > 1).any():
        raise SolverError("an offer has two farm-gate prices")
    coop: dict[str, list[Decimal]] = {}
    for coop_id, ask_i, kg, u2_i in per_offer.select("cooperative_id", "ask_per_kg", "quantity_kg", "_u2").iter_rows():
        line = coop.setdefault(coop_id, [Decimal(0), Decimal(0)])
        line[0] += kg
        line[1] += kg * (_dec(ask_i) + Decimal(u2_i) / s2)

    # freight: the lanes' value less ask less margin; the reserve: the value buyers keep back
    row_price: dict[str, Decimal] = {}
    gross_value, reserve = Decimal(0), Decimal(0)
    per_row = a.group_by("demand_id", maintain_order=True).agg(
        pl.col("price_per_kg").first(), pl.col("clearing_price").first(), pl.col("clearing_price").n_unique().alias("_prices"),
        pl.col("quantity_kg").sum(),
    )
    if (per_row["_prices"] > 1).any():
        raise SolverError("a demand row has two clearing prices")
    w2_row = np.rint(2 * scale * (per_row["price_per_kg"].to_numpy() - per_row["clearing_price"].to_numpy())).astype(np.int64)
    for (row_id, bid_j, _, _, kg), w in zip(per_row.iter_rows(), w2_row.tolist(), strict=True):
        row_price[row_id] = _dec(bid_j) - Decimal(w) / s2
        gross_value += kg * _dec(bid_j)
    for k in np.flatnonzero(rate > 0).tolist():  # the lanes of offers with expected refunds
        reserve += int(x[k]) * _dec(float(bid[k])) * _dec(float(rate[k]))
    sold_ask = sum((kg * _dec(ask_i) for ask_i, kg in per_offer.select("ask_per_kg", "quantity_kg").iter_rows()), Decimal(0))
    freight_kg = int(x.sum())
    freight = gross_value - reserve - sold_ask - Decimal(int(np.dot(xo, m.astype(object)) if len(x) else 0)) / Decimal(scale)

    published = sum((_subsidy(v, scale) for v in offers["subsidy"].to_list()), Decimal(0))
    if published != subsidy_lanes:
        raise SolverError(f"the lanes' subsidy {subsidy_lanes} is not the published {published}")

    buyer: dict[str, list[Decimal]] = {}
    for b in buyers.filter(pl.col("filled_kg") > 0).iter_rows(named=True):
        if b["demand_id"] not in row_price:
            raise SolverError(f"buyer {b['buyer_id']} was filled from demand row {b['demand_id']}, which shipped nothing")
        line = buyer.setdefault(b["buyer_id"], [Decimal(0), Decimal(0)])
        line[0] += b["filled_kg"]
        line[1] += b["filled_kg"] * row_price[b["demand_id"]]

    back: dict[tuple[str, str], Decimal] = {}
    for r in (refunds.iter_rows(named=True) if refunds is not None else ()):
        if r["bearer"] not in BEARERS:
            raise SolverError(f"a refund's bearer must be one of {', '.join(BEARERS)}, got {r['bearer']!r}")
        amount = _dec(r["amount"])
        back[("buyer", r["buyer_id"])] = back.get(("buyer", r["buyer_id"]), Decimal(0)) + amount
        key = ("cooperative", r["cooperative_id"]) if r["bearer"] == "cooperative" else (r["bearer"], "")
        back[key] = back.get(key, Decimal(0)) + amount

    rows: list[tuple[str, str, int, Decimal, Decimal, Decimal, Decimal, Decimal]] = []
    for bid_id, (kg, paid) in sorted(buyer.items()):
        got = back.get(("buyer", bid_id), Decimal(0))
        rows.append(("buyer", bid_id, int(kg), paid, got, Decimal(0), Decimal(0), got - paid))
    for coop_id, (kg, paid) in sorted(coop.items()):
        charged = back.get(("cooperative", coop_id), Decimal(0))
        rows.append(("cooperative", coop_id, int(kg), paid, charged, Decimal(0), Decimal(0), paid - charged))
    charged = back.get(("freight", ""), Decimal(0))
    rows.append(("freight", "freight", freight_kg, freight, charged, Decimal(0), Decimal(0), freight - charged))
    fund = back.get(("protection_fund", ""), Decimal(0))
    rows.append(("platform", "platform", 0, Decimal(0), fund, published, reserve, reserve - published - fund))
    exact = sum((r[7] for r in rows), Decimal(0))
    if exact != 0:
        raise SolverError(f"the books do not balance: the parties' lines sum to {exact}, not 0")
    rounded = [(party, who, kg, *(_cents(v) for v in money)) for party, who, kg, *money in rows]
    rounding = -sum((_cents(r[7]) for r in rows), Decimal(0))
    rounded.append(("platform", "rounding", 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0), rounding))
    frame = pl.DataFrame(
        rounded, schema={"party": pl.String, "party_id": pl.String, "kg": pl.Int64, "gross": MONEY, "refunds": MONEY,
                         "subsidy": MONEY, "reserve": MONEY, "net": MONEY}, orient="row",
    )
    totals = {
        "buyers_paid": str(_cents(sum((v[1] for v in buyer.values()), Decimal(0)))),
        "cooperatives_received": str(_cents(sum((v[1] for v in coop.values()), Decimal(0)))),
        "freight": str(_cents(freight)),
        "subsidy": str(_cents(published)),
        "reserve": str(_cents(reserve)),
        "refunds": str(_cents(sum((v for (kind, _), v in back.items() if kind == "buyer"), Decimal(0)))),
        "protection_fund": str(_cents(fund)),
        "platform_net": str(_cents(reserve - published - fund)),
        "rounding": str(rounding),
        "balanced": True,
    }
    return frame, totals


def _dec(value: float | str | Decimal) -> Decimal:
    """A price as the decimal it was written as (the shortest text that reads back as the float)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))


def _subsidy(value: float, scale: int) -> Decimal:
    """A published subsidy at the solver's unit (a multiple of 1 / (2 S))."""
    return Decimal(int(np.rint(2 * scale * value))) / (2 * Decimal(scale))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
