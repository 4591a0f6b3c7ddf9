"""Scores over HTTP: ``GET /buyers/me/credit`` (buyer) and ``GET /cooperatives/{id}/scorecard`` (the
cooperative itself, the operator) show a buyer's credit and a cooperative's delivered quality per
product with their history: per cycle date, the weighed good, bad and the score then.

The arithmetic (Beta reputations with forgetting) is :mod:`matcher.scores`; what it reads is
:mod:`api.scores_store`.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify

from api.after_sales import AfterSalesConfig
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.scores_store import buyer_credit, clock, quality_outcomes
from harvestmatch.kinds import MAX_ID_CHARS
from harvestmatch.money import amount_text
from matcher.scores import history, instant_allowed
from matcher.scores import scorecard as scorecard_of

bp = Blueprint("scores", __name__)


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
    return jsonify(
        {
            "buyer_id": c.buyer_id,
            "as_of": c.dates[-1].isoformat() if c.dates else None,
            "forgetting": config.forgetting,
            "good": c.good,
            "bad": c.bad,
            "score": c.score,
            "recent_rejections": c.recent_rejections,
            "instant_refund_only": instant_allowed(c, config),
            "instant_credit": config.instant_credit,
            "instant_cap": amount_text(config.instant_cap),
            "max_instant_rejections": config.max_instant_rejections,
            "history": history(c.outcomes, c.dates, config.forgetting),
        }
    )


@bp.get("/cooperatives/<cooperative_id>/scorecard")
@requires("cooperative", "operator")
def scorecard(cooperative_id: str) -> Response:
    """A cooperative's delivered quality per product now, its expected refund rate, and its history."""
    caller: Caller = g.caller
    if (caller.role == "cooperative" and cooperative_id != caller.cooperative_id) or "\x00" in cooperative_id or len(cooperative_id) > MAX_ID_CHARS:
        raise ApiError(404, "Not Found", f"no cooperative {cooperative_id}")
    config: AfterSalesConfig = current_app.extensions["harvest_after_sales"]
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        outcomes = quality_outcomes(session, cooperative_id=cooperative_id)
        dates = clock(session)
    return jsonify(
        {
            "cooperative_id": cooperative_id,
            "as_of": dates[-1].isoformat() if dates else None,
            "forgetting": config.forgetting,
            "products": scorecard_of(outcomes, dates, forgetting=config.forgetting),
        }
    )
