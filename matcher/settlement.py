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
:class:`~harvestmatch.errors.SolverError`. Published amounts are rounded to the cent (half to even);
the nets' leftover cents go one each to the lines rounded furthest the other way (largest remainder),
so the published books balance to the cent too and every net is within a cent of its exact value.

The work is columnar (polars decimals, each distinct price converted once): no Python loop per lane,
offer, row or buyer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import numpy as np
import polars as pl

from harvestmatch.errors import SolverError
from regions.apportion import largest_remainder

#: the settlement's columns: a party, its id, its kg, and its money (net: + received, - paid)
SETTLEMENT_COLUMNS = ("party", "party_id", "kg", "gross", "refunds", "subsidy", "reserve", "net")
PARTIES = ("buyer", "cooperative", "freight", "platform")
CENT = Decimal("0.01")
MONEY = pl.Decimal(38, 2)

#: who may bear a refund
BEARERS = ("cooperative", "freight", "protection_fund")


def settle(
    allocations: pl.DataFrame,
    offers: pl.DataFrame,
    buyers: pl.DataFrame,
    *,
    scale: int,
    refund_rate: pl.DataFrame | None = None,
    refunds: pl.DataFrame | None = None,
    freight_paid: float | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The cycle's settlement: one line per party, and its totals.

    Parameters
    ----------
    allocations, offers
        The cycle's ``allocations`` and ``offers_out`` (:mod:`matcher.results`), as computed (the CSV
        files round prices to six decimals: settle the frames, not the files).
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
    freight_paid
        What the plan's tours cost (with handling), when freight is paid what the trucks cost (the
        ``trucks`` freight model): the freight line gets it, to the cent, and the platform the
        difference from what the lanes' prices collected for freight (``freight_gap``: positive when
        the lanes collected more). ``None``: freight gets what the lanes collected.

    Returns
    -------
    (polars.DataFrame, dict)
        :data:`SETTLEMENT_COLUMNS` (money as ``Decimal(38, 2)``), sorted by party and id; and the
        totals (strings of decimal money), ``cents_allocated`` and ``balanced``.

    Raises
    ------
    SolverError
        A lane's prices pay a cooperative below its ask, charge a buyer above its bid or leave the
        platform a margin; an offer or a demand row has two prices; a buyer was filled from a row that
        shipped nothing; an offer's subsidy on its lanes is not its floor kg sold times its floor's
        dual (so the platform pays no one without a floor); or the lines do not sum to zero exactly.
    """
    with localcontext() as context:
        context.prec = 80  # every amount is exact; Python's sums of them must stay so
        return _settle(allocations, offers, buyers, scale, refund_rate, refunds, freight_paid)


def _settle(
    allocations: pl.DataFrame,
    offers: pl.DataFrame,
    buyers: pl.DataFrame,
    scale: int,
    refund_rate: pl.DataFrame | None,
    refunds: pl.DataFrame | None,
    freight_paid: float | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    unit = Decimal(1) / (2 * Decimal(scale))  # exact: the scale is a power of ten
    lanes = _lanes(allocations, scale, refund_rate)
    for column, what in (
        ("_u2", "pay a cooperative below its ask"),
        ("_w2", "charge a buyer above its bid"),
        ("_gap2", "leave the platform a margin: not a zero-commission optimum"),
    ):
        bad = lanes.filter(pl.col(column) < 0)
        if bad.height:
            raise SolverError(f"lane {bad['offer_id'][0]} -> {bad['demand_id'][0]}: its prices {what}")
    # one pass per key: each offer's (each row's) price must be one, and its lanes' sums
    per_offer = lanes.group_by("offer_id").agg(
        pl.col("_u2").min().alias("_lo"),
        pl.col("_u2").max().alias("_hi"),
        (pl.col("quantity_kg").cast(pl.Int128) * pl.col("_gap2").cast(pl.Int128)).sum().alias("_lanes2"),
    )
    rows = lanes.group_by("demand_id").agg(
        pl.col("_w2").min().alias("_lo"),
        pl.col("_w2").max().alias("_hi"),
        pl.col("_bid").first(),
        pl.col("_w2").first(),
    )
    for what, per in (("an offer", per_offer), ("a demand row", rows)):
        if per.filter(pl.col("_lo") != pl.col("_hi")).height:
            raise SolverError(f"{what} has two prices")
    x = pl.col("quantity_kg").cast(DEC0)
    u = pl.lit(unit, dtype=pl.Decimal(38, -unit.as_tuple().exponent))  # type: ignore[operator]
    lanes = lanes.with_columns(
        _coop=x * pl.col("_ask") + x * pl.col("_u2").cast(DEC0) * u,
        # polars keeps the larger scale of a product's factors: at full scale, bid times rate is exact
        _reserve=x * pl.col("_bid").cast(_FULL) * pl.col("_rate"),
        _value=x * pl.col("_bid"),
        _cost=x * pl.col("_ask") + x * pl.col("_m").cast(DEC0) * u * 2,
    )
    totals_lanes = lanes.select(pl.col("_value", "_reserve", "_cost").sum()).row(0)
    value, reserve, cost = (_py(v) for v in totals_lanes)

    # the safety net: each offer's subsidy on its lanes is its floor kg sold times its floor's dual, exactly
    duals = offers.filter(pl.col("floor_sold_kg") > 0).select(
        "offer_id", (pl.col("floor_sold_kg").cast(pl.Int128) * (pl.col("floor_dual").fill_null(0.0) * 2 * scale).round(0).cast(pl.Int128)).alias("_floor2")
    )
    both = per_offer.select("offer_id", "_lanes2").join(duals, on="offer_id", how="full", coalesce=True).with_columns(pl.col("_lanes2", "_floor2").fill_null(0))
    wrong = both.filter(pl.col("_lanes2") != pl.col("_floor2"))
    if wrong.height:
        raise SolverError(f"offer {wrong['offer_id'][0]}: its lanes' subsidy is not its floor kg sold times its floor's dual")
    published = Decimal(int(both["_floor2"].sum() or 0)) * unit
    collected = value - reserve - cost  # what the lanes' prices leave for freight
    freight = collected if freight_paid is None else Decimal(repr(float(freight_paid))).quantize(CENT, rounding=ROUND_HALF_EVEN)
    gap = collected - freight  # the platform's: 0 when freight gets what the lanes collected

    paid = buyers.filter(pl.col("filled_kg") > 0).join(rows.select("demand_id", "_bid", "_w2"), on="demand_id", how="left")
    if paid["_bid"].null_count():
        stray = paid.filter(pl.col("_bid").is_null()).row(0, named=True)
        raise SolverError(f"buyer {stray['buyer_id']} was filled from demand row {stray['demand_id']}, which shipped nothing")
    fill = pl.col("filled_kg").cast(DEC0)
    buyer = paid.group_by("buyer_id").agg(
        pl.col("filled_kg").sum().alias("kg"), (fill * pl.col("_bid") - fill * pl.col("_w2").cast(DEC0) * u).sum().alias("gross")
    )
    coop = lanes.group_by("cooperative_id").agg(pl.col("quantity_kg").sum().alias("kg"), pl.col("_coop").sum().alias("gross"))

    back = _refunds(refunds)
    buyer = _with_refunds(buyer.rename({"buyer_id": "party_id"}), back.get("buyer"))
    coop = _with_refunds(coop.rename({"cooperative_id": "party_id"}), back.get("cooperative"))
    charged = _sum(back.get("freight"))
    fund = _sum(back.get("protection_fund"))
    zero = Decimal(0)
    fixed = pl.DataFrame(
        [
            ("freight", "freight", int(allocations["quantity_kg"].sum()), freight, charged, zero, zero, freight - charged),
            ("platform", "platform", 0, gap, fund, published, reserve, gap + reserve - published - fund),
        ],
        schema=_EXACT,
        orient="row",
    )
    parts = [
        buyer.select(pl.lit("buyer").alias("party"), "party_id", "kg", "gross", "refunds", *_ZERO, (pl.col("refunds") - pl.col("gross")).alias("net")),
        coop.select(pl.lit("cooperative").alias("party"), "party_id", "kg", "gross", "refunds", *_ZERO, (pl.col("gross") - pl.col("refunds")).alias("net")),
        fixed,
    ]
    # the parts come in party order (buyer, cooperative, freight, platform): sorting each by its ids
    # sorts the whole by (party, party_id), at half the cost of a two-key sort
    exact = pl.concat([part.cast(_EXACT).sort("party_id") for part in parts])
    total = _py(exact["net"].sum())
    if total != 0:
        raise SolverError(f"the books do not balance: the parties' lines sum to {total}, not 0")
    books, moved = _to_the_cent(exact)
    totals = {
        "buyers_paid": str(_cents(_py(buyer["gross"].sum()) if buyer.height else zero)),
        "cooperatives_received": str(_cents(_py(coop["gross"].sum()) if coop.height else zero)),
        "freight": str(_cents(freight)),
        **({} if freight_paid is None else {"freight_collected": str(_cents(collected)), "freight_gap": str(_cents(gap))}),
        "subsidy": str(_cents(published)),
        "reserve": str(_cents(reserve)),
        "refunds": str(_cents(_sum(back.get("buyer")))),
        "protection_fund": str(_cents(fund)),
        "platform_net": str(_cents(gap + reserve - published - fund)),
        "cents_allocated": moved,
        "balanced": True,
    }
    return books, totals


#: whole numbers as decimals; every money column at full precision before rounding to the cent
DEC0 = pl.Decimal(38, 0)
_FULL = pl.Decimal(38, 16)
_EXACT: pl.Schema = pl.Schema(
    {
        "party": pl.String(),
        "party_id": pl.String(),
        "kg": pl.Int64(),
        "gross": _FULL,
        "refunds": _FULL,
        "subsidy": _FULL,
        "reserve": _FULL,
        "net": _FULL,
    }
)
_ZERO = [pl.lit(Decimal(0), dtype=_FULL).alias("subsidy"), pl.lit(Decimal(0), dtype=_FULL).alias("reserve")]

#: the most decimals an input price (bid, ask) or a refund rate carries into the books exactly (more are rounded,
#: the same way for every party: the books stay exact); published prices have fewer (harvestmatch.money)
EXACT_PRICE_DECIMALS, RATE_DECIMALS = 8, 6


def _to_the_cent(exact: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Every amount rounded to the cent (half to even); then the nets, which must sum to zero, made to:
    the cents the rounding left over go one each to the lines rounded the furthest the other way
    (:func:`regions.apportion.largest_remainder`, ties to the earlier line), so every net is within a
    cent of its exact value. Returns the books and how many lines got a cent."""
    books = exact.with_columns(pl.col("gross", "refunds", "subsidy", "reserve").cast(MONEY), _net=pl.col("net").cast(MONEY))
    off = _py(books["_net"].sum())  # a whole number of cents
    cents = int(abs(off) / CENT)
    if cents:
        # each line's exact net less its rounded one, in units of 1e-16 (exact in int64: at most half a cent)
        residual = ((pl.col("net") - pl.col("_net").cast(_FULL)) * 10**_FULL.scale).cast(pl.Int64)
        left = -int(off / CENT)
        moved = largest_remainder(np.zeros(books.height, np.int64), books.select(residual).to_series().to_numpy(), left)
        books = books.with_columns(_net=(pl.col("_net") + pl.Series(moved).cast(DEC0) * pl.lit(CENT, dtype=MONEY)).cast(MONEY))
    books = books.drop("net").rename({"_net": "net"}).select(SETTLEMENT_COLUMNS)
    if _py(books["net"].sum()) != 0:
        raise SolverError("the books do not balance to the cent after rounding")
    return books, cents


def _lanes(allocations: pl.DataFrame, scale: int, refund_rate: pl.DataFrame | None) -> pl.DataFrame:
    """The shipped lanes with the solver's integers (margin ``_m``, twice the premium ``_u2`` and the
    saving ``_w2``, their gap) and the exact decimals of their bid, ask and refund rate."""
    a = allocations.select(
        "offer_id", "cooperative_id", "demand_id", "quantity_kg", "price_per_kg", "ask_per_kg", "cost_per_kg", "farm_gate_price", "clearing_price"
    )
    if refund_rate is not None and a.height:
        a = a.join(refund_rate.select("offer_id", pl.col("refund_rate").alias("_r")), on="offer_id", how="left", maintain_order="left")
        a = a.with_columns(pl.col("_r").fill_null(0.0))
    else:
        a = a.with_columns(_r=pl.lit(0.0))
    bid, ask, cost, rate = (a[c].to_numpy().astype(np.float64) for c in ("price_per_kg", "ask_per_kg", "cost_per_kg", "_r"))
    value = np.where(rate == 0.0, bid, bid * (1.0 - rate))
    m = np.rint(((value - ask) - cost) * scale).astype(np.int64)  # the solver's margins, by its own arithmetic
    u2 = np.rint(2 * scale * (a["farm_gate_price"].to_numpy() - ask)).astype(np.int64)
    w2 = np.rint(2 * scale * (bid - a["clearing_price"].to_numpy())).astype(np.int64)
    return a.with_columns(
        _m=pl.Series(m),
        _u2=pl.Series(u2),
        _w2=pl.Series(w2),
        _gap2=pl.Series(u2 + w2 - 2 * m),
        _bid=_exact(bid, EXACT_PRICE_DECIMALS),
        _ask=_exact(ask, EXACT_PRICE_DECIMALS),
        _rate=_exact(rate, RATE_DECIMALS),
    )


def _exact(values: np.ndarray, places: int) -> pl.Series:
    """Each float as the decimal it was written as (its shortest text), at most ``places`` decimals;
    converted once per distinct value."""
    distinct, inverse = np.unique(values, return_inverse=True)
    q = Decimal(1).scaleb(-places)
    as_text = [str(Decimal(repr(float(v))).quantize(q, rounding=ROUND_HALF_EVEN)) for v in distinct]
    return pl.Series(as_text, dtype=pl.String).cast(pl.Decimal(38, places)).gather(inverse.ravel())


def _refunds(refunds: pl.DataFrame | None) -> dict[str, pl.DataFrame]:
    """Refunds by who gets them (``buyer``) and who bears them: ``party_id, refunds`` per kind."""
    if refunds is None or refunds.height == 0:
        return {}
    wrong = refunds.filter(~pl.col("bearer").is_in(list(BEARERS)))
    if wrong.height:
        raise SolverError(f"a refund's bearer must be one of {', '.join(BEARERS)}, got {wrong['bearer'][0]!r}")
    r = refunds.with_columns(pl.col("amount").cast(pl.String).cast(_FULL))
    out = {"buyer": r.group_by(pl.col("buyer_id").alias("party_id")).agg(pl.col("amount").sum().alias("refunds"))}
    for bearer in BEARERS:
        mine = r.filter(pl.col("bearer") == bearer)
        key = pl.col("cooperative_id") if bearer == "cooperative" else pl.lit(bearer)
        out[bearer] = mine.group_by(key.alias("party_id")).agg(pl.col("amount").sum().alias("refunds"))
    return out


def _with_refunds(lines: pl.DataFrame, refunds: pl.DataFrame | None) -> pl.DataFrame:
    """A party's lines with its refunds (received by a buyer, charged to a cooperative); a party with
    refunds but no sale this cycle (a claim on an earlier cycle's goods) gets a line of its own."""
    lines = lines.with_columns(pl.col("gross").cast(_FULL))
    if refunds is None:
        return lines.with_columns(refunds=pl.lit(Decimal(0), dtype=_FULL))
    joined = lines.join(refunds.with_columns(pl.col("refunds").cast(_FULL)), on="party_id", how="full", coalesce=True)
    return joined.with_columns(pl.col("kg").fill_null(0), pl.col("gross").fill_null(Decimal(0)), pl.col("refunds").fill_null(Decimal(0)))


def _sum(frame: pl.DataFrame | None) -> Decimal:
    return _py(frame["refunds"].sum()) if frame is not None and frame.height else Decimal(0)


def _py(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0) if value is None else Decimal(str(value))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
