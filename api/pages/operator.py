"""The operator's pages (planners read them too, without the operator's parts): queue a cycle, watch it
run, read what it did, and decide the claims that wait.

- ``/ui/cycles``: the queue form (the date, ``rerun``, ``confirm_far_date`` and the cycle parameters
  as ``POST /cycles`` takes them; the API's message beside the field it names), the cycles (paged and
  filtered as the API pages them; a failed one with its public reason).
- ``/ui/cycles/<id>``: its stage and progress, live (``progress.js`` polls :func:`cycle_progress`, a
  small session-authenticated JSON resource; without a script the page shows the state at load and a
  link to refresh it), then its summary: welfare and realized welfare, kg sold, the price of fairness
  and the subsidy, the plan per leg; for the operator a failed cycle's exception.
- ``/ui/cycles/<id>/books`` (operator): the books (``GET /cycles/{id}/settlement``), their totals and
  whether they balance, and every party's line.
- ``/ui/operator/claims``: the claims that wait for the operator, each with a form that decides it
  (``POST /claims/{id}/decision``).

Every read and write goes through the API's own views (:mod:`api.pages.bridge`): a planner gets no
``detail`` of a failed cycle because the API gives it none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import claims as claims_api
from api import cycles as cycles_api
from api import settlement as settlement_api
from api.auth import Caller
from api.pages.blueprint import PAGE_ROWS, bp, form_value
from api.pages.bridge import call
from api.pages.signing import current, page_for, safe_next
from harvestmatch.settings import settings_of
from matcher.claims import BEARERS, DECISIONS, WAITING
from matcher.params import MatchParams
from matcher.routing.tables import LEGS

#: who reads the cycles' pages; only the operator queues and decides
READERS = ("planner", "operator")
STATUSES = ("queued", "running", "done", "failed")
#: the claims' statuses the operator decides from: those that wait, and approved (found unreasonable)
DECIDABLE = (*WAITING, "approved")
#: the cycle parameters, in the API's names and order, each with its kind, choices and help
PARAMS = [(f.name, spec) for f, spec in settings_of(MatchParams)]
#: a form field of a cycle parameter
PREFIX = "p_"


def _caller() -> Caller:
    caller = current()
    assert caller is not None  # page_for let the request in
    return caller


# ---- the cycles and the queue form -----------------------------------------------------------------


def _param_value(kind: str, text: str) -> Any:
    """A parameter as typed, as the JSON value the API takes: a number where it reads as one (else the
    text, so that the API names the parameter and the problem), a flag as true or false."""
    if kind == "flag":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("number", "whole"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return text


def _queue_body() -> dict[str, Any]:
    body: dict[str, Any] = {"date": form_value("date") or "", "rerun": request.form.get("rerun") == "on"}
    if request.form.get("confirm_far_date") == "on":
        body["confirm_far_date"] = True
    params = {}
    for name, spec in PARAMS:
        text = form_value(PREFIX + name)
        if text is not None:
            params[name] = _param_value(spec.kind, text)
    if params:
        body["params"] = params
    return body


def _field_errors(errors: dict[str, str]) -> dict[str, str]:
    """The API's problems by form field: a parameter's message goes beside the parameter it names."""
    found: dict[str, str] = {}
    names = sorted((name for name, _spec in PARAMS), key=len, reverse=True)
    for field, message in errors.items():
        if field == "params":
            named = next((n for n in names if message.startswith(n + " ")), None)
            found[PREFIX + named if named else "params"] = message
        else:
            found[field] = message
    return found


def _render_cycles(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    caller = _caller()
    wanted = request.args.get("status") or None
    if wanted not in (None, *STATUSES):
        wanted = None
    after = request.args.get("after") or None
    answer = call(cycles_api.list_cycles, caller, path="/cycles", args={"limit": PAGE_ROWS, "after": after, "status": wanted})
    if not answer.ok:
        abort(400)
    failed = []
    if wanted is None and after is None:  # the latest failures stand out on the first page
        recent = call(cycles_api.list_cycles, caller, path="/cycles", args={"limit": 5, "status": "failed"})
        failed = list(recent.body["items"]) if recent.ok else []
    waiting = 0
    if caller.role == "operator":
        for state in WAITING:
            listed = call(claims_api.list_claims, caller, path="/claims", args={"limit": PAGE_ROWS, "status": state})
            waiting += len(listed.body["items"]) if listed.ok else 0
    base = current_app.config["CYCLE_PARAMS"]
    defaults = asdict(base) if isinstance(base, MatchParams) else {}
    return (
        render_template(
            "cycles.html",
            items=answer.body["items"],
            more=answer.body["next"],
            after=after,
            wanted=wanted,
            statuses=STATUSES,
            failed=failed,
            waiting=waiting,
            waiting_more=waiting >= PAGE_ROWS,
            params=PARAMS,
            prefix=PREFIX,
            defaults=defaults,
            form=form,
            errors=errors,
            params_open="params" in errors or any(k.startswith(PREFIX) and v for k, v in (*errors.items(), *form.items())),
            today=dt.datetime.now(dt.UTC).date().isoformat(),
            operator=caller.role == "operator",
        ),
        status,
    )


@bp.get("/cycles")
@page_for(*READERS)
def cycles() -> Any:
    return _render_cycles({}, {})


@bp.post("/cycles")
@page_for("operator")
def queue_cycle() -> Any:
    """Queue a cycle through ``POST /cycles``; its page follows it as it runs."""
    answer = call(cycles_api.run_cycle, _caller(), path="/cycles", method="POST", json=_queue_body())
    if not answer.ok:
        return _render_cycles(dict(request.form), _field_errors(answer.errors()), answer.status)
    flash(_("Cycle %(id)s of %(date)s queued.", id=answer.body["id"], date=answer.body["date"]), "ok")
    return redirect(url_for("pages.cycle", cycle_id=answer.body["id"]))


# ---- one cycle -------------------------------------------------------------------------------------


def _cycle(cycle_id: int) -> dict[str, Any]:
    answer = call(cycles_api.read, _caller(), path=f"/cycles/{cycle_id}", cycle_id=cycle_id)
    if not answer.ok:
        abort(404)
    return dict(answer.body)


@bp.get("/cycles/<int(max=2147483647):cycle_id>")
@page_for(*READERS)
def cycle(cycle_id: int) -> Any:
    """A cycle: its state (live while it runs), then its summary, its plan per leg, and (operator) a link
    to its books."""
    caller = _caller()
    c = _cycle(cycle_id)
    summary = c.get("summary") or {}
    return render_template(
        "cycle.html",
        c=c,
        s=summary,
        freight=summary.get("freight") or {},
        net=summary.get("safety_net") or {},
        plan=summary.get("plan") or {},
        legs=LEGS,
        operator=caller.role == "operator",
        running=c["status"] in ("queued", "running"),
    )


@bp.get("/cycles/<int(max=2147483647):cycle_id>/books")
@page_for("operator")
def cycle_books(cycle_id: int) -> Any:
    """A done cycle's books as ``GET /cycles/{id}/settlement`` gives them now (with the refunds decided
    since): the totals, whether they balance, and the parties' lines, paged as the API pages them."""
    c = _cycle(cycle_id)
    after = request.args.get("after") or None
    answer = call(settlement_api.settlement, _caller(), path=f"/cycles/{cycle_id}/settlement", args={"limit": PAGE_ROWS, "after": after}, cycle_id=cycle_id)
    if answer.status in (403, 404):
        abort(404)
    if answer.status == 422:
        abort(400)
    books = dict(answer.body) if answer.ok else None
    page = render_template("cycle_books.html", c=c, books=books, problem=answer.message(), after=after)
    return page, 200 if answer.ok else answer.status


@bp.get("/cycles/<int(max=2147483647):cycle_id>/progress.json")
@page_for(*READERS)
def cycle_progress(cycle_id: int) -> Response:
    """The cycle's state for the live page: ``status``, ``stage``, ``progress`` (``{stage, done, total,
    elapsed_s, left_s}`` or null), ``reason`` (a failure's public reason), ``finished``, and the words
    the page shows for them in its language."""
    from api.pages.words import word

    answer = call(cycles_api.read, _caller(), path=f"/cycles/{cycle_id}", cycle_id=cycle_id)
    if not answer.ok:
        return answer.response
    c = answer.body
    progress = c.get("progress")
    body = {
        "id": c["id"],
        "status": c["status"],
        "stage": c["stage"],
        "progress": progress,
        "reason": c["reason"],
        "finished": c["status"] in ("done", "failed"),
        "words": {
            "status": word(c["status"]),
            "stage": word(c["stage"]) if c["stage"] else "",
            "progress": word(progress["stage"]) if progress else "",
        },
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- claims that wait for the operator -------------------------------------------------------------


def _render_claims(errors: dict[str, str], failed_claim: str | None, form: dict[str, str], status: int = 200) -> Any:
    wanted = request.values.get("status") or WAITING[0]
    if wanted not in DECIDABLE:
        wanted = WAITING[0]
    after = request.args.get("after") or None
    answer = call(claims_api.list_claims, _caller(), path="/claims", args={"limit": PAGE_ROWS, "after": after, "status": wanted})
    if not answer.ok:
        abort(400)
    return (
        render_template(
            "claims_waiting.html",
            items=answer.body["items"],
            more=answer.body["next"],
            after=after,
            wanted=wanted,
            statuses=DECIDABLE,
            decisions=DECISIONS,
            bearers=BEARERS,
            errors=errors,
            failed_claim=failed_claim,
            form=form,
        ),
        status,
    )


@bp.get("/operator/claims")
@page_for("operator")
def waiting_claims() -> Any:
    """Claims by status (those that wait, by default), paged as the API pages them, each with its form."""
    return _render_claims({}, None, {})


@bp.post("/operator/claims/<claim_id>/decision")
@page_for("operator")
def decide_claim(claim_id: str) -> Any:
    """Decide a claim through ``POST /claims/{id}/decision``; the API's message beside the field it names."""
    body: dict[str, Any] = {"decision": form_value("decision") or ""}
    for name in ("bearer", "note"):
        value = form_value(name)
        if value is not None:
            body[name] = value
    answer = call(claims_api.decide, _caller(), path=f"/claims/{claim_id}/decision", method="POST", json=body, claim_id=claim_id)
    if answer.status == 404:
        abort(404)
    if not answer.ok:
        return _render_claims(answer.errors(), claim_id, dict(request.form), answer.status)
    flash(_("Claim %(id)s: %(status)s.", id=claim_id, status=_word(answer.body["status"])), "ok")
    return redirect(safe_next(request.form.get("next")) or url_for("pages.waiting_claims", status=request.form.get("status") or None))


def _word(code: str) -> str:
    from api.pages.words import word

    return word(code)


__all__ = ["cycles", "waiting_claims"]
