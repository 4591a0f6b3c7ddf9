"""The pages call the API's own view functions, in-process: the same checks, rules, isolation and
messages, with the signed-in key as the caller (not over HTTP, and not a second copy of the rules).

:func:`call` runs a view behind its ``requires`` check (the page has checked the role already) in a
request context of its own, carrying the body or query the page built from its form, and turns what
it raised into the API's problem details through the app's own error handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import Response, current_app, g

from api.auth import Caller


@dataclass
class Answer:
    """A view's answer: its status and its JSON body (problem details on errors; None for CSV etc.),
    parsed only when a page reads it (a large GeoJSON a page passes on is never parsed)."""

    status: int
    response: Response

    @cached_property
    def body(self) -> Any:
        return self.response.get_json(silent=True)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def errors(self) -> dict[str, str]:
        """Field (the last part of a problem's path, else ``_``) -> the API's message, for the form."""
        if self.ok or not isinstance(self.body, dict):
            return {}
        found: dict[str, str] = {}
        for e in self.body.get("errors") or []:
            path = str(e.get("path") or "_")
            field = path.rsplit("/", 1)[-1] if "/" in path else path
            found.setdefault(field, str(e.get("message", "")))
        if not found:
            found["_"] = str(self.body.get("detail") or self.body.get("title") or "")
        return found

    def message(self) -> str:
        """The problem in one line: its detail, else its title."""
        if self.ok or not isinstance(self.body, dict):
            return ""
        return str(self.body.get("detail") or self.body.get("title") or "")


def call(
    view: Callable[..., Any],
    caller: Caller,
    *,
    path: str = "/",
    method: str = "GET",
    args: dict[str, Any] | None = None,
    json: Any = None,
    data: bytes | str | None = None,
    content_type: str | None = None,
    **kwargs: Any,
) -> Answer:
    """Run the API view ``view`` (a function behind ``@requires``) for ``caller``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    inner = getattr(view, "__wrapped__", view)
    context: dict[str, Any] = {"method": method, "query_string": {k: v for k, v in (args or {}).items() if v not in (None, "")}}
    if json is not None:
        context["json"] = json
    elif data is not None:
        context["data"] = data
        context["content_type"] = content_type
    with app.test_request_context(path, **context):
        g.caller = caller
        try:
            response = app.make_response(inner(**kwargs))
        except Exception as exc:  # the API's own handlers make its problem details
            response = app.make_response(app.handle_user_exception(exc))
    return Answer(response.status_code, response)


__all__ = ["Answer", "call"]
