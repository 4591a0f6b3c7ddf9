"""The pages without JavaScript: signing in, the forms, the lists and the tables are plain HTML; the
location picker stays hidden (latitude and longitude are typed), and a plan's map says it needs a
script while the table and the timeline below it list the same tours."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from api.pages.blueprint import PAGE_ROWS
from tests.browser.browser import Browser
from tests.browser.live import LiveService, today

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_cooperative_posts_an_offer_without_javascript(service: LiveService, open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(languages="en", javascript=False)
    browser.sign_in(service.keys["cooperative"])
    assert browser.path() == "/ui/offers"
    assert not browser.find("#location-pick").is_displayed(), "the map picker needs a script: hidden without one"
    reference = f"plain-{uuid.uuid4().hex[:8]}"
    Select(browser.find("#f-product")).select_by_value("potato")
    for name, value in (
        ("quantity_kg", "800"),
        ("ask_per_kg", "1.5"),
        ("shelf_life_days", "60"),
        ("lat", "36.06"),
        ("lon", "103.83"),
        ("reference", reference),
    ):
        browser.find(f"#f-{name}").send_keys(value)
    browser.find("#f-ready_date").send_keys(today().strftime("%m%d%Y"))
    browser.after_load(browser.find("form[action='/ui/offers'] button[type=submit]").click)
    assert browser.path().startswith("/ui/offers/"), browser.text("main")
    assert reference in browser.text("main")


def test_a_plan_without_javascript(service: LiveService, planned_cycle: dict[str, Any], open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(languages="en", javascript=False)
    browser.sign_in(service.keys["planner"])
    cycle_id = planned_cycle["id"]
    browser.open(f"/ui/plans/{cycle_id}/line_haul")
    assert "The map needs JavaScript; the table below lists the same tours." in browser.text("main")
    assert not browser.all("#plan-map .leaflet-container, #plan-map path"), "no map is drawn without a script"
    tours = service.routes(cycle_id, "line_haul")
    rows = browser.all("#tours tbody tr.tour")
    assert len(rows) == min(PAGE_ROWS, len(tours)) and len(rows) > 0
    assert len(browser.all("#timeline .tl-bar")) == len(rows), "the timeline is drawn by the server"
    if len(tours) > PAGE_ROWS:
        browser.after_load(browser.find("a[rel=next]").click)
        assert browser.all("#tours tbody tr.tour"), "the next tours are a link away"
