"""The pages in a real browser: headless Chromium (Debian's, ``make browser``) against ``harvest serve``
started as its own process over the demo day (:mod:`tests.browser.live`).

Every test leaves screenshots in ``test-artifacts/browser/`` (git-ignored): those it takes, the page
as it ended, and on a failure the page as it was then with its HTML. Without Chromium the tests fail
with the message to run ``make browser``: they are part of ``make test`` (marked ``slow`` and
``browser``; ``make check`` leaves them out).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.browser import Browser, missing
from tests.browser.live import LiveService, start_service, today


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: the pages in headless Chromium against a live service (make browser installs it)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)  # the browser fixture keeps a failure's page
    return report


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where the screenshots go (``test-artifacts/browser/`` of the repository)."""
    folder = request.config.rootpath / "test-artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session", autouse=True)
def chromium() -> None:
    """Chromium and its driver are there, or every test fails saying how to install them (never a skip)."""
    why = missing()
    if why:
        pytest.fail(why, pytrace=False)


@pytest.fixture(scope="session")
def demo_inputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo day's input files, built once and kept in pytest's cache (``.pytest_cache/d/``) for
    later runs (rebuilt when the demo's version changes)."""
    from harvest.demo.day import build_demo_inputs

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("harvest-demo-input") if cache is not None else tmp_path_factory.mktemp("demo-input")
    return dict(build_demo_inputs(folder))


@pytest.fixture(scope="session")
def service(demo_inputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[LiveService]:
    """``harvest serve`` over the demo day (dated today), for the whole session; its log is kept with the
    screenshots."""
    live = start_service(tmp_path_factory.mktemp("service"), demo_inputs)
    try:
        yield live
    finally:
        live.stop()
        shutil.copyfile(live.log, artifacts / "service.log")


@pytest.fixture
def open_browser(request: pytest.FixtureRequest, service: LiveService, artifacts: Path) -> Iterator[Callable[..., Browser]]:
    """``open_browser(languages=..., phone=...)``: a new Chromium on the service. Each is screenshot
    when the test ends (the whole page), or on a failure kept with its HTML, then closed."""
    opened: list[Browser] = []
    test = request.node.name.removeprefix("test_")
    for earlier in (*artifacts.glob(f"{test}--*"), *artifacts.glob(f"{test}-[0-9]--*")):  # an earlier run's, a failure's among them
        earlier.unlink()

    def make(**kwargs: Any) -> Browser:
        browser = Browser(service.base, artifacts, test if not opened else f"{test}-{len(opened) + 1}", **kwargs)
        opened.append(browser)
        return browser

    yield make
    failed = any(getattr(request.node, f"report_{when}", None) is not None and getattr(request.node, f"report_{when}").failed for when in ("setup", "call"))
    for browser in opened:
        try:
            if failed:
                browser.keep_failure()
            else:
                browser.shot("end", full=True)
        finally:
            browser.close()


@pytest.fixture(scope="session")
def planned_cycle(service: LiveService) -> dict[str, Any]:
    """Today's cycle of the demo day, done, with its plan: the one the operator's test queued when it
    ran first, else one queued here through the API."""
    date = today().isoformat()
    for cycle in service.cycles():
        if cycle["date"] == date and cycle["status"] in ("queued", "running"):
            cycle = service.wait_cycle(cycle["id"])
        if cycle["date"] == date and cycle["status"] == "done" and cycle["current"]:
            return dict(service.api("GET", f"/cycles/{cycle['id']}", "operator"))
    queued = service.api("POST", "/cycles", "operator", {"date": date})
    cycle = service.wait_cycle(queued["id"])
    assert cycle["status"] == "done", cycle["reason"]
    return cycle
