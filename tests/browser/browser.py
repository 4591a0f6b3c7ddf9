"""Headless Chromium for the page tests: Debian's ``chromium`` driven through its ``chromedriver`` by
Selenium (the driver's path given, so Selenium Manager never downloads one), a fresh profile per
browser, and screenshots saved as test artifacts."""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: the flags Chromium needs here: as root (no sandbox), no GPU, and no calls home (the network is closed)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
#: a phone: 360 CSS px wide (a common Android size), at twice the pixels
PHONE = {"width": 360, "height": 740, "pixelRatio": 2.0, "mobile": True, "touch": True}
#: a desktop window
DESKTOP = (1280, 900)


def missing() -> str | None:
    """Why the browser cannot run here (what to do about it), or None."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if absent:
        return f"{' and '.join(absent)} missing: run `make browser` (installs Debian's chromium and chromium-driver) before the page tests"
    return None


class Browser:
    """One Chromium window and what the tests do with it. ``languages``: what the browser asks for
    (``Accept-Language``); ``phone``: a phone-sized screen (:data:`PHONE`), else :data:`DESKTOP`;
    ``javascript``: False for a browser that runs no page's script."""

    def __init__(self, base: str, artifacts: Path, name: str, *, languages: str = "zh-CN,zh", phone: bool = False, javascript: bool = True) -> None:
        self.base = base
        self.artifacts = artifacts
        self.name = name
        self.shots: list[Path] = []
        self.profile = tempfile.mkdtemp(prefix="harvest-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--lang={languages.split(',')[0]}")
        prefs: dict[str, Any] = {"intl.accept_languages": languages}
        if not javascript:  # the pages' own scripts stay off (the driver's still run)
            prefs["profile.managed_default_content_settings.javascript"] = 2
        options.add_experimental_option("prefs", prefs)
        if phone:
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
        else:
            options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
        try:
            self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(60)

    # ---- moving around -----------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base) :] if url.startswith(self.base) else url

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text.strip()

    def wait(self, what: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """``what()`` once it is true (exceptions count as not yet); TimeoutException after ``timeout``."""

        def attempt(_driver: Any) -> Any:
            try:
                return what()
            except Exception:
                return False

        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(attempt, message or f"waited {timeout} s on {self.path()}")

    def after_load(self, action: Callable[[], Any], timeout: float = 30.0) -> None:
        """Do ``action`` and return once it has loaded another page (or the same again)."""
        old = self.find("html")
        action()
        WebDriverWait(self.driver, timeout).until(staleness_of(old), f"no new page after {timeout} s on {self.path()}")
        self.wait(lambda: self.js("return document.readyState") == "complete", timeout)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def sign_in(self, key: str) -> None:
        """Sign in on the sign-in page with ``key``; returns on the role's home page."""
        self.open("/ui/signin")
        self.find("#key").send_keys(key)
        self.find("form.card button[type=submit]").click()
        self.wait(lambda: not self.path().startswith("/ui/signin"), message="sign-in did not leave the sign-in page")

    def language(self) -> str:
        return str(self.find("html").get_attribute("lang"))

    # ---- screenshots ---------------------------------------------------------------------------------

    def shot(self, label: str, *, element: str | None = None, full: bool = False) -> Path:
        """A PNG in the artifacts folder named after the test and ``label``: the window, ``element`` (a
        CSS selector) alone, or with ``full`` the whole page."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.name}--{_slug(label)}.png"
        if element is not None:
            found = self.find(element)
            self.js("arguments[0].scrollIntoView({block: 'center'})", found)
            found.screenshot(str(path))
        elif full:
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            data = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
            path.write_bytes(base64.b64decode(data))
        else:
            self.driver.save_screenshot(str(path))
        self.shots.append(path)
        return path

    def keep_failure(self) -> None:
        """The window and the page's HTML as they were when the test failed."""
        try:
            self.shot("failed", full=True)
            (self.artifacts / f"{self.name}--failed.html").write_text(self.driver.page_source)
        except Exception:  # the browser itself may be what failed
            pass

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "shot"


def chinese(message: str) -> str:
    """The pages' Chinese for an English message (their catalogue), checked to be Chinese indeed."""
    from babel.messages.pofile import read_po

    global _CATALOGUE
    if _CATALOGUE is None:
        with (Path(__file__).resolve().parents[2] / "api/pages/translations/zh/LC_MESSAGES/messages.po").open("rb") as source:
            _CATALOGUE = {str(m.id): str(m.string) for m in read_po(source) if m.id and isinstance(m.id, str)}
    found = _CATALOGUE.get(message, "")
    assert re.search(r"[\u4e00-\u9fff]", found), f"no Chinese for {message!r} in the pages' catalogue"
    return found


_CATALOGUE: dict[str, str] | None = None
