"""Chinese (zh-CN) by default, English from the switch on every page (kept for the session), and
English from the start for a browser that asks for it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser.browser import Browser, chinese
from tests.browser.live import LiveService

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def labels(browser: Browser) -> dict[str, str]:
    """The offers page's heading, its form's first labels and its button."""
    return {
        "h1": browser.text("h1"),
        "product": browser.text("label[for=f-product]"),
        "quantity": browser.text("label[for=f-quantity_kg]"),
        "post": browser.text("form[action='/ui/offers'] button[type=submit]"),
    }


#: what a Chinese page may show untranslated: names, not words
NAMES = {"harvestmatch", "English", "中文", "CSV"}
#: what a page says in words: headings, labels, buttons, links of the menu, hints
WORDED = "h1, h2, h3, label, button, nav a, summary, th, small, .hint, .flash, p"


def untranslated(browser: Browser) -> list[str]:
    """The visible words on the page with no Chinese in them (names and codes aside)."""
    found = []
    for element in browser.all(WORDED):
        text = element.text.strip()
        if not text or not element.is_displayed() or text in NAMES or re.search(r"[\u4e00-\u9fff]", text):
            continue
        if re.search(r"[A-Za-z]{3,}", text) and not re.fullmatch(r"[\w.:·@/ -]*\d[\w.:·@/ -]*|[a-z_]+", text):  # ids, numbers, codes
            found.append(text)
    return found


ENGLISH = {"h1": "Offers", "product": "Product", "quantity": "Quantity (kg)", "post": "Post the offer"}


def switch(browser: Browser, lang: str) -> None:
    """Choose ``lang`` in the header's language form and send it; returns on the same page, reloaded."""
    before = browser.path()
    Select(browser.find("#lang")).select_by_value(lang)
    browser.after_load(browser.find("form[action='/ui/language'] button[type=submit]").click)
    assert browser.path() == before, "the switch comes back to the same page"


def test_chinese_by_default_and_the_switch_shows_english(service: LiveService, open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(languages="fr")  # neither language of the pages: the default, Chinese
    browser.open("/ui/signin")
    assert browser.language() == "zh-CN"
    assert browser.text("h1") == chinese("Sign in")
    assert browser.text("label[for=key]") == chinese("API key")
    browser.sign_in(service.keys["cooperative"])
    assert browser.language() == "zh-CN"
    chinese_labels = {key: chinese(english) for key, english in ENGLISH.items()}
    assert labels(browser) == chinese_labels
    english = untranslated(browser)
    assert not english, f"English words on the Chinese offers page: {english}"
    browser.shot("chinese")

    switch(browser, "en")
    assert browser.language() == "en"
    assert labels(browser) == ENGLISH
    assert Select(browser.find("#lang")).first_selected_option.text == "English"
    browser.shot("english")
    browser.open("/ui/offers?status=open")  # the choice lasts for the session, page after page
    assert browser.language() == "en" and labels(browser) == ENGLISH

    switch(browser, "zh_CN")
    assert browser.language() == "zh-CN"
    assert labels(browser) == chinese_labels


def test_an_english_browser_gets_english(service: LiveService, open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(languages="en-GB,en")
    browser.open("/ui/signin")
    assert browser.language() == "en"
    assert browser.text("h1") == "Sign in"
    assert browser.text("label[for=key]") == "API key"
