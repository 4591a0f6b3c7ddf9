"""The bodies of ``/claims``: a claim (``POST /claims``), an operator's decision, a cooperative's
response and a buyer's evidence, each a :class:`api.bodies.Body` whose fields name their problems."""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationInfo, field_validator

from api.bodies import MISSING, Body, got, invalid, lone_surrogate, plain_text
from harvestmatch.kinds import MAX_ID_CHARS, MAX_KG
from matcher.claims import BEARERS, DECISIONS, MAX_EVIDENCE, MAX_TEXT, REASONS, REMEDIES

#: what each body looks like, for the message refusing a body that is not an object
CLAIM_EXAMPLE = '{"order_id": "ord_...", "kg": 10, "reason": "quality", "remedy": "refund_only"}'
DECISION_EXAMPLE = '{"decision": "approved", "bearer": "cooperative", "note": "..."}'
RESPONSE_EXAMPLE = '{"text": "the lot left the farm graded A; photos at ..."}'
EVIDENCE_EXAMPLE = '{"evidence": "photos of the crates at https://..."}'


class ClaimIn(Body):
    """A claim on one of the buyer's orders."""

    ALLOWED = ("order_id", "kg", "reason", "evidence", "remedy")
    order_id: str
    kg: int
    reason: str
    remedy: str
    evidence: str | None = None

    @field_validator("order_id", mode="before")
    @classmethod
    def _order_id(cls, value: Any) -> str:
        if isinstance(value, str) and 1 <= len(value) <= MAX_ID_CHARS and "\x00" not in value and value.strip() == value and not lone_surrogate(value):
            return value
        raise invalid(f"expected the id of one of your orders (1 to {MAX_ID_CHARS} characters), got {got(value)}")

    @field_validator("kg", mode="before")
    @classmethod
    def _kg(cls, value: Any) -> int:
        kg = _whole_kg(value)
        if kg is None:
            raise invalid(f"expected whole kg from 1 to {MAX_KG - 1:,}, got {got(value)}")
        return kg

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return _one_of(value, REASONS)

    @field_validator("remedy", mode="before")
    @classmethod
    def _remedy(cls, value: Any) -> str:
        return _one_of(value, REMEDIES)

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence(cls, value: Any) -> str | None:
        return _text(value, MAX_EVIDENCE, what="a link or a text", required=False)


class DecisionIn(Body):
    """The operator's decision on a claim; an approval names who bears the refund."""

    decision: str
    bearer: str | None = None
    note: str | None = None

    @field_validator("decision", mode="before")
    @classmethod
    def _decision(cls, value: Any) -> str:
        return _one_of(value, DECISIONS)

    @field_validator("bearer", mode="before")
    @classmethod
    def _bearer(cls, value: Any, info: ValidationInfo) -> str | None:
        decision = info.data.get("decision")  # there only when it is one of DECISIONS
        if decision is None:  # the body is refused for its decision: a bearer means nothing without one
            return None
        bearer = None if value is MISSING else value
        if decision == "approved" and bearer not in BEARERS:
            raise invalid(f"an approval names who bears the refund: one of {', '.join(BEARERS)}, got {got(value)}")
        if decision != "approved" and bearer is not None:
            why = "an unreasonable refund is always borne by the protection fund" if decision == "unreasonable" else "only an approval has a bearer"
            raise invalid(f"{why}; leave bearer out, got {got(value)}")
        return bearer

    @field_validator("note", mode="before")
    @classmethod
    def _note(cls, value: Any) -> str | None:
        return _text(value, MAX_TEXT, what="a text", required=False)


class ResponseIn(Body):
    """A cooperative's answer to a claim on its sales."""

    text: str

    @field_validator("text", mode="before")
    @classmethod
    def _check_text(cls, value: Any) -> str:
        return _required_text(value, MAX_TEXT, what="a text")


class EvidenceIn(Body):
    """A buyer's evidence for its waiting claim."""

    evidence: str

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence(cls, value: Any) -> str:
        return _required_text(value, MAX_EVIDENCE, what="a link or a text")


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise invalid(f"expected one of {', '.join(allowed)}, got {got(value)}")


def _text(value: Any, most: int, *, what: str, required: bool) -> str | None:
    if (value is MISSING or value is None) and not required:
        return None
    if plain_text(value, most):
        return str(value)
    raise invalid(f"expected {what} of 1 to {most} characters, got {got(value)}")


def _whole_kg(value: Any) -> int | None:
    """Whole kg from 1 to below MAX_KG (a whole float such as ``10.0`` counts, as in offers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        value = int(value)
    return value if 1 <= value < MAX_KG else None


def _required_text(value: Any, most: int, *, what: str) -> str:
    text = _text(value, most, what=what, required=True)
    assert text is not None  # required: _text refuses a missing one
    return text
