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
