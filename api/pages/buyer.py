"""A buyer's pages (a group leader's too: a buyer key; the operator sees every buyer's orders): its
orders, posting one (a form with the location picker, or a CSV upload) and cancelling what still waits;
one order's fills by cycle and what still waits; claims with evidence; its credit and whether an
instant refund is open to it, and why.

- ``/ui/orders``: the orders (``GET /orders``, paged, by status) and the order form
  (``POST /orders``, one order; a CSV upload, many); ``/ui/orders/<id>``: its fills by cycle
  (``GET /orders/{id}``), what still waits, the cancel button (``POST /orders/{id}/cancel``), its
  claims and the claim form (``POST /claims``: kg, reason, remedy and evidence, a text or a link of up
  to 500 characters, as the API takes it).
- ``/ui/claims``, ``/ui/claims/<id>``: the buyer's claims (``GET /claims``) and one with its parts,
  decisions and the cooperatives' answers; while it waits, the form that gives evidence
  (``POST /claims/{id}/evidence``).
- ``/ui/credit``: ``GET /buyers/me/credit``: the score, its history drawn as inline SVG with the
  instant threshold, and each condition of an instant refund (:func:`instant_checks`) met or not. The
  order's claim form links to it rather than computing the credit itself: the API reads every filled
  order of the buyer for it (a few hundred ms for the demo day's one buyer of 156,000 orders).

Every action goes through the API's own views (:mod:`api.pages.bridge`): a buyer sees only its own
orders and claims, exactly as through the API, and a bad field gets the API's message beside it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import claims as claims_api
from api import orders as orders_api
from api import products as products_api
from api import scores as scores_api
from api.auth import Caller
from api.pages.blueprint import PAGE_ROWS, bp, form_record
from api.pages.bridge import call
from api.pages.charts import score_chart
from api.pages.signing import current, page_for
from api.pages.words import word
from matcher.claims import REASONS, REMEDIES, WAITING
from matcher.claims import STATUSES as CLAIM_STATUSES

#: the order form's fields, in the API's names
ORDER_FIELDS = ("product", "min_grade", "quantity_kg", "max_price_per_kg", "due_date", "lat", "lon", "reference", "pickup_point_id", "buyer_id")
ORDER_NUMBERS = ("quantity_kg", "max_price_per_kg", "lat", "lon")
GRADES = ("A", "B", "C")
#: an order's statuses (``GET /orders`` filters by them)
ORDER_STATUSES = ("pending", "filled", "partly_filled", "unfilled", "rejected", "cancelled", "expired")
#: the claim form's fields
CLAIM_FIELDS = ("kg", "reason", "remedy", "evidence")


def _caller() -> Caller:
    caller = current()
    assert caller is not None  # page_for let the request in
    return caller


@bp.app_template_filter("order_word")
def order_word(code: object) -> str:
    """An order's (or a fill's) status or reason in plain words: the order's own words where a code
    means something else for an offer (``expired``, ``no_feasible_lane`` ...), else :func:`word`."""
    if code is None:
        return ""
    from api.pages.words import WORDS

    found = WORDS.get(f"order:{code}")
    return str(found) if found is not None else word(code)


# ---- orders ----------------------------------------------------------------------------------------


def _products() -> list[str]:
    answer = call(products_api.read_all, _caller(), path="/products")
    return list(answer.body["products"]) if answer.ok else []


def _render_orders(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    caller = _caller()
    wanted = request.args.get("status") or None
    if wanted not in (None, *ORDER_STATUSES):
        wanted = None
    after = request.args.get("after") or None
    answer = call(orders_api.list_orders, caller, path="/orders", args={"limit": PAGE_ROWS, "after": after, "status": wanted})
    if not answer.ok:
        abort(400)
    return (
        render_template(
            "orders.html",
            items=answer.body["items"],
            more=answer.body["next"],
            after=after,
            wanted=wanted,
            statuses=ORDER_STATUSES,
            products=_products(),
            grades=GRADES,
            form=form,
            errors=errors,
            operator=caller.role == "operator",
        ),
        status,
    )


@bp.get("/orders")
@page_for("buyer", "operator")
def orders() -> Any:
    """The buyer's orders (what still waits: ``?status=pending``) and the order form."""
    return _render_orders({}, {})


@bp.post("/orders")
@page_for("buyer", "operator")
def post_order() -> Any:
    caller = _caller()
    record = form_record(ORDER_FIELDS, ORDER_NUMBERS)
    if caller.role != "operator":
        record.pop("buyer_id", None)
    answer = call(orders_api.create, caller, path="/orders", method="POST", json=record)
    if not answer.ok:
        return _render_orders(dict(request.form), answer.errors(), answer.status)
    flash(_("Order %(id)s posted.", id=answer.body["order_id"]), "ok")
    return redirect(url_for("pages.order", order_id=answer.body["order_id"]))


@bp.post("/orders/upload")
@page_for("buyer", "operator")
def upload_orders() -> Any:
    caller = _caller()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_orders({}, {"file": _("Choose a CSV file.")}, 422)
    answer = call(orders_api.create, caller, path="/orders", method="POST", data=upload.read(), content_type="text/csv")
    if not answer.ok:
        problems = answer.body.get("errors") if isinstance(answer.body, dict) else None
        lines = [f"{p.get('path')}: {p.get('message')}" for p in problems or []] or [answer.message()]
        return _render_orders({}, {"file": "; ".join(lines)}, answer.status)
    flash(_("%(n)d orders posted.", n=len(answer.body["items"])), "ok")
    return redirect(url_for("pages.orders"))


def instant_checks(credit: dict[str, Any]) -> list[dict[str, Any]]:
    """Each condition of an instant refund (the rule chain's first rule, :mod:`matcher.claims`) from
    ``GET /buyers/me/credit``: ``key``, ``met`` (None: it depends on the claim) and the numbers."""
    return [
        {"key": "score", "met": credit["score"] >= credit["instant_credit"], "value": credit["score"], "needs": credit["instant_credit"]},
        {
            "key": "rejections",
            "met": credit["recent_rejections"] < credit["max_instant_rejections"],
            "value": credit["recent_rejections"],
            "needs": credit["max_instant_rejections"],
        },
        {"key": "cap", "met": None, "value": None, "needs": credit["instant_cap"]},
        {"key": "remedy", "met": None, "value": None, "needs": None},
    ]


def _credit() -> dict[str, Any] | None:
    answer = call(scores_api.credit, _caller(), path="/buyers/me/credit")
    if not answer.ok:
        return None
    credit = dict(answer.body)
    credit["checks"] = instant_checks(credit)
    return credit


def _render_order(order_id: str, form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    caller = _caller()
    answer = call(orders_api.read, caller, path=f"/orders/{order_id}", order_id=order_id)
    if not answer.ok:
        abort(404)
    o = answer.body
    claims: list[dict[str, Any]] = []
    if caller.role == "buyer":
        listed = call(claims_api.list_claims, caller, path="/claims", args={"limit": PAGE_ROWS, "order_id": order_id})
        claims = list(listed.body["items"]) if listed.ok else []
    return (
        render_template(
            "order.html",
            o=o,
            claims=claims,
            reasons=REASONS,
            remedies=REMEDIES,
            form=form,
            errors=errors,
            buyer=caller.role == "buyer",
        ),
        status,
    )


@bp.get("/orders/<order_id>")
@page_for("buyer", "operator")
def order(order_id: str) -> Any:
    """One order: its fills by cycle, what still waits, its claims and the claim form."""
    return _render_order(order_id, {}, {})


@bp.post("/orders/<order_id>/cancel")
@page_for("buyer", "operator")
def cancel_order(order_id: str) -> Any:
    answer = call(orders_api.cancel, _caller(), path=f"/orders/{order_id}/cancel", method="POST", order_id=order_id)
    if answer.status == 404:
        abort(404)
    if answer.ok:
        flash(_("Order %(id)s cancelled: what was filled stays, the rest no longer waits.", id=order_id), "ok")
    else:
        flash(answer.message(), "error")
    return redirect(url_for("pages.order", order_id=order_id))


@bp.post("/orders/<order_id>/claim")
@page_for("buyer")
def file_claim(order_id: str) -> Any:
    """File a claim on the order through ``POST /claims``; the API's message beside the field it names."""
    body = {"order_id": order_id, **form_record(CLAIM_FIELDS, ("kg",))}
    answer = call(claims_api.create, _caller(), path="/claims", method="POST", json=body)
    if answer.status == 404:
        abort(404)
    if not answer.ok:
        return _render_order(order_id, dict(request.form), answer.errors(), answer.status)
    flash(_("Claim %(id)s filed: %(status)s.", id=answer.body["claim_id"], status=word(answer.body["status"])), "ok")
    return redirect(url_for("pages.claim", claim_id=answer.body["claim_id"]))


# ---- claims ----------------------------------------------------------------------------------------


@bp.get("/claims")
@page_for("buyer")
def claims() -> Any:
    """The buyer's claims, paged as ``GET /claims`` pages them; by status."""
    wanted = request.args.get("status") or None
    if wanted not in (None, *CLAIM_STATUSES):
        wanted = None
    after = request.args.get("after") or None
    answer = call(claims_api.list_claims, _caller(), path="/claims", args={"limit": PAGE_ROWS, "after": after, "status": wanted})
    if not answer.ok:
        abort(400)
    return render_template("claims.html", items=answer.body["items"], more=answer.body["next"], after=after, wanted=wanted, statuses=CLAIM_STATUSES)


def _render_claim(claim_id: str, form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    answer = call(claims_api.read, _caller(), path=f"/claims/{claim_id}", claim_id=claim_id)
    if not answer.ok:
        abort(404)
    c = answer.body
    return render_template("claim.html", c=c, waiting=c["status"] in WAITING, form=form, errors=errors), status


@bp.get("/claims/<claim_id>")
@page_for("buyer")
def claim(claim_id: str) -> Any:
    """One claim: its parts, decisions and the cooperatives' answers; while it waits, the evidence form."""
    return _render_claim(claim_id, {}, {})


@bp.post("/claims/<claim_id>/evidence")
@page_for("buyer")
def give_evidence(claim_id: str) -> Any:
    """Evidence for a waiting claim through ``POST /claims/{id}/evidence`` (it replaces the earlier)."""
    evidence = request.form.get("evidence", "")
    answer = call(claims_api.give_evidence, _caller(), path=f"/claims/{claim_id}/evidence", method="POST", json={"evidence": evidence}, claim_id=claim_id)
    if answer.status == 404:
        abort(404)
    if not answer.ok:
        return _render_claim(claim_id, dict(request.form), answer.errors(), answer.status)
    flash(_("Evidence given for claim %(id)s.", id=claim_id), "ok")
    return redirect(url_for("pages.claim", claim_id=claim_id))


# ---- credit ----------------------------------------------------------------------------------------


@bp.get("/credit")
@page_for("buyer")
def credit() -> Any:
    """The buyer's credit, its history, and whether an instant refund is open to it and why."""
    found = _credit()
    if found is None:
        abort(404)
    chart = score_chart(found["history"], threshold=found["instant_credit"])
    return render_template("credit.html", credit=found, chart=chart)


__all__ = ["cancel_order", "claim", "claims", "credit", "file_claim", "give_evidence", "instant_checks", "order", "orders", "order_word"]
