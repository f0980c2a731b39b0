"""Browser tests: the pages served by a live app, driven by Playwright in the machine's Chromium.

The browser is Debian's `chromium` (`scripts/ensure-chromium`, run by `make test`, installs it);
LIANBAN_CHROMIUM names another. When no browser starts, every browser test fails with the reason;
none skips. The app runs in this process on PostgreSQL (the production database), in a thread, so a
test can prepare cases through the services and then look at them in the browser.

Every page is opened in a context that refuses requests to any other host and records them: a test
fails if a page tried to load anything from outside the app, or if a page's script threw.
Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import gc
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine

from engine.persistence.db import make_engine
from engine.services import Services, accounts
from engine.services.accounts import set_password
from tests.conftest import CLERKS, FORMS, PG_URL, ROOT, _truncate

CHROMIUM = os.environ.get("LIANBAN_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-pw"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover - the dev install has it
        pytest.fail(f"Playwright is not installed ({err}); run make install")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--lang=zh-CN"]
            )
        except Exception as err:  # the reason goes into the failure, never a skip
            pytest.fail(
                f"No browser could start at {CHROMIUM} (scripts/ensure-chromium installs one): {err}"
            )
        yield launched
        launched.close()


@pytest.fixture
def live_services(pg_engine: Engine) -> Iterator[Services]:
    """Services on an emptied PostgreSQL database, calendar seeded."""
    from engine.services import calendar

    _truncate(pg_engine)
    engine = make_engine(PG_URL)
    svc = Services(engine, FORMS)
    calendar.seed(svc)
    yield svc
    engine.dispose()
    # A connection a request thread still held when the server stopped is dropped by dispose()
    # and left to the garbage collector; collected later, psycopg reports it open in whatever test
    # runs then (seen once in three full runs, never with a collection after every test). Collect
    # this test's leftovers here, at its own teardown, where they belong.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _closing(app: Any) -> Any:
    """The app, with each response's body closed even when the browser drops the connection
    mid-way (a page left for the next): werkzeug's server then leaves the body (a static file) to
    the garbage collector, which reports the open file as an error in whatever test runs next."""

    def wrapped(environ: Any, start_response: Any) -> Any:
        result = app(environ, start_response)

        def body() -> Any:
            try:
                yield from result
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        return body()

    return wrapped


class LiveServer:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        # Requests still being served are waited for, so none holds a database connection when the
        # test's engine is disposed (a connection left open is reported, as an error, when collected).
        running = getattr(self.server, "_threads", None)  # a list once a request came
        for request in list(running) if isinstance(running, list) else []:
            request.join(timeout=10)
        self.server.socket.close()


@pytest.fixture
def live(live_services: Services) -> Iterator[LiveServer]:
    from web import create_app

    app = create_app({"SERVICES": live_services, "SECRET_KEY": "browser-tests"})
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def staff(live_services: Services) -> dict[str, Any]:
    """The users of every role, each signing in with PASSWORD; value: (user, token)."""
    made: dict[str, Any] = {}
    specs = [(n, "clerk", g) for n, g in CLERKS.items()]
    specs += [("supervisor", "clerk", ["supervisors"])]
    specs += [("designer", "designer", []), ("auditor", "auditor", []), ("admin", "admin", [])]
    for name, role, groups in specs:
        made[name] = accounts.create_user(live_services, name, role, groups)
        set_password(live_services, name, PASSWORD)
    return made


class Pages:
    """Opens pages in fresh browser contexts and checks that none reached outside the app."""

    def __init__(self, browser: Any, live: LiveServer, request: pytest.FixtureRequest) -> None:
        self.browser = browser
        self.live = live
        self.host = urlsplit(live.base).netloc
        self.outside: list[str] = []
        self.script_errors: list[str] = []
        self.contexts: list[Any] = []
        self.test_name = request.node.name

    def new(self, user: str | None = None) -> Any:
        """A new page (its own cookies), signed in as `user` when given."""
        context = self.browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(10_000)
        context.route("**/*", self._guard)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda err: self.script_errors.append(f"{page.url}: {err}"))
        if user is not None:
            self.sign_in(page, user)
        return page

    def _guard(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.netloc == self.host:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def sign_in(self, page: Any, user: str) -> None:
        page.goto(self.live.url("/login"))
        page.fill("input[name=name]", user)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{user} could not sign in"

    def goto(self, page: Any, path: str) -> Any:
        response = page.goto(self.live.url(path))
        assert response is not None
        return response

    def shot(self, page: Any, name: str, full_page: bool = True) -> Path:
        """Save a screenshot of the page as test-output/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def wait_for_diagram(self, page: Any, selector: str = "[data-diagram-url]") -> Any:
        """Wait until the diagram in `selector` has loaded; fails with the reason it shows."""
        page.wait_for_function(
            "s => { const el = document.querySelector(s); return el && el.dataset.diagramStatus; }",
            arg=selector,
        )
        element = page.locator(selector)
        status = element.get_attribute("data-diagram-status")
        assert status == "ready", f"the diagram did not load: {element.inner_text()}"
        return element

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, live: LiveServer, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, live, request)
    yield opened
    opened.close()
    assert not opened.outside, f"pages tried to load from outside the app: {opened.outside}"
    assert not opened.script_errors, f"page scripts threw: {opened.script_errors}"
