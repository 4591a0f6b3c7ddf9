"""Signing in to the pages from a test client, and the forms' CSRF tokens."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(page: TestResponse) -> str:
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def bearer_key(headers: dict[str, str]) -> str:
    """The key in a test's ``Authorization`` header."""
    return headers["Authorization"].split(" ", 1)[1]


def sign_in(client: FlaskClient, headers: dict[str, str], *, lang: str = "en") -> None:
    """Sign ``client`` in with the key of ``headers``, reading pages in ``lang``."""
    page = client.get("/ui/signin", headers={"Accept-Language": lang})
    done = client.post("/ui/signin", data={"key": bearer_key(headers), "csrf_token": token(page)})
    assert done.status_code == 302, done.get_data(as_text=True)
    if lang == "en":
        switch = client.get("/ui/signin")
        client.post("/ui/language", data={"lang": "en", "csrf_token": token(switch)})


def errors(page: TestResponse) -> dict[str, str]:
    """The error beside each field of a form (``id="e-<field>"``)."""
    return dict(re.findall(r'class="error" id="e-([^"]+)">([^<]+)<', page.get_data(as_text=True)))
