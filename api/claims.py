"""After-sales claims over HTTP: a buyer claims delivered kg of its order, a rule chain decides at
intake, the operator decides the rest, the cooperatives that supplied the order answer.

``POST /claims`` (buyer): ``{"order_id", "kg", "reason", "evidence", "remedy"}`` on one of its own
orders that a current cycle filled; ``GET /claims`` and ``GET /claims/{id}``: a buyer its own claims,
a cooperative those on its sales (its own parts and responses), the operator all;
``POST /claims/{id}/decision`` (operator, rule ``operator``); ``POST /claims/{id}/response`` (the
cooperative, up to 1000 characters); ``POST /claims/{id}/evidence`` (the buyer, while the claim waits:
it replaces the claim's evidence and is noted in its history, rule ``evidence_given``). Every decision
is kept in order, with who made it, when, the rule and a note.

The rules (the claim window, what a claim is worth and against whom, the rule chain at intake, the
operator's transitions) are :mod:`matcher.claims`; the reading and writing :mod:`api.claims_store`;
the bodies :mod:`api.claim_bodies`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from api import idempotency
from api.after_sales import AfterSalesConfig
from api.auth import Caller, requires
from api.bodies import json_object
from api.claim_bodies import CLAIM_EXAMPLE, DECISION_EXAMPLE, EVIDENCE_EXAMPLE, RESPONSE_EXAMPLE, ClaimIn, DecisionIn, EvidenceIn, ResponseIn
from api.claims_store import file_claim, own_claim, record_decision, record_evidence, record_response, visible
from api.db import Database
from api.models import Claim, ClaimDecision, ClaimPart, ClaimResponse, Cycle, Order
from api.requests import iso, own_row, page
from harvestmatch.money import AMOUNT_DECIMALS, decimal_text, price_text
from matcher.claims import Decision, check_decision, check_evidence, decision_bearer

bp = Blueprint("claims", __name__, url_prefix="/claims")


@bp.post("")
@requires("buyer")
def create() -> Response:
    """File a claim; 201 with the claim and its first decision, ``Location: /claims/{id}``."""
    caller: Caller = g.caller
    data = json_object(CLAIM_EXAMPLE)
    earlier = idempotency.replay(caller)  # a retry gets its first answer (whatever its body: the first try was checked)
    if earlier is not None:
        earlier.headers["Location"] = f"/claims/{json.loads(earlier.get_data())['claim_id']}"
        return earlier
    body = ClaimIn.model_validate(data)
    config: AfterSalesConfig = current_app.extensions["harvest_after_sales"]

    def work(session: Session) -> dict[str, Any]:
        order = own_row(session, Order.order_id, body.order_id, owner=Order.buyer_id, mine=caller.buyer_id, lock=True)
        return claim_detail(session, file_claim(session, order, body, config), caller)

    response = idempotency.write(caller, work, status=201)
    response.headers["Location"] = f"/claims/{json.loads(response.get_data())['claim_id']}"
    return response


@bp.get("")
@requires("buyer", "cooperative", "operator")
def list_claims() -> Response:
    """Claims in pages by ``claim_id``: a buyer's own, those on a cooperative's sales, or all (operator).
    Filters ``status``, ``reason``, ``remedy``, ``order_id``; the operator also ``buyer_id`` and
    ``cooperative_id``."""
    caller: Caller = g.caller
    query = visible(select(Claim), caller)
    filters: dict[str, Any] = {"status": Claim.status, "reason": Claim.reason, "remedy": Claim.remedy, "order_id": Claim.order_id}
    if caller.role == "operator":
        filters["buyer_id"] = Claim.buyer_id
        coop = request.args.get("cooperative_id")
        if coop:  # a value with a NUL character matches nothing (as every filter: api.requests.where_args)
            on = select(ClaimPart.claim_id).where(ClaimPart.cooperative_id == coop) if "\x00" not in coop else select(ClaimPart.claim_id).where(false())
            query = query.where(Claim.claim_id.in_(on))
    return page(query, Claim.claim_id, lambda c: claim_json(c, caller), filters=filters)


@bp.get("/<claim_id>")
@requires("buyer", "cooperative", "operator")
def read(claim_id: str) -> Response:
    """One claim with its parts, its decisions in order and the cooperatives' responses."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        claim = own_claim(session, g.caller, claim_id)
        return jsonify(claim_detail(session, claim, g.caller))


@bp.post("/<claim_id>/decision")
@requires("operator")
def decide(claim_id: str) -> Response:
    """The operator's decision on a claim (:func:`matcher.claims.check_decision`); 200 with the claim."""
    caller: Caller = g.caller
    data = json_object(DECISION_EXAMPLE)
    earlier = idempotency.replay(caller)
    if earlier is not None:
        return earlier
    body = DecisionIn.model_validate(data)
    decided = Decision(body.decision, decision_bearer(body.decision, body.bearer), "operator", body.note)

    def work(session: Session) -> dict[str, Any]:
        claim = own_claim(session, caller, claim_id, lock=True)
        check_decision(claim.claim_id, claim.status, body.decision)
        record_decision(session, claim, decided, by="operator", decided_by=caller.owner)
        return claim_detail(session, claim, caller)

    return idempotency.write(caller, work)


@bp.post("/<claim_id>/response")
@requires("cooperative")
def respond(claim_id: str) -> Response:
    """A cooperative's answer to a claim on its sales (``{"text": ...}``, up to 1000 characters); 201
    with the claim."""
    caller: Caller = g.caller
    data = json_object(RESPONSE_EXAMPLE)
    earlier = idempotency.replay(caller)
    if earlier is not None:
        return earlier
    body = ResponseIn.model_validate(data)

    def work(session: Session) -> dict[str, Any]:
        claim = own_claim(session, caller, claim_id, lock=True)
        record_response(session, claim, body.text, cooperative_id=caller.cooperative_id)
        return claim_detail(session, claim, caller)

    return idempotency.write(caller, work, status=201)


@bp.post("/<claim_id>/evidence")
@requires("buyer")
def give_evidence(claim_id: str) -> Response:
    """Evidence for one of your claims while it waits (``needs_evidence``, ``awaiting_return``):
    ``{"evidence": ...}``, up to 500 characters, text or a link. It replaces the claim's evidence and is
    noted in its history (rule ``evidence_given``, by ``buyer``); the claim keeps waiting for the
    operator, and its decision date (which the scores count from) does not move. 200 with the claim."""
    caller: Caller = g.caller
    data = json_object(EVIDENCE_EXAMPLE)
    earlier = idempotency.replay(caller)
    if earlier is not None:
        return earlier
    body = EvidenceIn.model_validate(data)

    def work(session: Session) -> dict[str, Any]:
        claim = own_claim(session, caller, claim_id, lock=True)
        check_evidence(claim.claim_id, claim.status)
        record_evidence(session, claim, body.evidence, decided_by=caller.owner)
        return claim_detail(session, claim, caller)

    return idempotency.write(caller, work)


# ---------------------------------------------------------------------------------------------------
# answers


def claim_json(c: Claim, caller: Caller) -> dict[str, Any]:
    """A claim as lists show it. A cooperative does not see who the buyer is."""
    return {
        "claim_id": c.claim_id,
        "order_id": c.order_id,
        "buyer_id": None if caller.role == "cooperative" else c.buyer_id,
        "product": c.product,
        "kg": c.kg,
        "reason": c.reason,
        "evidence": c.evidence,
        "remedy": c.remedy,
        "value": money(c.value_cents),
        "status": c.status,
        "bearer": c.bearer,
        "rule": c.rule,
        "decided_at": iso(c.decided_at),
        "decided_on": c.decided_on.isoformat(),
        "created_at": iso(c.created_at),
    }


def claim_detail(session: Session, c: Claim, caller: Caller) -> dict[str, Any]:
    """A claim with its parts (a cooperative: its own), its decisions in order, and the responses (a
    cooperative: its own)."""
    mine = caller.cooperative_id if caller.role == "cooperative" else None
    parts_query = (
        select(ClaimPart, Cycle.date)
        .join(Cycle, Cycle.id == ClaimPart.cycle_id)
        .where(ClaimPart.claim_id == c.claim_id)
        .order_by(Cycle.date, ClaimPart.cycle_id, ClaimPart.cooperative_id)
    )
    responses_query = select(ClaimResponse).where(ClaimResponse.claim_id == c.claim_id).order_by(ClaimResponse.seq)
    if mine is not None:
        parts_query = parts_query.where(ClaimPart.cooperative_id == mine)
        responses_query = responses_query.where(ClaimResponse.cooperative_id == mine)
    decisions = session.scalars(select(ClaimDecision).where(ClaimDecision.claim_id == c.claim_id).order_by(ClaimDecision.seq)).all()
    return {
        **claim_json(c, caller),
        "parts": [
            {
                "cycle_id": p.cycle_id,
                "date": date.isoformat(),
                "cooperative_id": p.cooperative_id,
                "kg": p.kg,
                "clearing_price": price_text(p.clearing_price),
                "value": money(p.amount_cents),
            }
            for p, date in session.execute(parts_query).all()
        ],
        "decisions": [
            {
                "seq": d.seq,
                "status": d.status,
                "bearer": d.bearer,
                "rule": d.rule,
                "by": d.by,
                "decided_at": iso(d.decided_at),
                "decided_on": d.decided_on.isoformat(),
                "note": d.note,
                **({"decided_by": d.decided_by} if caller.role == "operator" else {}),
            }
            for d in decisions
        ],
        "responses": [
            {"seq": r.seq, "cooperative_id": r.cooperative_id, "text": r.text, "created_at": iso(r.created_at)} for r in session.scalars(responses_query).all()
        ],
    }


def money(cents: int) -> str:
    """Cents as a decimal string of money (``"12.30"``)."""
    return decimal_text(Decimal(cents).scaleb(-AMOUNT_DECIMALS), AMOUNT_DECIMALS)
