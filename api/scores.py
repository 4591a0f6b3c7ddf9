"""Scores: Beta reputations with forgetting, for buyers (credit) and cooperatives (delivered quality).

A score is ``(good + 1) / (good + bad + 2)``: the mean of a Beta(good + 1, bad + 1), 0.5 with no
history. Outcomes are weighed by ``forgetting ** age``, where ``age`` is the number of cycle dates
since the outcome: the distinct dates of the current done cycles after the outcome's date, up to the
latest (the service's clock moves with its cycles, not with the wall clock). ``forgetting`` is the
``[after_sales]`` setting (default 0.9; 1 forgets nothing).

An outcome is dated when it became known: a fill or a delivery at its cycle's date, a decision at the
latest current cycle date when it was made (``claims.decided_on``), so that a claim decided late is not
already half forgotten when it counts.

- **Buyer credit.** ``good``: the buyer's orders filled (some kg, in a current cycle) without a bad
  claim, one each, dated by their latest fill; ``bad``: its claims rejected or found unreasonable, one
  each. *Recent rejections* are its bad outcomes whose weight is still above one half (at forgetting
  0.9, until the 7th cycle date after them; at 0.5, until the next; at 1, for ever).
- **Cooperative quality, per product.** ``good``: kg delivered (allocated in a current cycle) without
  an upheld quality claim; ``bad``: kg of upheld quality claims (approved with the cooperative bearing
  them, for ``quality`` or ``short_weight``), from the claims' parts on that cooperative. A pair with
  history has the expected refund rate ``1 - score`` that steers the matching under ``refund_adjust``;
  a pair without history has none (0): a new cooperative is not charged the prior's 50 %.

``GET /buyers/me/credit`` (buyer) and ``GET /cooperatives/{id}/scorecard`` (the cooperative itself, the
operator) show them with their history: per cycle date, the weighed good, bad and the score then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify
from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from api.after_sales import AfterSalesConfig
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Allocation, Claim, ClaimPart, Cycle, OrderFill

bp = Blueprint("scores", __name__)

#: claim statuses that count against a buyer's credit
BAD_STATUSES = ("rejected", "unreasonable")
#: claim reasons that, upheld against the cooperative, count against its delivered quality
QUALITY_REASONS = ("quality", "short_weight")
#: a bad outcome is recent while its weight is above this
RECENT_WEIGHT = 0.5

#: outcomes as the scores read them: who (``key``), when, and how much good and bad
OUTCOME_SCHEMA: dict[str, pl.DataType] = {"key": pl.String(), "date": pl.Date(), "good": pl.Float64(), "bad": pl.Float64()}
#: the quality table the matching reads (matcher.schemas.QUALITY)
QUALITY_SCHEMA: dict[str, pl.DataType] = {"cooperative_id": pl.String(), "product": pl.String(), "refund_rate": pl.Float64()}

_DELIVERED_SCHEMA: dict[str, pl.DataType] = {"cooperative_id": pl.String(), "product": pl.String(), "date": pl.Date(), "kg": pl.Int64()}
_UPHELD_SCHEMA: dict[str, pl.DataType] = {
    "cooperative_id": pl.String(), "product": pl.String(), "cycle_id": pl.Int64(), "date": pl.Date(), "current": pl.Int64(),
    "kg": pl.Int64(), "decided_on": pl.Date(),
}


# ---------------------------------------------------------------------------------------------------
# the arithmetic (pure)


def weigh(outcomes: pl.DataFrame, dates: list[dt.date], forgetting: float) -> pl.DataFrame:
    """Each key's weighed ``good`` and ``bad`` as of the last of ``dates``, its ``score``, and its
    ``recent`` bad outcomes (those whose weight is above one half, counted).

    Parameters
    ----------
    outcomes
        :data:`OUTCOME_SCHEMA`: one row per outcome (or per sum of outcomes of one key and date).
    dates
        The clock: the distinct current cycle dates, ascending.
    forgetting
        The weight an outcome keeps per cycle date since it.
    """
    ages = _ages(outcomes, dates)
    weight = pl.lit(forgetting, pl.Float64).pow(ages.cast(pl.Float64))
    weighed = outcomes.with_columns(_w=weight).group_by("key").agg(
        (pl.col("good") * pl.col("_w")).sum().alias("good"),
        (pl.col("bad") * pl.col("_w")).sum().alias("bad"),
        pl.when((pl.col("bad") > 0) & (pl.col("_w") > RECENT_WEIGHT)).then(pl.col("bad")).otherwise(0.0).sum().alias("recent"),
    )
    return weighed.with_columns(score=(pl.col("good") + 1) / (pl.col("good") + pl.col("bad") + 2)).sort("key")


def history(outcomes: pl.DataFrame, dates: list[dt.date], forgetting: float) -> list[dict[str, Any]]:
    """One key's weighed good, bad and score as of each cycle date, from the first with an outcome.

    Outcomes dated before every cycle date count from the first (they have aged since).
    """
    k = len(dates)
    index = (k - _ages(outcomes, dates)).alias("index")
    per = outcomes.with_columns(index).group_by("index").agg(pl.col("good").sum(), pl.col("bad").sum())
    at = {int(i): (float(gd), float(bd)) for i, gd, bd in per.iter_rows()}
    good, bad = at.get(0, (0.0, 0.0))
    out: list[dict[str, Any]] = []
    for i in range(1, k + 1):
        add = at.get(i, (0.0, 0.0))
        good, bad = forgetting * good + add[0], forgetting * bad + add[1]
        if out or good or bad or i in at:
            out.append({"date": dates[i - 1].isoformat(), "good": good, "bad": bad, "score": (good + 1) / (good + bad + 2)})
    return out


def _ages(outcomes: pl.DataFrame, dates: list[dt.date]) -> pl.Series:
    """Each outcome's age: the cycle dates after its date (up to the last)."""
    clock = pl.Series("clock", dates, dtype=pl.Date())
    at_or_before = clock.search_sorted(outcomes["date"], side="right").cast(pl.Int64)
    return (len(dates) - at_or_before).alias("age")


# ---------------------------------------------------------------------------------------------------
# reading the outcomes


def clock(session: Session, *, excluding: int | None = None) -> list[dt.date]:
    """The distinct dates of the current done cycles, ascending (a re-run's snapshot leaves out the
    cycle it supersedes)."""
    query = select(Cycle.date).where(Cycle.current == 1, Cycle.status == "done").distinct()
    if excluding is not None:
        query = query.where(Cycle.id != excluding)
    return sorted(session.scalars(query))


def today_on(session: Session) -> dt.date:
    """The service's clock now: the latest current cycle date (today, UTC, before any cycle)."""
    dates = clock(session)
    return dates[-1] if dates else dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Credit:
    """A buyer's credit now: weighed good and bad, the score, recent rejections; with its outcomes and
    the clock, for the history."""

    buyer_id: str
    good: float
    bad: float
    score: float
    recent_rejections: int
    dates: list[dt.date]
    outcomes: pl.DataFrame


def buyer_credit(session: Session, buyer_id: str, forgetting: float) -> Credit:
    """The buyer's credit (see the module docstring)."""
    from api.db import read_frame

    bad_orders = select(Claim.order_id).where(Claim.buyer_id == buyer_id, Claim.status.in_(BAD_STATUSES))
    filled = read_frame(
        session,
        select(OrderFill.order_id.label("key"), func.max(Cycle.date).label("date"))
        .join(Cycle, Cycle.id == OrderFill.cycle_id)
        .where(OrderFill.buyer_id == buyer_id, OrderFill.filled_kg > 0, Cycle.current == 1, Cycle.status == "done",
               OrderFill.order_id.not_in(bad_orders))
        .group_by(OrderFill.order_id),
        {"key": pl.String(), "date": pl.Date()},
    )
    bad = read_frame(session, select(Claim.claim_id.label("key"), Claim.decided_on.label("date"))
                     .where(Claim.buyer_id == buyer_id, Claim.status.in_(BAD_STATUSES)), {"key": pl.String(), "date": pl.Date()})
    outcomes = pl.concat([
        filled.with_columns(good=pl.lit(1.0), bad=pl.lit(0.0)),
        bad.with_columns(good=pl.lit(0.0), bad=pl.lit(1.0)),
    ]).with_columns(key=pl.lit(buyer_id)).cast(OUTCOME_SCHEMA)  # type: ignore[arg-type]
    dates = clock(session)
    weighed = weigh(outcomes, dates, forgetting)
    if weighed.height == 0:
        return Credit(buyer_id, 0.0, 0.0, 0.5, 0, dates, outcomes)
    row = weighed.row(0, named=True)
    return Credit(buyer_id, row["good"], row["bad"], row["score"], round(row["recent"]), dates, outcomes)


def quality_outcomes(session: Session, *, cooperative_id: str | None = None, excluding: int | None = None) -> pl.DataFrame:
    """Delivered kg and upheld quality claims as outcomes keyed ``cooperative_id|product`` (with those
    two columns too), for one cooperative or all (see the module docstring)."""
    from api.db import read_frame

    current = (Cycle.current == 1) & (Cycle.status == "done")
    if excluding is not None:
        current = current & (Cycle.id != excluding)
    delivered_query = (
        select(Allocation.cooperative_id, Allocation.product, Cycle.date, cast(func.sum(Allocation.quantity_kg), BigInteger).label("kg"))
        .join(Cycle, Cycle.id == Allocation.cycle_id)
        .where(current)
        .group_by(Allocation.cooperative_id, Allocation.product, Cycle.date)
    )
    upheld_query = (
        select(ClaimPart.cooperative_id, Claim.product, ClaimPart.cycle_id, Cycle.date, Cycle.current, ClaimPart.kg, Claim.decided_on)
        .join(Claim, Claim.claim_id == ClaimPart.claim_id)
        .join(Cycle, Cycle.id == ClaimPart.cycle_id)
        .where(Claim.status == "approved", Claim.bearer == "cooperative", Claim.reason.in_(QUALITY_REASONS))
    )
    if cooperative_id is not None:
        delivered_query = delivered_query.where(Allocation.cooperative_id == cooperative_id)
        upheld_query = upheld_query.where(ClaimPart.cooperative_id == cooperative_id)
    delivered = read_frame(session, delivered_query, _DELIVERED_SCHEMA)
    upheld = read_frame(session, upheld_query, _UPHELD_SCHEMA)
    # an upheld part's kg leave the good kg of its delivery (when that cycle still counts) and are bad
    # from the decision on
    counted = (pl.col("current") == 1) & (pl.col("cycle_id") != (excluding if excluding is not None else -1))
    taken_back = upheld.filter(counted).select("cooperative_id", "product", "date", good=-pl.col("kg").cast(pl.Float64), bad=pl.lit(0.0))
    bad = upheld.select("cooperative_id", "product", pl.col("decided_on").alias("date"), good=pl.lit(0.0), bad=pl.col("kg").cast(pl.Float64))
    good = delivered.select("cooperative_id", "product", "date", good=pl.col("kg").cast(pl.Float64), bad=pl.lit(0.0))
    frame = pl.concat([good, taken_back, bad])
    return frame.with_columns(key=pl.concat_str("cooperative_id", pl.lit("\x00"), "product")).select(
        "cooperative_id", "product", *OUTCOME_SCHEMA
    )


def refund_rates(session: Session, forgetting: float, *, excluding: int | None = None) -> pl.DataFrame:
    """Each (cooperative, product) with history: its expected refund rate ``1 - score``
    (:data:`QUALITY_SCHEMA`, sorted), for a cycle's snapshot; pairs without history have none."""
    outcomes = quality_outcomes(session, excluding=excluding)
    names = outcomes.select("key", "cooperative_id", "product").unique("key")
    weighed = weigh(outcomes.select(list(OUTCOME_SCHEMA)), clock(session, excluding=excluding), forgetting)
    return (
        weighed.join(names, on="key", how="left")
        .select("cooperative_id", "product", refund_rate=1.0 - pl.col("score"))
        .cast(QUALITY_SCHEMA)  # type: ignore[arg-type]
        .sort("cooperative_id", "product")
    )


# ---------------------------------------------------------------------------------------------------
# the resources


@bp.get("/buyers/me/credit")
@requires("buyer")
def credit() -> Response:
    """The calling buyer's credit now, what it means for instant refunds, and its history."""
    caller: Caller = g.caller
    assert caller.buyer_id is not None
    config: AfterSalesConfig = current_app.extensions["harvest_after_sales"]
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        c = buyer_credit(session, caller.buyer_id, config.forgetting)
    return jsonify({
        "buyer_id": c.buyer_id,
        "as_of": c.dates[-1].isoformat() if c.dates else None,
        "forgetting": config.forgetting,
        "good": c.good,
        "bad": c.bad,
        "score": c.score,
        "recent_rejections": c.recent_rejections,
        "instant_refund_only": instant_allowed(c, config),
        "instant_credit": config.instant_credit,
        "instant_cap": f"{config.instant_cap:.2f}",
        "max_instant_rejections": config.max_instant_rejections,
        "history": history(c.outcomes, c.dates, config.forgetting),
    })


def instant_allowed(c: Credit, config: AfterSalesConfig) -> bool:
    """Whether the buyer's credit lets a refund-only claim (within the cap) be approved at once."""
    return c.score >= config.instant_credit and c.recent_rejections < config.max_instant_rejections


@bp.get("/cooperatives/<cooperative_id>/scorecard")
@requires("cooperative", "operator")
def scorecard(cooperative_id: str) -> Response:
    """A cooperative's delivered quality per product now, its expected refund rate, and its history."""
    caller: Caller = g.caller
    if (caller.role == "cooperative" and cooperative_id != caller.cooperative_id) or "\x00" in cooperative_id or len(cooperative_id) > 64:
        raise ApiError(404, "Not Found", f"no cooperative {cooperative_id}")
    config: AfterSalesConfig = current_app.extensions["harvest_after_sales"]
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        outcomes = quality_outcomes(session, cooperative_id=cooperative_id)
        dates = clock(session)
    weighed = weigh(outcomes.select(list(OUTCOME_SCHEMA)), dates, config.forgetting)
    names = dict(outcomes.select("key", "product").unique("key").iter_rows())
    products = []
    for row in weighed.iter_rows(named=True):
        mine = outcomes.filter(pl.col("key") == row["key"]).select(list(OUTCOME_SCHEMA))
        products.append({
            "product": names[row["key"]], "good_kg": row["good"], "bad_kg": row["bad"], "score": row["score"],
            "refund_rate": 1.0 - row["score"],
            "history": [{"date": h["date"], "good_kg": h["good"], "bad_kg": h["bad"], "score": h["score"]}
                        for h in history(mine, dates, config.forgetting)],
        })
    products.sort(key=lambda p: p["product"])
    return jsonify({"cooperative_id": cooperative_id, "as_of": dates[-1].isoformat() if dates else None, "forgetting": config.forgetting,
                    "products": products})
