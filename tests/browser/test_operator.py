"""The operator queues today's cycle of the demo day from the cycles page and watches it run: the
page follows the cycle in place (no reload by anyone while it runs), then shows what it did.

The cycle is the demo day's (about 570 offers, 156,000 orders, every city's tours planned), run with the
suite's configuration: the linear freight model and a small routing budget (``tests/browser/live.py``),
about half a minute on two cores.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from babel.numbers import format_decimal

from tests.browser.browser import Browser
from tests.browser.live import LiveService, today

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def state(browser: Browser) -> tuple[str, ...]:
    """What the live part of a cycle's page shows now."""
    return tuple(browser.text(css) for css in ("#cycle-status", "#cycle-stage", "#progress-stage", "#progress-text"))


def test_operator_queues_a_cycle_and_sees_it_finish(service: LiveService, open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(languages="en")
    browser.sign_in(service.keys["operator"])
    assert browser.path() == "/ui/cycles", "the operator starts on the cycles"
    date = today().isoformat()
    assert browser.find("#f-date").get_attribute("value") == date, "the form proposes today"
    if any(c["date"] == date and c["current"] for c in service.cycles()):  # the planner's test ran first
        browser.find("#f-rerun").click()
    browser.after_load(browser.find("#queue-form button[type=submit]").click)
    assert re.fullmatch(r"/ui/cycles/\d+", browser.path()), f"queueing led to {browser.path()}"
    cycle_id = int(browser.path().rsplit("/", 1)[1])
    assert f"Cycle {cycle_id} of {date} queued." in browser.text(".flash.ok")

    # a mark on this very page: any load (a reload, a navigation) wipes it
    browser.js("window.harvestSamePage = true")
    same_page = "return window.harvestSamePage === true"
    first = state(browser)
    assert browser.find("#cycle-state").get_attribute("data-status") in ("queued", "running"), first
    seen = [first]

    def moved() -> bool:
        now = state(browser)
        if now != seen[-1]:
            seen.append(now)
        return bool(browser.js(same_page)) and len(seen) > 1

    browser.wait(moved, timeout=60, message=f"the page did not follow the cycle in place: {seen}")
    progress = browser.wait(lambda: browser.find("#cycle-progress").is_displayed() and browser.js(same_page) and browser.find("#progress-bar"), timeout=60)
    assert int(progress.get_attribute("max")) >= 1
    browser.shot("running")

    # once done the page shows what the cycle did (progress.js reloads it; the test never does)
    browser.wait(lambda: browser.find("#cycle-summary"), timeout=170, message=f"cycle {cycle_id} did not finish on its page:\n{service.log_tail()}")
    assert browser.text("#cycle-status") == "done"
    cycle = service.api("GET", f"/cycles/{cycle_id}", "operator")
    assert cycle["status"] == "done" and cycle["date"] == date
    assert cycle["summary"]["allocated_kg"] > 0
    assert browser.text("#sum-kg-sold") == format_decimal(cycle["summary"]["allocated_kg"], locale="en")
    legs = [row.find_element("css selector", "td").text for row in browser.all("#plan-legs tbody tr")]
    assert legs == ["first mile", "line haul", "last mile"], legs
    assert browser.all("#books-link a")
    assert not browser.all("#progress-refresh"), "a finished cycle offers no refresh"
    browser.shot("done", full=True)
