"""A cooperative's pages (the operator sees every cooperative's): its offers with their status in plain
words, posting one (a form, or a CSV upload), one offer's results and pickup, withdrawing.

Every action goes through the API's offer views (:mod:`api.offers`, via :mod:`api.pages.bridge`): a
cooperative sees only its own offers, exactly as through the API, and a bad field gets the API's
message beside it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import offers as offers_api
from api import products as products_api
from api.pages.blueprint import PAGE_ROWS, bp, form_record
from api.pages.bridge import call
from api.pages.signing import current, page_for

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


__all__ = ["offers"]
