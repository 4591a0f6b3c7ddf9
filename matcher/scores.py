"""Scores: Beta reputations with forgetting, for buyers (credit) and cooperatives (delivered quality).

A score is ``(good + 1) / (good + bad + 2)``: the mean of a Beta(good + 1, bad + 1), 0.5 with no
history. Outcomes are weighed by ``forgetting ** age``, where ``age`` is the number of cycle dates
since the outcome: the distinct dates of the current done cycles after the outcome's date, up to the
latest (the service's clock moves with its cycles, not with the wall clock). ``forgetting`` is the
``[after_sales]`` setting (default 0.9; 1 forgets nothing).

An outcome is dated when it became known: a fill or a delivery at its cycle's date, a decision at the
latest current cycle date when it was made (a claim's ``decided_on``), so that a claim decided late is
not already half forgotten when it counts.

- **Buyer credit.** ``good``: the buyer's orders filled (some kg, in a current cycle) without a bad
  claim, one each, dated by their latest fill; ``bad``: its claims rejected or found unreasonable, one
  each. *Recent rejections* are its bad outcomes whose weight is still above one half (at forgetting
  0.9, until the 7th cycle date after them; at 0.5, until the next; at 1, for ever).
- **Cooperative quality, per product.** ``good``: kg delivered (allocated in a current cycle) without
  an upheld quality claim; ``bad``: kg of upheld quality claims (approved with the cooperative bearing
  them, for ``quality`` or ``short_weight``), from the claims' parts on that cooperative. A pair with
  history has the expected refund rate ``1 - score`` that steers the matching under ``refund_adjust``;
  a pair without history has none (0): a new cooperative is not charged the prior's 50 %.

The arithmetic only: frames in, frames out. The service reads the outcomes from its database
(``api.scores_store``) and shows them (``GET /buyers/me/credit``, ``GET /cooperatives/{id}/scorecard``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

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
#: a buyer's bad outcomes, one per claim rejected or found unreasonable, at its decision's date
DATED_SCHEMA: dict[str, pl.DataType] = {"key": pl.String(), "date": pl.Date()}
#: a buyer's good outcomes counted by date: its orders filled without a bad claim, each at its latest
#: fill's date (the database counts them, so that a group leader with 100,000 orders is one row a date)
COUNTED_SCHEMA: dict[str, pl.DataType] = {"date": pl.Date(), "orders": pl.Int64()}
#: kg a cooperative delivered of a product on a cycle date
DELIVERED_SCHEMA: dict[str, pl.DataType] = {"cooperative_id": pl.String(), "product": pl.String(), "date": pl.Date(), "kg": pl.Int64()}
#: the parts of upheld quality claims on a cooperative: the cycle that delivered them (its date, whether
#: it is current) and the date of the decision
UPHELD_SCHEMA: dict[str, pl.DataType] = {
    "cooperative_id": pl.String(),
    "product": pl.String(),
    "cycle_id": pl.Int64(),
    "date": pl.Date(),
    "current": pl.Int64(),
    "kg": pl.Int64(),
    "decided_on": pl.Date(),
}


class InstantRules(Protocol):
    """The thresholds of instant approval (``api.after_sales.AfterSalesConfig`` carries them)."""

    @property
    def instant_credit(self) -> float: ...
    @property
    def max_instant_rejections(self) -> int: ...


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
    weighed = (
        outcomes.with_columns(_w=weight)
        .group_by("key")
        .agg(
            (pl.col("good") * pl.col("_w")).sum().alias("good"),
            (pl.col("bad") * pl.col("_w")).sum().alias("bad"),
            pl.when((pl.col("bad") > 0) & (pl.col("_w") > RECENT_WEIGHT)).then(pl.col("bad")).otherwise(0.0).sum().alias("recent"),
        )
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


def credit_from(buyer_id: str, filled: pl.DataFrame, bad: pl.DataFrame, dates: list[dt.date], *, forgetting: float) -> Credit:
    """The buyer's credit from its good and bad outcomes (see the module docstring).

    Parameters
    ----------
    buyer_id
        Whose credit it is.
    filled
        :data:`COUNTED_SCHEMA`: its orders filled without a bad claim, counted by their latest fill's date.
    bad
        :data:`DATED_SCHEMA`: its bad claims.
    dates
        The clock, as for :func:`weigh`.
    forgetting
        The weight an outcome keeps per cycle date since it.
    """
    outcomes = (
        pl.concat(
            [
                filled.select(key=pl.lit(""), date="date", good=pl.col("orders").cast(pl.Float64), bad=pl.lit(0.0)),
                bad.with_columns(good=pl.lit(0.0), bad=pl.lit(1.0)),
            ]
        )
        .with_columns(key=pl.lit(buyer_id))
        .cast(OUTCOME_SCHEMA)  # type: ignore[arg-type]
    )
    weighed = weigh(outcomes, dates, forgetting)
    if weighed.height == 0:
        return Credit(buyer_id, 0.0, 0.0, 0.5, 0, dates, outcomes)
    row = weighed.row(0, named=True)
    return Credit(buyer_id, row["good"], row["bad"], row["score"], round(row["recent"]), dates, outcomes)


def instant_allowed(c: Credit, rules: InstantRules) -> bool:
    """Whether the buyer's credit lets a refund-only claim (within the cap) be approved at once."""
    return c.score >= rules.instant_credit and c.recent_rejections < rules.max_instant_rejections


def quality_from(delivered: pl.DataFrame, upheld: pl.DataFrame, *, excluding: int | None = None) -> pl.DataFrame:
    """Delivered kg and upheld quality claims as outcomes keyed ``cooperative_id|product`` (with those
    two columns too; see the module docstring).

    Parameters
    ----------
    delivered
        :data:`DELIVERED_SCHEMA`, from the current done cycles (less ``excluding``).
    upheld
        :data:`UPHELD_SCHEMA`: every upheld quality claim's parts.
    excluding
        A cycle that no longer counts (the one a re-run's snapshot supersedes).
    """
    # an upheld part's kg leave the good kg of its delivery (when that cycle still counts) and are bad
    # from the decision on
    counted = (pl.col("current") == 1) & (pl.col("cycle_id") != (excluding if excluding is not None else -1))
    taken_back = upheld.filter(counted).select("cooperative_id", "product", "date", good=-pl.col("kg").cast(pl.Float64), bad=pl.lit(0.0))
    bad = upheld.select("cooperative_id", "product", pl.col("decided_on").alias("date"), good=pl.lit(0.0), bad=pl.col("kg").cast(pl.Float64))
    good = delivered.select("cooperative_id", "product", "date", good=pl.col("kg").cast(pl.Float64), bad=pl.lit(0.0))
    frame = pl.concat([good, taken_back, bad])
    return frame.with_columns(key=pl.concat_str("cooperative_id", pl.lit("\x00"), "product")).select("cooperative_id", "product", *OUTCOME_SCHEMA)


def refund_rates_from(outcomes: pl.DataFrame, dates: list[dt.date], *, forgetting: float) -> pl.DataFrame:
    """Each (cooperative, product) with history: its expected refund rate ``1 - score``
    (:data:`QUALITY_SCHEMA`, sorted); pairs without history have none.

    Parameters
    ----------
    outcomes
        As :func:`quality_from` gives them.
    dates, forgetting
        As for :func:`weigh`.
    """
    names = outcomes.select("key", "cooperative_id", "product").unique("key")
    weighed = weigh(outcomes.select(list(OUTCOME_SCHEMA)), dates, forgetting)
    return (
        weighed.join(names, on="key", how="left")
        .select("cooperative_id", "product", refund_rate=1.0 - pl.col("score"))
        .cast(QUALITY_SCHEMA)  # type: ignore[arg-type]
        .sort("cooperative_id", "product")
    )


def scorecard(outcomes: pl.DataFrame, dates: list[dt.date], *, forgetting: float) -> list[dict[str, Any]]:
    """One cooperative's delivered quality per product now (good and bad kg, score, expected refund
    rate) and its history, sorted by product.

    Parameters
    ----------
    outcomes
        The cooperative's, as :func:`quality_from` gives them.
    dates, forgetting
        As for :func:`weigh`.
    """
    weighed = weigh(outcomes.select(list(OUTCOME_SCHEMA)), dates, forgetting)
    names = dict(outcomes.select("key", "product").unique("key").iter_rows())
    products = []
    for row in weighed.iter_rows(named=True):
        mine = outcomes.filter(pl.col("key") == row["key"]).select(list(OUTCOME_SCHEMA))
        products.append(
            {
                "product": names[row["key"]],
                "good_kg": row["good"],
                "bad_kg": row["bad"],
                "score": row["score"],
                "refund_rate": 1.0 - row["score"],
                "history": [{"date": h["date"], "good_kg": h["good"], "bad_kg": h["bad"], "score": h["score"]} for h in history(mine, dates, forgetting)],
            }
        )
    products.sort(key=lambda p: p["product"])
    return products


def _ages(outcomes: pl.DataFrame, dates: list[dt.date]) -> pl.Series:
    """Each outcome's age: the cycle dates after its date (up to the last)."""
    clock = pl.Series("clock", dates, dtype=pl.Date())
    at_or_before = clock.search_sorted(outcomes["date"], side="right").cast(pl.Int64)
    return (len(dates) - at_or_before).alias("age")


__all__ = [
    "BAD_STATUSES",
    "COUNTED_SCHEMA",
    "DATED_SCHEMA",
    "DELIVERED_SCHEMA",
    "OUTCOME_SCHEMA",
    "QUALITY_REASONS",
    "QUALITY_SCHEMA",
    "RECENT_WEIGHT",
    "UPHELD_SCHEMA",
    "Credit",
    "InstantRules",
    "credit_from",
    "history",
    "instant_allowed",
    "quality_from",
    "refund_rates_from",
    "scorecard",
    "weigh",
]
