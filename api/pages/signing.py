"""Signing in to the pages: an API key (or the key a cooperative was handed) is given once and becomes
a session cookie; every page then acts as that key, with the API's roles.

The cookie is Flask's signed session (HttpOnly, SameSite=Lax, Secure when the request came over
https) and holds the key's id and when it was signed in, never the key. It expires after
``PAGES_SESSION_HOURS`` (default 12) hours, and a key revoked meanwhile signs the page out at its next
request. Every form carries a CSRF token (Flask-WTF's), sign-in's included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from api.auth import Caller
from api.db import Database, hash_key
from api.models import ApiKey

F = TypeVar("F", bound=Callable[..., Any])


def now() -> float:
    """The time, as a POSIX timestamp (one place, so that a test can move it)."""
    return dt.datetime.now(dt.UTC).timestamp()


#: how long a sign-in lasts unless the app says otherwise (``PAGES_SESSION_HOURS``)
SESSION_HOURS = 12.0


def sign_in(key: str) -> Caller | None:
    """Start a session for ``key``: its caller, or None when the key is unknown or revoked."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key.strip()))).first()
        if row is None or row.revoked_at is not None:
            return None
        caller = Caller(row.id, row.role, row.cooperative_id, row.buyer_id)
    lang = session.get("lang")
    session.clear()  # a new session: nothing of an earlier one carries over (session fixation)
    if lang:
        session["lang"] = lang
    session["key_id"] = caller.key_id
    session["signed_in_at"] = now()
    session.permanent = True
    return caller


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def current() -> Caller | None:
    """The signed-in caller of this request (cached in ``g.page_caller``), or None: not signed in,
    expired, or the key revoked since."""
    if "page_caller" in g:
        return cast(Caller | None, g.page_caller)
    caller = None
    key_id, at = session.get("key_id"), session.get("signed_in_at")
    hours = float(current_app.config.get("PAGES_SESSION_HOURS", SESSION_HOURS))
    if key_id is not None and at is not None and now() - float(at) <= hours * 3600:
        db: Database = current_app.extensions["harvest_db"]
        with db.session() as s:
            row = s.get(ApiKey, int(key_id))
            if row is not None and row.revoked_at is None:
                caller = Caller(row.id, row.role, row.cooperative_id, row.buyer_id)
    if caller is None and key_id is not None:
        sign_out()
        g.page_expired = True
    g.page_caller = caller
    return caller


def page_for(*roles: str) -> Callable[[F], F]:
    """A page for these roles: not signed in (or expired) goes to sign-in and comes back; another role
    gets 403."""

    def wrap(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            caller = current()
            if caller is None:
                return redirect(
                    url_for(
                        "pages.signin", next=request.full_path.rstrip("?") if request.method == "GET" else None, expired=1 if g.get("page_expired") else None
                    )
                )
            if caller.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, checked)

    return wrap


def home_for(caller: Caller) -> str:
    """Where a role starts (a role whose pages this app lacks: the offers, which say what it may do)."""
    endpoint = {
        "cooperative": "pages.offers",
        "buyer": "pages.orders",
        "planner": "pages.plans",
        "operator": "pages.cycles",
    }.get(caller.role, "pages.offers")
    return endpoint if endpoint in current_app.view_functions else "pages.offers"


def safe_next(target: str | None) -> str | None:
    """A ``next`` that stays on this site's pages (no scheme, no host)."""
    if not target or not target.startswith("/ui/") or target.startswith("//") or "\\" in target:
        return None
    return target


__all__ = ["SESSION_HOURS", "current", "home_for", "page_for", "safe_next", "sign_in", "sign_out"]
