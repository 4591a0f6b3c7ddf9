"""After-sales claims: a buyer claims delivered kg of its order, a rule chain decides at intake, the
operator decides the rest, the cooperatives that supplied the order answer.

``POST /claims`` (buyer): ``{"order_id", "kg", "reason", "evidence", "remedy"}`` on one of its own
orders that a current cycle filled, at most ``claim_window_days`` (default 7) after the order's due
date, for at most the kg delivered to it less the kg its earlier claims took (whatever became of
them: a rejected claim is not filed again). The claim's value is its kg at the clearing prices the
order paid: its kg are taken from the order's fills oldest first, after the kg earlier claims took,
each at its cycle's clearing price; the value is rounded to the cent (half to even) once, and its
cents shared among the parts by largest remainder.

**Who it is against.** Each fill's kg came from the allocations of its demand row in its cycle; a
claim's kg on that fill are attributed to those cooperatives pro rata by the kg they shipped to the row
(whole kg, largest remainder, ties by ``cooperative_id``), one part per cycle and cooperative. The
parts are recorded with the claim and are what the cooperative answers to, bears and is scored on.

**The rule chain at intake** (each decision records its rule):

1. ``instant_refund_only``: a ``refund_only`` claim is ``approved`` at once, the protection fund
   bearing it, when the buyer's credit score is at least ``instant_credit`` (0.7), it has fewer than
   ``max_instant_rejections`` (2) recent rejections (:mod:`api.scores`), the claim is worth at most
   ``instant_cap`` (200) and its kg are within what was delivered (always, or it is refused).
2. ``evidence_required``: any other ``refund_only`` claim waits as ``needs_evidence``.
3. ``return_required``: a ``return`` claim waits for the goods as ``awaiting_return``.

**The operator's decisions** (``POST /claims/{id}/decision``, rule ``operator``): a waiting claim
(``needs_evidence``, ``awaiting_return``) may be ``approved`` with a ``bearer`` (``cooperative``: a
proven quality fault; ``freight``: transit damage, lateness; ``protection_fund``), ``rejected`` or sent
back to ``needs_evidence``; an ``approved`` claim may be found ``unreasonable``: the buyer keeps the
refund, the protection fund bears it (never the producer) and it counts against the buyer's credit.
``rejected`` and ``unreasonable`` are final. Every decision is kept in order, with who made it, when,
the rule and a note.

**Evidence later** (``POST /claims/{id}/evidence``, the buyer): while a claim waits, its buyer may give
evidence (it replaces what was given at filing); the history notes it, the operator decides.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import BigInteger, cast, false, func, select
from sqlalchemy.orm import Session

from api import idempotency, scores
from api.after_sales import AfterSalesConfig
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Allocation, Claim, ClaimDecision, ClaimPart, ClaimResponse, Cycle, Order, OrderFill
from api.requests import iso, json_body, new_id, own_row, page
from matcher.schemas import MAX_KG
from matcher.settlement import BEARERS

bp = Blueprint("claims", __name__, url_prefix="/claims")

REASONS = ("quality", "damaged", "short_weight", "late", "not_received")
REMEDIES = ("refund_only", "return")
STATUSES = ("approved", "needs_evidence", "awaiting_return", "rejected", "unreasonable")
DECISIONS = ("approved", "rejected", "needs_evidence", "unreasonable")
RULES = ("instant_refund_only", "evidence_required", "return_required", "operator")
#: what a claim's history may also record: the buyer's evidence given while the claim waits
HISTORY_RULES = (*RULES, "evidence_given")
#: claims that wait for the operator
WAITING = ("needs_evidence", "awaiting_return")
#: claims whose refund the buyer got: the settlement of their cycles carries them
REFUNDED = ("approved", "unreasonable")
#: the fields of a claim's body, of a decision's and of a response's
FIELDS = ("order_id", "kg", "reason", "evidence", "remedy")
DECISION_FIELDS = ("decision", "bearer", "note")
RESPONSE_FIELDS = ("text",)
EVIDENCE_FIELDS = ("evidence",)
MAX_EVIDENCE = 500
MAX_TEXT = 1000
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------------
# resources


@bp.post("")
@requires("buyer")
def create() -> Response:
    """File a claim; 201 with the claim and its first decision, ``Location: /claims/{id}``."""
    caller: Caller = g.caller
    body = _object_body('{"order_id": "ord_...", "kg": 10, "reason": "quality", "remedy": "refund_only"}')
    earlier = _replay_or_check(caller, _claim_problems(body))
    if earlier is not None:
        earlier.headers["Location"] = f"/claims/{json.loads(earlier.get_data())['claim_id']}"
        return earlier
    config: AfterSalesConfig = current_app.extensions["harvest_after_sales"]

    def work(session: Session) -> dict[str, Any]:
        order = own_row(session, Order.order_id, body["order_id"], owner=Order.buyer_id, mine=caller.buyer_id, lock=True)
        return claim_detail(session, _intake(session, order, body, config), caller)

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
    query = _visible(select(Claim), caller)
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
        claim = _own(session, g.caller, claim_id)
        return jsonify(claim_detail(session, claim, g.caller))


@bp.post("/<claim_id>/decision")
@requires("operator")
def decide(claim_id: str) -> Response:
    """The operator's decision on a claim (see the module docstring); 200 with the claim."""
    caller: Caller = g.caller
    body = _object_body('{"decision": "approved", "bearer": "cooperative", "note": "..."}')
    earlier = _replay_or_check(caller, _decision_problems(body))
    if earlier is not None:
        return earlier
    decision: str = body["decision"]
    note = body.get("note")
    bearer = "protection_fund" if decision == "unreasonable" else body.get("bearer")

    def work(session: Session) -> dict[str, Any]:
        claim = _own(session, caller, claim_id, lock=True)
        _check_transition(claim, decision)
        _decide(session, claim, status=decision, bearer=bearer if decision in REFUNDED else None, rule="operator", by="operator",
                decided_by=caller.owner, note=note)
        return claim_detail(session, claim, caller)

    return idempotency.write(caller, work)


@bp.post("/<claim_id>/response")
@requires("cooperative")
def respond(claim_id: str) -> Response:
    """A cooperative's answer to a claim on its sales (``{"text": ...}``, up to 1000 characters); 201
    with the claim."""
    caller: Caller = g.caller
    body = _object_body('{"text": "the lot left the farm graded A; photos at ..."}')
    earlier = _replay_or_check(caller, _unknown(body, RESPONSE_FIELDS) + _text_problems(body, "text", MAX_TEXT, required=True))
    if earlier is not None:
        return earlier

    def work(session: Session) -> dict[str, Any]:
        claim = _own(session, caller, claim_id, lock=True)
        seq = _next_seq(session, ClaimResponse, claim.claim_id)
        session.add(ClaimResponse(claim_id=claim.claim_id, seq=seq, cooperative_id=caller.cooperative_id, text=body["text"],
                                  created_at=dt.datetime.now(dt.UTC)))
        session.flush()
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
    body = _object_body('{"evidence": "photos of the crates at https://..."}')
    earlier = _replay_or_check(caller, _unknown(body, EVIDENCE_FIELDS) + _text_problems(body, "evidence", MAX_EVIDENCE, required=True))
    if earlier is not None:
        return earlier

    def work(session: Session) -> dict[str, Any]:
        claim = _own(session, caller, claim_id, lock=True)
        if claim.status not in WAITING:
            raise ApiError(409, "Conflict", f"claim {claim.claim_id} is {claim.status}: evidence is taken while a claim waits ({', '.join(WAITING)})")
        claim.evidence = body["evidence"]
        session.add(ClaimDecision(claim_id=claim.claim_id, seq=_next_seq(session, ClaimDecision, claim.claim_id), status=claim.status,
                                  bearer=None, rule="evidence_given", by="buyer", decided_by=caller.owner,
                                  decided_at=dt.datetime.now(dt.UTC), decided_on=claim.decided_on, note=body["evidence"]))
        session.flush()
        return claim_detail(session, claim, caller)

    return idempotency.write(caller, work)


def _replay_or_check(caller: Caller, problems: list[dict[str, str]]) -> Response | None:
    """The stored answer to a retry (whatever its body's problems: the first try was checked), else
    None once the body's ``problems`` are none, else 422 listing them."""
    earlier = idempotency.replay(caller)
    if earlier is None and problems:
        raise ApiError(422, "Invalid request body", f"{len(problems)} problem(s)", problems)
    return earlier


# ---------------------------------------------------------------------------------------------------
# intake


def _intake(session: Session, order: Order, body: dict[str, Any], config: AfterSalesConfig) -> Claim:
    """Check the claim against the order's fills and window, split it into parts, decide by the rule
    chain, and add the claim, its parts and its first decision to the session."""
    order_id, kg = order.order_id, _whole_kg(body["kg"])
    assert kg is not None
    fills = session.execute(
        select(OrderFill.cycle_id, OrderFill.demand_id, OrderFill.filled_kg, OrderFill.clearing_price)
        .join(Cycle, Cycle.id == OrderFill.cycle_id)
        .where(OrderFill.order_id == order_id, OrderFill.filled_kg > 0, Cycle.current == 1, Cycle.status == "done")
        .order_by(Cycle.date, Cycle.id)
    ).all()
    if not fills:
        raise _invalid("order_id", f"order {order_id} has no kg delivered by a current cycle: there is nothing to claim")
    closes = order.due_date + dt.timedelta(days=config.claim_window_days)
    today = dt.datetime.now(dt.UTC).date()
    if today > closes:
        raise _invalid("order_id", f"the claim window of order {order_id} closed on {closes}: claims are filed at most "
                                   f"{config.claim_window_days} days after its due date ({order.due_date})")
    delivered = sum(int(f.filled_kg) for f in fills)
    claimed = int(session.scalar(select(cast(func.coalesce(func.sum(Claim.kg), 0), BigInteger)).where(Claim.order_id == order_id)) or 0)
    left = delivered - claimed
    if kg > left:
        raise _invalid("kg", f"at most {left} kg can be claimed on order {order_id}: {delivered} kg were delivered to it and "
                             f"earlier claims took {claimed} kg; got {kg}")

    parts = _parts(session, fills, skip=claimed, kg=kg)
    cents = _cents_shared([p["exact"] for p in parts])
    value = sum(cents)
    now = dt.datetime.now(dt.UTC)
    claim = Claim(claim_id=new_id("clm", now, 0), order_id=order_id, buyer_id=order.buyer_id, product=order.product, kg=kg,
                  reason=body["reason"], evidence=body.get("evidence"), remedy=body["remedy"], value_cents=value, created_at=now,
                  status="", rule="", decided_at=now, decided_on=now.date())
    session.add(claim)
    session.flush()  # the parts' foreign key
    session.add_all([
        ClaimPart(claim_id=claim.claim_id, cycle_id=p["cycle_id"], cooperative_id=p["cooperative_id"], demand_id=p["demand_id"],
                  kg=p["kg"], clearing_price=p["clearing_price"], amount_cents=c)
        for p, c in zip(parts, cents, strict=True)
    ])

    credit = scores.buyer_credit(session, order.buyer_id, config.forgetting)
    worth, cap = Decimal(value) / 100, Decimal(repr(float(config.instant_cap)))
    note = (f"credit score {credit.score:.4f} (instant needs at least {config.instant_credit}), recent rejections "
            f"{credit.recent_rejections} (instant needs fewer than {config.max_instant_rejections}), value {worth:.2f} "
            f"(instant cap {cap:.2f}), {kg} of {left} claimable kg")
    if body["remedy"] == "refund_only" and scores.instant_allowed(credit, config) and worth <= cap:
        status, bearer, rule = "approved", "protection_fund", "instant_refund_only"
    elif body["remedy"] == "refund_only":
        status, bearer, rule = "needs_evidence", None, "evidence_required"
    else:
        status, bearer, rule = "awaiting_return", None, "return_required"
    _decide(session, claim, status=status, bearer=bearer, rule=rule, by="rules", decided_by=None, note=note)
    return claim


def _parts(session: Session, fills: Sequence[Any], *, skip: int, kg: int) -> list[dict[str, Any]]:
    """The claim's kg over the order's fills, oldest first, after the ``skip`` kg earlier claims took;
    each fill's kg shared among the cooperatives that supplied its demand row, pro rata by kg."""
    parts: list[dict[str, Any]] = []
    for f in fills:
        here = min(int(f.filled_kg), skip)
        skip -= here
        take = min(int(f.filled_kg) - here, kg)
        if take <= 0:
            continue
        kg -= take
        supply = session.execute(
            select(Allocation.cooperative_id, cast(func.sum(Allocation.quantity_kg), BigInteger))
            .where(Allocation.cycle_id == f.cycle_id, Allocation.demand_id == f.demand_id)
            .group_by(Allocation.cooperative_id)
        ).all()
        if not supply or f.clearing_price is None:
            raise ApiError(409, "Conflict", f"cycle {f.cycle_id} has no allocations for the demand row that filled this order")
        price = Decimal(repr(float(f.clearing_price)))
        for coop, share in pro_rata(take, [(str(c), int(k)) for c, k in supply]):
            parts.append({"cycle_id": f.cycle_id, "cooperative_id": coop, "demand_id": f.demand_id, "kg": share,
                          "clearing_price": float(f.clearing_price), "exact": share * price})
        if kg == 0:
            break
    return parts


def pro_rata(kg: int, supply: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``kg`` whole kg shared among suppliers in proportion to their kg: floors, then one more kg each to
    the largest remainders (ties by supplier id); suppliers getting 0 kg are left out."""
    total = sum(k for _, k in supply)
    base = {who: kg * k // total for who, k in supply}
    extra = kg - sum(base.values())
    for who, _ in sorted(supply, key=lambda s: (-(kg * s[1] % total), s[0]))[:extra]:
        base[who] += 1
    return [(who, base[who]) for who, _ in sorted(supply) if base[who] > 0]


def _cents_shared(exact: list[Decimal]) -> list[int]:
    """The parts' money in cents: the total rounded to the cent once (half to even), each part its
    cents rounded down, and the cents left over to the largest remainders (in order on ties)."""
    total = int(sum(exact, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_EVEN) * 100)
    floors = [int((e * 100).to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    extra = total - sum(floors)
    ranked = sorted(range(len(exact)), key=lambda k: -(exact[k] * 100 - floors[k]))
    for k in ranked[:extra]:
        floors[k] += 1
    return floors


def _decide(session: Session, claim: Claim, *, status: str, bearer: str | None, rule: str, by: str, decided_by: str | None,
            note: str | None) -> None:
    """Record a decision: the claim's state, and one more entry in its history."""
    now = dt.datetime.now(dt.UTC)
    on = scores.today_on(session)
    claim.status, claim.bearer, claim.rule, claim.decided_at, claim.decided_on = status, bearer, rule, now, on
    session.add(ClaimDecision(claim_id=claim.claim_id, seq=_next_seq(session, ClaimDecision, claim.claim_id), status=status, bearer=bearer,
                              rule=rule, by=by, decided_by=decided_by, decided_at=now, decided_on=on, note=note))
    session.flush()


def _check_transition(claim: Claim, decision: str) -> None:
    """409 unless the operator may make this decision on the claim as it stands."""
    if claim.status in ("rejected", "unreasonable"):
        raise ApiError(409, "Conflict", f"claim {claim.claim_id} is {claim.status}: that decision is final")
    if decision == "unreasonable" and claim.status != "approved":
        raise ApiError(409, "Conflict", f"claim {claim.claim_id} is {claim.status}: only an approved refund can be found unreasonable")
    if decision != "unreasonable" and claim.status == "approved":
        raise ApiError(409, "Conflict", f"claim {claim.claim_id} is approved (its refund is paid): it can only be found unreasonable")


def _next_seq(session: Session, model: Any, claim_id: str) -> int:
    return int(session.scalar(select(func.coalesce(func.max(model.seq), 0)).where(model.claim_id == claim_id)) or 0) + 1


# ---------------------------------------------------------------------------------------------------
# who sees what


def _visible(query: Any, caller: Caller) -> Any:
    """A buyer's own claims, the claims on a cooperative's sales (a part names it), or all."""
    if caller.role == "buyer":
        return query.where(Claim.buyer_id == caller.buyer_id)
    if caller.role == "cooperative":
        return query.where(Claim.claim_id.in_(select(ClaimPart.claim_id).where(ClaimPart.cooperative_id == caller.cooperative_id)))
    return query


def _own(session: Session, caller: Caller, claim_id: str, *, lock: bool = False) -> Claim:
    """The claim if the caller may see it, else 404 (another's claim is not found, as another's order)."""
    if "\x00" in claim_id or len(claim_id) > 64:
        raise ApiError(404, "Not Found", "no such claim")
    query = _visible(select(Claim).where(Claim.claim_id == claim_id), caller)
    if lock:
        query = query.with_for_update()
    claim = session.scalars(query).first()
    if claim is None:
        raise ApiError(404, "Not Found", f"no claim {claim_id}")
    return claim


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
        select(ClaimPart, Cycle.date).join(Cycle, Cycle.id == ClaimPart.cycle_id).where(ClaimPart.claim_id == c.claim_id)
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
            {"cycle_id": p.cycle_id, "date": date.isoformat(), "cooperative_id": p.cooperative_id, "kg": p.kg,
             "clearing_price": p.clearing_price, "value": money(p.amount_cents)}
            for p, date in session.execute(parts_query).all()
        ],
        "decisions": [
            {"seq": d.seq, "status": d.status, "bearer": d.bearer, "rule": d.rule, "by": d.by, "decided_at": iso(d.decided_at),
             "decided_on": d.decided_on.isoformat(), "note": d.note,
             **({"decided_by": d.decided_by} if caller.role == "operator" else {})}
            for d in decisions
        ],
        "responses": [
            {"seq": r.seq, "cooperative_id": r.cooperative_id, "text": r.text, "created_at": iso(r.created_at)}
            for r in session.scalars(responses_query).all()
        ],
    }


def money(cents: int) -> str:
    """Cents as a decimal string of money (``"12.30"``)."""
    return str((Decimal(cents) / 100).quantize(CENT))


# ---------------------------------------------------------------------------------------------------
# bodies


def _object_body(example: str) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError(415, "Unsupported Media Type", "send application/json")
    body = json_body()  # 400 for malformed JSON, 422 for duplicate keys
    if not isinstance(body, dict):
        raise ApiError(422, "Invalid request body", f"expected an object such as {example}")
    return body


def _claim_problems(body: dict[str, Any]) -> list[dict[str, str]]:
    """One entry per unknown field and per missing or bad field, naming it."""
    problems = _unknown(body, FIELDS)
    order_id = body.get("order_id")
    if not (isinstance(order_id, str) and 1 <= len(order_id) <= 64 and "\x00" not in order_id and order_id.strip() == order_id
            and not _lone_surrogate(order_id)):
        problems.append({"path": "order_id", "message": f"expected the id of one of your orders (1 to 64 characters), got {_got(body, 'order_id')}"})
    if _whole_kg(body.get("kg")) is None:
        problems.append({"path": "kg", "message": f"expected whole kg from 1 to {MAX_KG - 1:,}, got {_got(body, 'kg')}"})
    for name, allowed in (("reason", REASONS), ("remedy", REMEDIES)):
        if body.get(name) not in allowed:
            problems.append({"path": name, "message": f"expected one of {', '.join(allowed)}, got {_got(body, name)}"})
    problems += _text_problems(body, "evidence", MAX_EVIDENCE, required=False)
    return problems


def _decision_problems(body: dict[str, Any]) -> list[dict[str, str]]:
    problems = _unknown(body, DECISION_FIELDS)
    decision = body.get("decision")
    if decision not in DECISIONS:
        problems.append({"path": "decision", "message": f"expected one of {', '.join(DECISIONS)}, got {_got(body, 'decision')}"})
    bearer = body.get("bearer")
    if decision == "approved" and bearer not in BEARERS:
        problems.append({"path": "bearer", "message": f"an approval names who bears the refund: one of {', '.join(BEARERS)}, got {_got(body, 'bearer')}"})
    elif decision in DECISIONS and decision != "approved" and bearer is not None:
        why = "an unreasonable refund is always borne by the protection fund" if decision == "unreasonable" else "only an approval has a bearer"
        problems.append({"path": "bearer", "message": f"{why}; leave bearer out, got {_got(body, 'bearer')}"})
    problems += _text_problems(body, "note", MAX_TEXT, required=False)
    return problems


def _unknown(body: dict[str, Any], known: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"path": name, "message": f"unknown field {_shown(name)} (allowed: {', '.join(known)})"} for name in list(body)[:10] if name not in known]


def _text_problems(body: dict[str, Any], name: str, most: int, *, required: bool) -> list[dict[str, str]]:
    value = body.get(name)
    if value is None and not required:
        return []
    if not (isinstance(value, str) and value.strip() and len(value) <= most and "\x00" not in value and not _lone_surrogate(value)):
        what = "a link or a text" if name == "evidence" else "a text"
        return [{"path": name, "message": f"expected {what} of 1 to {most} characters, got {_got(body, name)}"}]
    return []


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _whole_kg(value: Any) -> int | None:
    """Whole kg from 1 to below MAX_KG (a whole float such as ``10.0`` counts, as in offers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        value = int(value)
    return value if 1 <= value < MAX_KG else None


def _got(body: dict[str, Any], name: str) -> str:
    return "nothing (the field is missing)" if name not in body else _shown(body[name])


def _shown(value: Any) -> str:
    """A JSON value as a message shows it: at most 80 characters."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _invalid(path: str, message: str) -> ApiError:
    return ApiError(422, "Invalid claim", message, [{"path": path, "message": message}])
