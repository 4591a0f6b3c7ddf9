"""The planner's map of a demo-sized cycle: one drawn line per tour, leg by leg, as many as the API
gives for that cycle and leg; choosing a line numbers its stops.

The cycle is the demo day's (572 offers, 156,200 orders in 370 cities, dated today), loaded straight
into the service's database and run once with its transport plan (``planned_cycle``: the operator's
test's cycle when it ran first). To fit the suite's time it runs with the linear freight model (one
match, no rounds of match and route) and a routing budget of 30 iterations per problem
(``tests/browser/live.py``), about half a minute; its legs have hundreds to some two thousand tours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser.browser import Browser
from tests.browser.live import LiveService

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LEGS = ("first_mile", "line_haul", "last_mile")


def drawn(browser: Browser, timeout: float = 60) -> int:
    """The number of tour lines on the map once it says it is drawn."""
    state = browser.wait(lambda: browser.find("#plan-map").get_attribute("data-state") in ("ready", "failed") and browser.find("#plan-map"), timeout)
    assert state.get_attribute("data-state") == "ready", "the map could not draw its tours"
    return len(browser.all("#plan-map path.tour-line"))


def test_planner_map_draws_every_tour(service: LiveService, planned_cycle: dict[str, Any], open_browser: Callable[..., Browser]) -> None:
    cycle_id = planned_cycle["id"]
    browser = open_browser(languages="en")
    browser.sign_in(service.keys["planner"])
    assert browser.path() == "/ui/plans", "a planner starts on the plans"
    Select(browser.find("#f-cycle")).select_by_value(str(cycle_id))
    Select(browser.find("#f-leg")).select_by_value("line_haul")
    browser.after_load(browser.find("#plan-chooser button[type=submit]").click)
    assert browser.path() == f"/ui/plans/{cycle_id}/line_haul"

    counted = {}
    for leg in ("line_haul", "first_mile", "last_mile"):
        if not browser.path().startswith(f"/ui/plans/{cycle_id}/{leg}"):
            browser.after_load(browser.find(f"nav.legs a[href$='/{leg}']").click)
        tours = service.routes(cycle_id, leg)
        lines = drawn(browser)
        counted[leg] = (lines, len(tours))
        assert lines == len(tours) > 0, f"{leg}: {lines} lines drawn for {len(tours)} tours"
        assert browser.find("#plan-map").get_attribute("data-tours") == str(len(tours))
        drawn_ids = {p.get_attribute("data-route-id") for p in browser.all("#plan-map path.tour-line")}
        assert drawn_ids == {t["properties"]["route_id"] for t in tours}, f"{leg}: the lines are not the API's tours"
        browser.wait(lambda: browser.all("#plan-map .leaflet-regions-pane canvas"), 30, "the regions were not drawn beneath the tours")
        browser.shot(f"map-{leg}", element="#plan-map")
        if leg == "line_haul":
            choose_a_line(browser, {t["properties"]["route_id"]: t for t in tours})
    assert set(counted) == set(LEGS)


def choose_a_line(browser: Browser, tours: dict[str, dict[str, Any]]) -> None:
    """Choosing the line of the tour with most stops opens its popup and numbers its stops in order."""
    route_id = max(tours, key=lambda r: (tours[r]["properties"]["stops"], r))
    line = browser.find(f"#plan-map path.tour-line[data-route-id='{route_id}']")
    browser.js("arguments[0].scrollIntoView({block: 'center'})", browser.find("#plan-map"))
    # a click on the line itself (an SVG path's box holds more than the line: a pointer click there may miss it)
    browser.js(
        "var box = arguments[0].getBoundingClientRect();"
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2}))",
        line,
    )
    numbers = browser.wait(lambda: browser.all("#plan-map .stop-number"), 10, "choosing a line numbered no stops")
    assert [n.get_attribute("textContent") for n in numbers] == [str(k) for k in range(1, tours[route_id]["properties"]["stops"] + 1)]
    popup = browser.text("#plan-map .leaflet-popup-content")
    assert re.search(rf"\b{re.escape(route_id)}\b", popup), popup
    browser.shot("map-line_haul-chosen", element="#plan-map")
