"""The words the pages show for the API's codes (statuses, reasons, roles), in plain language, so that
the catalogue holds them (``pybabel extract``) and every page says them the same way: ``_(code)`` in a
template looks the code up in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: code -> plain words (English; zh-CN in translations/zh)
WORDS = {
    # offers
    "open": _l("open"),
    "sold_out": _l("sold out"),
    "withdrawn": _l("withdrawn"),
    # an offer's result in a cycle
    "sold": _l("sold"),
    "partly_sold": _l("partly sold"),
    "no_feasible_lane": _l("no buyer region it can reach in time"),
    "not_profitable": _l("no buyer pays its asking price plus freight"),
    "outbid": _l("other offers were cheaper for the buyers"),
    "not_ready": _l("not ready on the cycle date"),
    "expired": _l("past its shelf life"),
    "not_routable": _l("no truck can collect or deliver it in time"),
    # cycles: status, stage, the progress's stage, the freight model
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "matching": _l("matching"),
    "planning": _l("planning routes"),
    "writing": _l("writing the results"),
    "products": _l("products solved"),
    "routing problems": _l("routing problems solved"),
    "trucks": _l("priced from the trucks' tours"),
    "linear": _l("linear per kg and km"),
    # a plan and its legs
    "served": _l("everything routed"),
    "partial": _l("partly routed"),
    "off": _l("not planned"),
    "none": _l("no plan"),
    "first_mile": _l("first mile"),
    "line_haul": _l("line haul"),
    "last_mile": _l("last mile"),
    # why a stop is not on a tour (matcher.routing)
    "no vehicle can reach it from its depot before its due time": _l("no vehicle can reach it from its depot before its due time"),
    "a round trip to it from the depot does not fit in any vehicle's shift (max_duration_min)": _l(
        "a round trip to it from the depot does not fit in any vehicle's shift"
    ),
    "no vehicle left: the fleet's count cannot take every stop within capacities, windows and shifts": _l(
        "no vehicle left: the fleet cannot take every stop within its capacities, time windows and shifts"
    ),
    "the search found no plan that keeps every capacity, window and shift": _l("the search found no plan that keeps every capacity, time window and shift"),
    "no vehicle of the fleet is based at this problem's depots (every row names another depot)": _l("no vehicle of the fleet is based at this depot"),
    "no warehouse among the nearest has room left for it (capacity_kg)": _l("no warehouse among the nearest has room left for it"),
    # claims: status, decision, reason, remedy, who bears a refund
    "needs_evidence": _l("needs evidence"),
    "awaiting_return": _l("awaiting the return"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "unreasonable": _l("unreasonable"),
    "quality": _l("quality"),
    "damaged": _l("damaged"),
    "short_weight": _l("short weight"),
    "late": _l("late"),
    "not_received": _l("not received"),
    "refund_only": _l("refund only"),
    "return": _l("return"),
    "freight": _l("freight"),
    "protection_fund": _l("protection fund"),
    # how a claim was decided: its rule, and who decided
    "instant_refund_only": _l("instant refund"),
    "evidence_required": _l("evidence required"),
    "return_required": _l("the goods must come back"),
    "evidence_given": _l("evidence given"),
    "rules": _l("the rules"),
    # orders and their fills (``order:`` codes: an order's own words where the offer's differ)
    "order:pending": _l("waiting for a cycle"),
    "order:filled": _l("filled"),
    "order:partly_filled": _l("partly filled"),
    "order:unfilled": _l("not filled"),
    "order:rejected": _l("outside every region"),
    "order:cancelled": _l("cancelled"),
    "order:expired": _l("past its due date"),
    "order:due_date_passed": _l("its due date passed"),
    "order:no_feasible_lane": _l("no offer can reach its region in time"),
    "order:not_profitable": _l("no offer's price plus freight is within its price"),
    "order:outbid": _l("other orders paid more for the supply"),
    # the books' parties (the others are roles)
    "platform": _l("platform"),
    # roles
    "cooperative": _l("cooperative"),
    "buyer": _l("buyer"),
    "planner": _l("planner"),
    "operator": _l("operator"),
}


def word(code: object) -> str:
    """The plain words for an API code in the page's language (the code itself if it has none)."""
    if code is None:
        return ""
    found = WORDS.get(str(code))
    return str(found) if found is not None else str(code)


__all__ = ["WORDS", "word"]
