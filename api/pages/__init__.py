"""The pages: cooperatives, buyers (group leaders), planners and the operator, in a browser (docs/pages.md).

The pages live in the service's own Flask app under ``/ui``. They sign in with an API key once
(:mod:`api.pages.signing`), and every page acts through the API's own view functions
(:mod:`api.pages.bridge`): the same roles, isolation, checks and messages. Chinese (zh-CN) and English,
from the browser's ``Accept-Language`` or the switch on every page (Flask-Babel; numbers, money and
dates in the reader's format). Leaflet is served from the app's own files (xstatic-leaflet): no CDN.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, redirect, render_template, request, send_from_directory, session, url_for
from flask.sessions import SecureCookieSessionInterface

from api.pages.blueprint import bp
from api.pages.signing import SESSION_HOURS, current, home_for, safe_next, sign_in, sign_out

#: the languages of the pages, the first the default
LANGUAGES = ("zh_CN", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


class _SecureWhenHttps(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over https (or the app says always)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (request.is_secure if _has_request() else False)


def _has_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def init_app(app: Flask) -> None:
    """Set the app up for the pages: its secret, the session cookie, languages, CSRF, the blueprint."""
    from flask_babel import Babel, get_locale
    from flask_wtf.csrf import CSRFError, CSRFProtect

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret(app)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "harvest_session"
    app.config.setdefault("PAGES_SESSION_HOURS", SESSION_HOURS)
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=float(app.config["PAGES_SESSION_HOURS"]))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    app.session_interface = _SecureWhenHttps()
    _compile_translations()
    Babel(app, locale_selector=_locale, default_translation_directories=str(TRANSLATIONS))
    csrf = CSRFProtect()
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)
    for name, blueprint in app.blueprints.items():  # the API authenticates by key, not by cookie: no CSRF there
        if name != "pages":
            csrf.exempt(blueprint)
    from api.pages import (  # noqa: F401  (their views join the blueprint)
        buyer,
        cooperative,
        operator,
        planner,
    )
    from api.pages.formats import register

    register(app)

    app.register_blueprint(bp)
    app.add_url_rule("/", "pages_root", lambda: redirect(url_for("pages.home")))
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale


def _secret(app: Flask) -> str:
    """``HARVEST_SECRET_KEY``, else a random secret kept in the data folder (so that every process of
    one service signs cookies alike, and a restart keeps sessions), else one for this process."""
    given = os.environ.get("HARVEST_SECRET_KEY")
    if given:
        return given
    folder = os.environ.get("HARVEST_DATA_DIR")
    if folder:
        path = Path(folder) / "secret_key"
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(32))
            return path.read_text().strip()
        except (FileExistsError, OSError):
            if path.exists():
                return path.read_text().strip()
    app.logger.warning("no HARVEST_SECRET_KEY or HARVEST_DATA_DIR: page sessions end when this process does")
    return secrets.token_hex(32)


def _compile_translations() -> None:
    """Each catalogue's ``.mo`` from its ``.po`` when missing or older (Babel's own compiler)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        tmp = mo.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return "en" if best == "en" else "zh_CN"


# ---- the pages every role shares -------------------------------------------------------------------


@bp.app_template_global()
def signed_in() -> Any:
    return current()


@bp.get("/")
def home() -> Any:
    caller = current()
    if caller is None:
        return redirect(url_for("pages.signin"))
    return redirect(url_for(home_for(caller)))


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    error = None
    if request.method == "POST":
        caller = sign_in(request.form.get("key", ""))
        if caller is not None:
            return redirect(safe_next(request.args.get("next")) or url_for(home_for(caller)))
        error = "unknown or revoked key"
    status = 401 if error else 200
    return render_template("signin.html", error=error, expired=request.args.get("expired") == "1"), status


@bp.post("/signout")
def signout() -> Any:
    sign_out()
    return redirect(url_for("pages.signin"))


@bp.post("/language")
def language() -> Any:
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("pages.home"))


@bp.get("/leaflet/<path:name>")
def leaflet(name: str) -> Response:
    """Leaflet's own files, from the xstatic package (no CDN)."""
    from xstatic.pkg import leaflet as package

    return send_from_directory(package.BASE_DIR, name, max_age=86400)


def _csrf_refused(exc: Any) -> Any:
    """A form without a valid CSRF token: refused, nothing done (400)."""
    return render_template("error.html", status=400, detail=exc.description), 400


@bp.errorhandler(403)
def _forbidden(exc: Any) -> Any:
    return render_template("error.html", status=403, detail=""), 403


@bp.errorhandler(404)
def _missing(exc: Any) -> Any:
    return render_template("error.html", status=404, detail=""), 404


__all__ = ["LANGUAGES", "bp", "init_app"]
