"""A cooperative's pages (the operator sees every cooperative's offers and scorecards): its offers with
their status in plain words, posting one (a form, or a CSV upload) with a location picker, one offer's
results and pickup, withdrawing; its settlement line per cycle; the claims on its sales and its
answers; its scorecard per product with a small chart over the cycles.

- ``/ui/offers``, ``/ui/offers/<id>``: the offers (:mod:`api.offers`). The form's latitude and
  longitude are typed; with a script, clicking the region map fills them (``offer_map.js``: Leaflet
  from the app's own files, the regions as the base layer from :func:`map_regions`, since no map
  tiles are reachable).
- ``/ui/settlement``, ``/ui/settlement/<cycle_id>`` (a cooperative, and a buyer too): the done cycles
  that concern the caller, and its own line of a cycle's books (``GET /cycles/{id}/settlement``, which
  computes the books on each request: one cycle per page).
- ``/ui/sales/claims``, ``/ui/sales/claims/<id>``: the claims on its sales (``GET /claims``: its own
  parts, never the buyer), each with its decisions and its answers, and the form that answers
  (``POST /claims/{id}/response``).
- ``/ui/scorecard``: delivered quality per product (``GET /cooperatives/{id}/scorecard``), the score
  over the cycles drawn as inline SVG on the server (:mod:`api.pages.charts`); the operator names the
  cooperative.

Every action goes through the API's own views (via :mod:`api.pages.bridge`): a cooperative sees only
its own offers, lines and claims, exactly as through the API, and a bad field gets the API's message
beside it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import claims as claims_api
from api import cycles as cycles_api
from api import offers as offers_api
from api import products as products_api
from api import scores as scores_api
from api import settlement as settlement_api
from api.auth import Caller
from api.pages.blueprint import PAGE_ROWS, bp, form_record
from api.pages.bridge import call
from api.pages.charts import score_chart
from api.pages.signing import current, page_for
from matcher.claims import STATUSES as CLAIM_STATUSES

#: the offer form's fields, in the API's names
OFFER_FIELDS = ("product", "grade", "quantity_kg", "ask_per_kg", "ready_date", "shelf_life_days", "lat", "lon", "reference", "cooperative_id")
OFFER_NUMBERS = ("quantity_kg", "ask_per_kg", "shelf_life_days", "lat", "lon")
GRADES = ("A", "B", "C")


def _products() -> list[str]:
    caller = current()
    assert caller is not None
    answer = call(products_api.read_all, caller, path="/products")
    return list(answer.body["products"]) if answer.ok else []


def _offer_list(status: str | None, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    caller = current()
    assert caller is not None
    answer = call(offers_api.list_offers, caller, path="/offers", args={"limit": PAGE_ROWS, "after": after, "status": status})
    if not answer.ok:
        abort(answer.status if answer.status in (403, 404) else 400)
    return list(answer.body["items"]), answer.body["next"]


def _render_offers(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    caller = current()
    wanted = request.args.get("status") or None
    items, more = _offer_list(wanted, request.args.get("after") or None)
    return (
        render_template(
            "offers.html",
            items=items,
            more=more,
            wanted=wanted,
            products=_products(),
            grades=GRADES,
            form=form,
            errors=errors,
            operator=caller is not None and caller.role == "operator",
        ),
        status,
    )


def _caller() -> Caller:
    caller = current()
    assert caller is not None  # page_for let the request in
    return caller


@bp.get("/offers")
@page_for("cooperative", "operator")
def offers() -> Any:
    return _render_offers({}, {})


@bp.post("/offers")
@page_for("cooperative", "operator")
def post_offer() -> Any:
    caller = current()
    assert caller is not None
    record = form_record(OFFER_FIELDS, OFFER_NUMBERS)
    if caller.role != "operator":
        record.pop("cooperative_id", None)
    answer = call(offers_api.create, caller, path="/offers", method="POST", json=record)
    if not answer.ok:
        return _render_offers(dict(request.form), answer.errors(), 422 if answer.status == 422 else answer.status)
    flash(_("Offer %(id)s posted.", id=answer.body["offer_id"]), "ok")
    return redirect(url_for("pages.offer", offer_id=answer.body["offer_id"]))


@bp.post("/offers/upload")
@page_for("cooperative", "operator")
def upload_offers() -> Any:
    caller = current()
    assert caller is not None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_offers({}, {"file": _("Choose a CSV file.")}, 422)
    answer = call(offers_api.create, caller, path="/offers", method="POST", data=upload.read(), content_type="text/csv")
    if not answer.ok:
        problems = answer.body.get("errors") if isinstance(answer.body, dict) else None
        lines = [f"{p.get('path')}: {p.get('message')}" for p in problems or []] or [answer.message()]
        return _render_offers({}, {"file": "; ".join(lines)}, answer.status)
    flash(_("%(n)d offers posted.", n=len(answer.body["items"])), "ok")
    return redirect(url_for("pages.offers"))


@bp.get("/offers/<offer_id>")
@page_for("cooperative", "operator")
def offer(offer_id: str) -> Any:
    caller = current()
    assert caller is not None
    answer = call(offers_api.read, caller, path=f"/offers/{offer_id}", offer_id=offer_id)
    if not answer.ok:
        abort(404 if answer.status in (403, 404) else answer.status)
    return render_template("offer.html", o=answer.body)


@bp.post("/offers/<offer_id>/withdraw")
@page_for("cooperative", "operator")
def withdraw_offer(offer_id: str) -> Any:
    caller = current()
    assert caller is not None
    answer = call(offers_api.withdraw, caller, path=f"/offers/{offer_id}/withdraw", method="POST", offer_id=offer_id)
    if answer.status == 404:
        abort(404)
    if answer.ok:
        flash(_("Offer %(id)s withdrawn.", id=offer_id), "ok")
    else:
        flash(answer.message(), "error")
    return redirect(url_for("pages.offer", offer_id=offer_id))


# ---- the location picker's base layer -------------------------------------------------------------


@bp.get("/map/regions.geojson")
@page_for("cooperative", "buyer", "operator")
def map_regions() -> Response:
    """The regions for the location picker (offers and orders): the planner's base layer, the same view
    (the API's regions, simplified for drawing when large, kept a while) for the roles that post."""
    from api.pages import planner

    view = planner.plan_regions.__wrapped__  # type: ignore[attr-defined]  # its own role check is for the plans
    return view()  # type: ignore[no-any-return]


# ---- the settlement: a party's own line of each cycle's books -------------------------------------


@bp.get("/settlement")
@page_for("cooperative", "buyer")
def settlement() -> Any:
    """The done cycles that concern the caller, newest first, paged as ``GET /cycles`` pages them; each
    links to the caller's line (computed on its own page: the books take a few hundred ms on a
    national day)."""
    after = request.args.get("after") or None
    answer = call(cycles_api.list_cycles, _caller(), path="/cycles", args={"limit": PAGE_ROWS, "after": after, "status": "done"})
    if not answer.ok:
        abort(400)
    return render_template("settlement.html", items=answer.body["items"], more=answer.body["next"], after=after)


@bp.get("/settlement/<int(max=2147483647):cycle_id>")
@page_for("cooperative", "buyer")
def settlement_line(cycle_id: int) -> Any:
    """The caller's line of a done cycle's books, as ``GET /cycles/{id}/settlement`` gives it."""
    caller = _caller()
    answer = call(settlement_api.settlement, caller, path=f"/cycles/{cycle_id}/settlement", cycle_id=cycle_id)
    if answer.status in (403, 404):
        abort(404)
    lines = list(answer.body["lines"]) if answer.ok else []
    return (
        render_template(
            "settlement_line.html",
            cycle_id=cycle_id,
            date=answer.body.get("date") if answer.ok else None,
            line=lines[0] if lines else None,
            problem=answer.message(),
            party=caller.role,
        ),
        200 if answer.ok else answer.status,
    )


# ---- claims on the cooperative's sales, and its answers --------------------------------------------


@bp.get("/sales/claims")
@page_for("cooperative")
def sales_claims() -> Any:
    """The claims on the cooperative's sales, paged as ``GET /claims`` pages them; by status."""
    wanted = request.args.get("status") or None
    if wanted not in (None, *CLAIM_STATUSES):
        wanted = None
    after = request.args.get("after") or None
    answer = call(claims_api.list_claims, _caller(), path="/claims", args={"limit": PAGE_ROWS, "after": after, "status": wanted})
    if not answer.ok:
        abort(400)
    return render_template("sales_claims.html", items=answer.body["items"], more=answer.body["next"], after=after, wanted=wanted, statuses=CLAIM_STATUSES)


def _render_sales_claim(claim_id: str, form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    answer = call(claims_api.read, _caller(), path=f"/claims/{claim_id}", claim_id=claim_id)
    if not answer.ok:
        abort(404)
    return render_template("sales_claim.html", c=answer.body, form=form, errors=errors), status


@bp.get("/sales/claims/<claim_id>")
@page_for("cooperative")
def sales_claim(claim_id: str) -> Any:
    """One claim on the cooperative's sales: its own parts, the decisions in order, its answers, and
    the form that answers."""
    return _render_sales_claim(claim_id, {}, {})


@bp.post("/sales/claims/<claim_id>/response")
@page_for("cooperative")
def answer_claim(claim_id: str) -> Any:
    """Answer a claim through ``POST /claims/{id}/response``; the API's message beside the text."""
    text = request.form.get("text", "")
    answer = call(claims_api.respond, _caller(), path=f"/claims/{claim_id}/response", method="POST", json={"text": text}, claim_id=claim_id)
    if answer.status == 404:
        abort(404)
    if not answer.ok:
        return _render_sales_claim(claim_id, dict(request.form), answer.errors(), answer.status)
    flash(_("Your answer to claim %(id)s was sent.", id=claim_id), "ok")
    return redirect(url_for("pages.sales_claim", claim_id=claim_id))


# ---- the scorecard ---------------------------------------------------------------------------------


@bp.get("/scorecard")
@page_for("cooperative", "operator")
def scorecard() -> Any:
    """Delivered quality per product now and a chart of its score over the cycles (the operator names
    the cooperative: ``?cooperative_id=``)."""
    caller = _caller()
    coop = caller.cooperative_id if caller.role == "cooperative" else (request.args.get("cooperative_id") or "").strip() or None
    card, problem = None, ""
    if coop is not None:
        answer = call(scores_api.scorecard, caller, path=f"/cooperatives/{coop}/scorecard", cooperative_id=coop)
        if answer.ok:
            card = answer.body
            for p in card["products"]:
                p["chart"] = score_chart(p["history"])
        elif caller.role == "cooperative":
            abort(404)
        else:
            problem = answer.message()
    return render_template("scorecard.html", card=card, coop=coop, problem=problem, operator=caller.role == "operator"), 404 if problem else 200


__all__ = ["answer_claim", "map_regions", "offers", "sales_claim", "sales_claims", "scorecard", "settlement", "settlement_line"]
