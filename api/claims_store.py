"""What the claims read and write: an order's fills and the allocations that supplied them, the claim,
its parts and its history, and who may see which claim. The rules themselves are
:mod:`matcher.claims`; the views are :mod:`api.claims`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from api.after_sales import AfterSalesConfig
from api.auth import Caller
from api.claim_bodies import ClaimIn
from api.errors import ApiError
from api.models import Allocation, Claim, ClaimDecision, ClaimPart, ClaimResponse, Cycle, Order, OrderFill
from api.requests import new_id
from api.scores_store import buyer_credit, today_on
from matcher.claims import Decision, Fill, cents_shared, check_claimable, claim_parts, intake_decision


def file_claim(session: Session, order: Order, body: ClaimIn, config: AfterSalesConfig) -> Claim:
    """Check the claim against the order's fills and window, split it into parts, decide by the rule
    chain (:mod:`matcher.claims`), and add the claim, its parts and its first decision to the session."""
    order_id, kg = order.order_id, body.kg
    fills = order_fills(session, order_id)
    delivered = sum(f.filled_kg for f in fills)
    claimed = int(session.scalar(select(cast(func.coalesce(func.sum(Claim.kg), 0), BigInteger)).where(Claim.order_id == order_id)) or 0)
    left = check_claimable(
        order_id, kg, due=order.due_date, today=dt.datetime.now(dt.UTC).date(), window_days=config.claim_window_days, delivered=delivered, claimed=claimed
    )
    parts = claim_parts(fills, _supply(session, fills), skip=claimed, kg=kg)
    cents = cents_shared([p.exact for p in parts])
    value = sum(cents)
    now = dt.datetime.now(dt.UTC)
    claim = Claim(
        claim_id=new_id("clm", now, 0),
        order_id=order_id,
        buyer_id=order.buyer_id,
        product=order.product,
        kg=kg,
        reason=body.reason,
        evidence=body.evidence,
        remedy=body.remedy,
        value_cents=value,
        created_at=now,
        status="",
        rule="",
        decided_at=now,
        decided_on=now.date(),
    )
    session.add(claim)
    session.flush()  # the parts' foreign key
    session.add_all(
        [
            ClaimPart(
                claim_id=claim.claim_id,
                cycle_id=p.cycle_id,
                cooperative_id=p.cooperative_id,
                demand_id=p.demand_id,
                kg=p.kg,
                clearing_price=p.clearing_price,
                amount_cents=c,
            )
            for p, c in zip(parts, cents, strict=True)
        ]
    )
    credit = buyer_credit(session, order.buyer_id, config.forgetting)
    decided = intake_decision(body.remedy, credit, value_cents=value, kg=kg, claimable=left, rules=config)
    record_decision(session, claim, decided, by="rules", decided_by=None)
    return claim


def order_fills(session: Session, order_id: str) -> list[Fill]:
    """The order's fills (some kg) by current done cycles, oldest first."""
    rows = session.execute(
        select(OrderFill.cycle_id, OrderFill.demand_id, OrderFill.filled_kg, OrderFill.clearing_price)
        .join(Cycle, Cycle.id == OrderFill.cycle_id)
        .where(OrderFill.order_id == order_id, OrderFill.filled_kg > 0, Cycle.current == 1, Cycle.status == "done")
        .order_by(Cycle.date, Cycle.id)
    ).all()
    return [Fill(int(r.cycle_id), str(r.demand_id), int(r.filled_kg), r.clearing_price) for r in rows]


def record_decision(session: Session, claim: Claim, decided: Decision, *, by: str, decided_by: str | None) -> None:
    """Record a decision: the claim's state, and one more entry in its history, dated by the service's
    clock (:func:`api.scores_store.today_on`)."""
    now = dt.datetime.now(dt.UTC)
    on = today_on(session)
    claim.status, claim.bearer, claim.rule, claim.decided_at, claim.decided_on = decided.status, decided.bearer, decided.rule, now, on
    session.add(
        ClaimDecision(
            claim_id=claim.claim_id,
            seq=next_seq(session, ClaimDecision, claim.claim_id),
            status=decided.status,
            bearer=decided.bearer,
            rule=decided.rule,
            by=by,
            decided_by=decided_by,
            decided_at=now,
            decided_on=on,
            note=decided.note,
        )
    )
    session.flush()


def record_evidence(session: Session, claim: Claim, evidence: str, *, decided_by: str) -> None:
    """The buyer's evidence replaces the claim's and is noted in its history (rule ``evidence_given``);
    the claim's status and decision date stay."""
    claim.evidence = evidence
    session.add(
        ClaimDecision(
            claim_id=claim.claim_id,
            seq=next_seq(session, ClaimDecision, claim.claim_id),
            status=claim.status,
            bearer=None,
            rule="evidence_given",
            by="buyer",
            decided_by=decided_by,
            decided_at=dt.datetime.now(dt.UTC),
            decided_on=claim.decided_on,
            note=evidence,
        )
    )
    session.flush()


def record_response(session: Session, claim: Claim, text: str, *, cooperative_id: str | None) -> None:
    """A cooperative's answer, the next in the claim's responses."""
    session.add(
        ClaimResponse(
            claim_id=claim.claim_id,
            seq=next_seq(session, ClaimResponse, claim.claim_id),
            cooperative_id=cooperative_id,
            text=text,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    session.flush()


def next_seq(session: Session, model: Any, claim_id: str) -> int:
    """The next ``seq`` of a claim's history or responses."""
    return int(session.scalar(select(func.coalesce(func.max(model.seq), 0)).where(model.claim_id == claim_id)) or 0) + 1


def visible(query: Any, caller: Caller) -> Any:
    """A buyer's own claims, the claims on a cooperative's sales (a part names it), or all."""
    if caller.role == "buyer":
        return query.where(Claim.buyer_id == caller.buyer_id)
    if caller.role == "cooperative":
        return query.where(Claim.claim_id.in_(select(ClaimPart.claim_id).where(ClaimPart.cooperative_id == caller.cooperative_id)))
    return query


def own_claim(session: Session, caller: Caller, claim_id: str, *, lock: bool = False) -> Claim:
    """The claim if the caller may see it, else 404 (another's claim is not found, as another's order)."""
    if "\x00" in claim_id or len(claim_id) > 64:
        raise ApiError(404, "Not Found", "no such claim")
    query = visible(select(Claim).where(Claim.claim_id == claim_id), caller)
    if lock:
        query = query.with_for_update()
    claim = session.scalars(query).first()
    if claim is None:
        raise ApiError(404, "Not Found", f"no claim {claim_id}")
    return claim


def _supply(session: Session, fills: list[Fill]) -> dict[tuple[int, str], list[tuple[str, int]]]:
    """The kg each cooperative shipped to each fill's demand row in its cycle."""
    if not fills:
        return {}
    rows = session.execute(
        select(Allocation.cycle_id, Allocation.demand_id, Allocation.cooperative_id, cast(func.sum(Allocation.quantity_kg), BigInteger))
        .where(or_(*(and_(Allocation.cycle_id == f.cycle_id, Allocation.demand_id == f.demand_id) for f in fills)))
        .group_by(Allocation.cycle_id, Allocation.demand_id, Allocation.cooperative_id)
    ).all()
    supply: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for cycle_id, demand_id, coop, kg in rows:
        supply.setdefault((int(cycle_id), str(demand_id)), []).append((str(coop), int(kg)))
    return supply
