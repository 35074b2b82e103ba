"""The admin in a real browser: Debian's Chromium (`apt-get install chromium`), driven by
Playwright, against the test server (`live_server`, which also serves the admin's static files).
Playwright never downloads a browser here."""

import os
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API keeps an event loop in the test's thread; the ORM calls the tests make
# beside it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Headless, and quiet: no calls home, which this machine's closed network would refuse.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Problems:
    """Whatever went wrong in the page as a person would not see it: console errors, failed
    requests, error answers."""

    seen: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    problems = Problems()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and problems.seen.append(f"console: {message.text} at {message.location.get('url')} on {page.url}")
        ),
    )
    # A request cut short because the test moved on to the next page (`net::ERR_ABORTED`) failed nothing.
    page.on(
        "requestfailed",
        lambda request: (
            request.failure != "net::ERR_ABORTED" and problems.seen.append(f"failed: {request.url} {request.failure}")
        ),
    )
    page.on(
        "response",
        lambda response: response.status >= 400 and problems.seen.append(f"{response.status}: {response.url}"),
    )
    page.problems = problems  # type: ignore[attr-defined]
    yield page
    context.close()


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
