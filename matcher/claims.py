"""After-sales claims: the rules, as pure functions over plain values.

A buyer claims delivered kg of one of its orders that a current cycle filled, at most
``claim_window_days`` after the order's due date, for at most the kg delivered to it less the kg its
earlier claims took (whatever became of them: a rejected claim is not filed again).

**What a claim is worth, and against whom** (:func:`claim_parts`). Its kg are taken from the order's
fills oldest first, after the kg earlier claims took, each at its cycle's clearing price. A fill's kg
came from the allocations of its demand row in its cycle: a claim's kg on that fill are attributed to
those cooperatives pro rata by the kg they shipped to the row (whole kg, largest remainder, ties by
``cooperative_id``: :func:`pro_rata`), one part per cycle and cooperative. The value is rounded to the
cent (half to even) once, and its cents shared among the parts by largest remainder
(:func:`cents_shared`).

**The rule chain at intake** (:func:`intake_decision`; each decision records its rule):

1. ``instant_refund_only``: a ``refund_only`` claim is ``approved`` at once, the protection fund
   bearing it, when the buyer's credit score is at least ``instant_credit`` (0.7), it has fewer than
   ``max_instant_rejections`` (2) recent rejections (:mod:`matcher.scores`), and the claim is worth at
   most ``instant_cap`` (200).
2. ``evidence_required``: any other ``refund_only`` claim waits as ``needs_evidence``.
3. ``return_required``: a ``return`` claim waits for the goods as ``awaiting_return``.

**The operator's decisions** (:func:`check_decision`, rule ``operator``): a waiting claim
(``needs_evidence``, ``awaiting_return``) may be ``approved`` with a bearer (:data:`BEARERS`:
``cooperative``, a proven quality fault; ``freight``, transit damage or lateness; ``protection_fund``),
``rejected`` or sent back to ``needs_evidence``; an ``approved`` claim may be found ``unreasonable``:
the buyer keeps the refund, the protection fund bears it (never the producer) and it counts against
the buyer's credit. ``rejected`` and ``unreasonable`` are final. While a claim waits its buyer may give
evidence (:func:`check_evidence`).

Refusals raise, in the exception tree of :mod:`harvestmatch.errors`::

    HarvestError
    └── ClaimError(ValueError)      a claim or a decision the rules refuse
        ├── InvalidClaim            the claim's own values (``path`` names the field)
        └── ClaimConflict           the claim's state, or what the cycles stored
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Protocol

from harvestmatch.errors import HarvestError
from matcher.scores import Credit, InstantRules, instant_allowed
from matcher.settlement import BEARERS
from regions.apportion import largest_remainder, proportional

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
#: decisions after which nothing more is decided
FINAL = ("rejected", "unreasonable")
#: the longest evidence (a text or a link) and the longest note or response, in characters
MAX_EVIDENCE = 500
MAX_TEXT = 1000
CENT = Decimal("0.01")

__all__ = [
    "BEARERS",
    "CENT",
    "DECISIONS",
    "FINAL",
    "HISTORY_RULES",
    "MAX_EVIDENCE",
    "MAX_TEXT",
    "REASONS",
    "REFUNDED",
    "REMEDIES",
    "RULES",
    "STATUSES",
    "WAITING",
    "ClaimConflict",
    "ClaimError",
    "Decision",
    "Fill",
    "InstantThresholds",
    "InvalidClaim",
    "Part",
    "cents_shared",
    "check_claimable",
    "check_decision",
    "check_evidence",
    "claim_parts",
    "decision_bearer",
    "intake_decision",
    "pro_rata",
]


class ClaimError(HarvestError, ValueError):
    """A claim or a decision the rules refuse."""


class InvalidClaim(ClaimError):
    """The claim's own values are refused; ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


class ClaimConflict(ClaimError):
    """The claim's state (or what its cycles stored) does not allow it."""


class InstantThresholds(InstantRules, Protocol):
    """The thresholds of the rule chain (``api.after_sales.AfterSalesConfig`` carries them)."""

    @property
    def instant_cap(self) -> float: ...


@dataclass(frozen=True)
class Fill:
    """An order's fill by one current cycle: its demand row, kg and clearing price."""

    cycle_id: int
    demand_id: str
    filled_kg: int
    clearing_price: float | None


@dataclass(frozen=True)
class Part:
    """A claim's kg on one fill attributed to one cooperative, and their exact value."""

    cycle_id: int
    cooperative_id: str
    demand_id: str
    kg: int
    clearing_price: float
    exact: Decimal


@dataclass(frozen=True)
class Decision:
    """A decision of the rule chain: the claim's status, who bears it, the rule and why."""

    status: str
    bearer: str | None
    rule: str
    note: str | None


def check_claimable(order_id: str, kg: int, *, due: dt.date, today: dt.date, window_days: int, delivered: int, claimed: int) -> int:
    """The kg still claimable on the order: ``delivered`` less what earlier claims took (``claimed``).

    Raises
    ------
    InvalidClaim
        Nothing was delivered to the order (on ``order_id``), its claim window (``window_days`` after
        its ``due`` date) closed before ``today`` (on ``order_id``), or ``kg`` is above the claimable
        kg (on ``kg``); checked in that order.
    """
    if delivered == 0:
        raise InvalidClaim("order_id", f"order {order_id} has no kg delivered by a current cycle: there is nothing to claim")
    closes = due + dt.timedelta(days=window_days)
    if today > closes:
        raise InvalidClaim(
            "order_id", f"the claim window of order {order_id} closed on {closes}: claims are filed at most {window_days} days after its due date ({due})"
        )
    left = delivered - claimed
    if kg > left:
        raise InvalidClaim(
            "kg", f"at most {left} kg can be claimed on order {order_id}: {delivered} kg were delivered to it and earlier claims took {claimed} kg; got {kg}"
        )
    return left


def claim_parts(fills: Sequence[Fill], supply: Mapping[tuple[int, str], Sequence[tuple[str, int]]], *, skip: int, kg: int) -> list[Part]:
    """The claim's kg over the order's fills, oldest first, after the ``skip`` kg earlier claims took;
    each fill's kg shared among the cooperatives that supplied its demand row, pro rata by kg.

    Parameters
    ----------
    fills
        The order's fills by current cycles, oldest first.
    supply
        ``(cycle_id, demand_id)`` -> ``(cooperative_id, kg)`` shipped to that demand row.
    skip
        The kg earlier claims took.
    kg
        The claim's kg.

    Raises
    ------
    ClaimConflict
        A fill the claim takes from has no allocations or no clearing price.
    """
    parts: list[Part] = []
    for f in fills:
        here = min(f.filled_kg, skip)
        skip -= here
        take = min(f.filled_kg - here, kg)
        if take <= 0:
            continue
        kg -= take
        shipped = supply.get((f.cycle_id, f.demand_id), ())
        if not shipped or f.clearing_price is None:
            raise ClaimConflict(f"cycle {f.cycle_id} has no allocations for the demand row that filled this order")
        price = Decimal(repr(float(f.clearing_price)))
        parts += [Part(f.cycle_id, coop, f.demand_id, share, float(f.clearing_price), share * price) for coop, share in pro_rata(take, shipped)]
        if kg == 0:
            break
    return parts


def pro_rata(kg: int, supply: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """``kg`` whole kg shared among suppliers in proportion to their kg by largest remainder
    (:func:`regions.apportion.proportional`, ties by supplier id), in supplier order; suppliers getting
    0 kg are left out."""
    ordered = sorted(supply)
    shares = proportional(kg, [k for _, k in ordered])
    return [(who, int(s)) for (who, _), s in zip(ordered, shares, strict=True) if s > 0]


def cents_shared(exact: Sequence[Decimal]) -> list[int]:
    """The parts' money in cents: the total rounded to the cent once (half to even), each part its
    cents rounded down, and the cents left over to the largest remainders (ties: the earlier part;
    :func:`regions.apportion.largest_remainder`)."""
    total = int(sum(exact, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_EVEN) * 100)
    floors = [int((e * 100).to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    residual = [e * 100 - f for e, f in zip(exact, floors, strict=True)]
    return [int(c) for c in largest_remainder(floors, residual, total - sum(floors))]


def intake_decision(remedy: str, credit: Credit, *, value_cents: int, kg: int, claimable: int, rules: InstantThresholds) -> Decision:
    """The rule chain at intake (see the module docstring), with a note saying why.

    Parameters
    ----------
    remedy
        One of :data:`REMEDIES`.
    credit
        The buyer's credit now.
    value_cents
        What the claim is worth.
    kg, claimable
        The claim's kg and the kg that could be claimed (for the note).
    rules
        The thresholds: ``instant_credit``, ``max_instant_rejections``, ``instant_cap``.
    """
    worth, cap = Decimal(value_cents) / 100, Decimal(repr(float(rules.instant_cap)))
    note = (
        f"credit score {credit.score:.4f} (instant needs at least {rules.instant_credit}), recent rejections "
        f"{credit.recent_rejections} (instant needs fewer than {rules.max_instant_rejections}), value {worth:.2f} "
        f"(instant cap {cap:.2f}), {kg} of {claimable} claimable kg"
    )
    if remedy == "refund_only" and instant_allowed(credit, rules) and worth <= cap:
        return Decision("approved", "protection_fund", "instant_refund_only", note)
    if remedy == "refund_only":
        return Decision("needs_evidence", None, "evidence_required", note)
    return Decision("awaiting_return", None, "return_required", note)


def check_decision(claim_id: str, status: str, decision: str) -> None:
    """Refuse (:class:`ClaimConflict`) an operator's decision the claim's status does not allow."""
    if status in FINAL:
        raise ClaimConflict(f"claim {claim_id} is {status}: that decision is final")
    if decision == "unreasonable" and status != "approved":
        raise ClaimConflict(f"claim {claim_id} is {status}: only an approved refund can be found unreasonable")
    if decision != "unreasonable" and status == "approved":
        raise ClaimConflict(f"claim {claim_id} is approved (its refund is paid): it can only be found unreasonable")


def decision_bearer(decision: str, bearer: str | None) -> str | None:
    """Who bears the refund after an operator's decision: an unreasonable refund the protection fund,
    an approval its named bearer, anything else no one."""
    if decision == "unreasonable":
        return "protection_fund"
    return bearer if decision in REFUNDED else None


def check_evidence(claim_id: str, status: str) -> None:
    """Refuse (:class:`ClaimConflict`) evidence for a claim that no longer waits."""
    if status not in WAITING:
        raise ClaimConflict(f"claim {claim_id} is {status}: evidence is taken while a claim waits ({', '.join(WAITING)})")
