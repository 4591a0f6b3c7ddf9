"""The product catalogue: the operator sets it, everyone reads it; offers and orders naming another
product are refused (as ``harvest match --products`` refuses them).

``PUT /products`` replaces the catalogue with a JSON array of names, ``{"products": [...]}``, or a CSV
with a ``product`` column. A product that an open offer or a pending order still names cannot be
dropped (409, naming them).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import delete, select

from api.auth import requires
from api.db import Database
from api.errors import ApiError
from api.models import Offer, Order, Product
from api.requests import invalid, json_body, table_body
from harvestmatch.errors import InputError
from matcher.schemas import PRODUCTS, parse_records

bp = Blueprint("products", __name__, url_prefix="/products")


@bp.put("")
@requires("operator")
def replace() -> Response:
    if request.mimetype == "application/json":
        data = json_body()
        names = data.get("products") if isinstance(data, dict) and set(data) == {"products"} else data
        if not isinstance(names, list):
            raise ApiError(422, "Invalid request body", 'expected an array of product names, or {"products": [...]}')
        try:
            frame = parse_records([{"product": n} for n in names], PRODUCTS, source="body", key="product")
        except InputError as exc:
            raise invalid(exc, False) from None
    else:
        frame, _ = table_body(PRODUCTS, what="product")
    wanted = sorted(set(frame["product"].to_list()))
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        # delete first: it waits for offers and orders being posted with these products (they hold
        # them, see lock_products), so the check below sees every one of them
        session.execute(delete(Product).where(Product.product.not_in(wanted)))
        today = dt.datetime.now(dt.UTC).date()  # an offer expired for good names nothing any more
        named = set(session.scalars(select(Offer.product).where(Offer.status == "open", Offer.expires_on >= today).distinct()))
        named |= set(session.scalars(select(Order.product).where(Order.status == "pending").distinct()))
        dropped = sorted(named - set(wanted))
        if dropped:  # the transaction rolls back: the catalogue stays as it was
            raise ApiError(409, "Conflict", f"open offers or pending orders still name {', '.join(map(repr, dropped[:20]))}; keep them in the catalogue")
        kept = set(session.scalars(select(Product.product)))
        session.add_all([Product(product=p) for p in wanted if p not in kept])
    return jsonify({"products": wanted})


@bp.get("")
@requires("cooperative", "buyer", "planner", "operator")
def read_all() -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        names = sorted(session.scalars(select(Product.product)))
    return jsonify({"products": names})
