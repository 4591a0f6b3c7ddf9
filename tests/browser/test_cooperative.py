"""A cooperative on a phone: signs in with its key, posts an offer through the form (a bad field first,
answered beside the field; the place from a tap on the region map, then typed), and finds the offer in
its list."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser.browser import Browser, chinese
from tests.browser.live import LiveService, today

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_cooperative_posts_an_offer_on_a_phone(service: LiveService, open_browser: Callable[..., Browser]) -> None:
    phone = open_browser(phone=True)  # a Chinese phone: 360 CSS px wide, asking for zh-CN
    phone.sign_in(service.keys["cooperative"])
    assert phone.path() == "/ui/offers", "a cooperative starts on its offers"
    assert phone.language() == "zh-CN"
    assert phone.js("return window.innerWidth") == 360
    assert phone.js("return document.documentElement.scrollWidth <= window.innerWidth"), "the offers page scrolls sideways on a phone"
    assert phone.text("h1") == chinese("Offers")

    reference = f"phone-{uuid.uuid4().hex[:8]}"
    Select(phone.find("#f-product")).select_by_value("apple")
    Select(phone.find("#f-grade")).select_by_value("B")
    phone.find("#f-quantity_kg").send_keys("1200")
    phone.find("#f-ask_per_kg").send_keys("4.2")
    # a date field's typing order follows the browser's locale; its value is the same ISO date whatever it shows
    phone.js("arguments[0].value = arguments[1]", phone.find("#f-ready_date"), today().isoformat())
    phone.find("#f-shelf_life_days").send_keys("30")
    # the place: a tap on the region map fills latitude and longitude; typing them is the other way
    picker = phone.wait(lambda: phone.find("#location-map[data-state=ready]"), 30, "the region map of the form was not drawn")
    phone.js("arguments[0].scrollIntoView({block: 'center'})", picker)
    picker.click()
    picked = phone.wait(lambda: (float(phone.find("#f-lat").get_attribute("value") or ""), float(phone.find("#f-lon").get_attribute("value") or "")))
    assert 18 < picked[0] < 54 and 73 < picked[1] < 136, f"the middle of the map of China is at {picked}"
    assert phone.text("#location-region"), "the map says which place it took"
    for name, value in (("lat", "34.26"), ("lon", "108.94")):
        phone.find(f"#f-{name}").clear()
        phone.find(f"#f-{name}").send_keys(value)
    phone.find("#f-reference").send_keys(reference)
    phone.js("window.scrollTo(0, 0)")
    phone.shot("form-filled")  # the phone's first screen (README.md shows it)

    # a slip first: the API's message comes back beside the field, and the form keeps the rest
    quantity = phone.find("#f-quantity_kg")
    quantity.clear()
    quantity.send_keys("-5")
    phone.find("form[action='/ui/offers'] button[type=submit]").click()

    phone.wait(lambda: phone.find("#e-quantity_kg").is_displayed(), message="no message beside the quantity")
    assert phone.find("#f-quantity_kg").get_attribute("aria-invalid") == "true"
    assert phone.text("#e-quantity_kg")
    assert phone.find("#f-reference").get_attribute("value") == reference, "the form keeps what was typed"
    assert not phone.all("#e-ask_per_kg") and not phone.all("#e-lat")
    phone.shot("form-refused", full=True)

    quantity = phone.find("#f-quantity_kg")
    quantity.clear()
    quantity.send_keys("1200")
    phone.find("form[action='/ui/offers'] button[type=submit]").click()
    phone.wait(lambda: phone.path().startswith("/ui/offers/"), message="posting did not open the offer")
    offer_id = phone.path().rsplit("/", 1)[1]
    assert phone.text(".flash.ok") == chinese("Offer %(id)s posted.").replace("%(id)s", offer_id)

    phone.open("/ui/offers")
    rows = [r for r in phone.all("table.stack tbody tr") if reference in r.text]
    assert len(rows) == 1, f"offer {reference} is not in the list"
    cells = {c.get_attribute("data-label"): c.text.strip() for c in rows[0].find_elements("css selector", "td")}
    assert cells[chinese("Product")] == "apple · B"
    assert cells[chinese("Offered kg")] == "1,200"
    assert cells[chinese("Status")] == chinese("open")
    assert phone.js("return document.documentElement.scrollWidth <= window.innerWidth"), "the list scrolls sideways on a phone"
    mine = service.api("GET", f"/offers/{offer_id}", "cooperative")
    assert (mine["reference"], mine["quantity_kg"], mine["grade"], mine["cooperative_id"]) == (reference, 1200, "B", "coop-browser")
    phone.js("arguments[0].scrollIntoView()", rows[0])
    phone.shot("offer-listed")
