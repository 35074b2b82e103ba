"""The admin in a real browser: Debian's Chromium (`apt-get install chromium`), driven by
Playwright, against the test server (`live_server`, which also serves the admin's static files).
Playwright never downloads a browser here."""

import os
from dataclasses import dataclass, field

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from playwright.sync_api import Browser, Page, sync_playwright

from accounts.models import User

# Fixtures of the other tests, for the actions that need them: Razorpay mocked at the HTTP layer,
# real audio, and a local fake of OpenAI's API.
from tests.payments.conftest import razorpay_api, razorpay_keys  # noqa: F401
from tests.transcriptions.conftest import (  # noqa: F401
    audio_dir,
    fake_openai,
    make_audio_file,
    ninety_seconds_wav,
    phrase_wav,
    speech_wav,
)

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


# Stopped once this package's tests are done: while it runs, Playwright's sync API keeps an event
# loop running in the main thread, where later tests' `asyncio.run` would refuse to start.
@pytest.fixture(scope="package")
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


ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "pw-admin-browser-1"


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def action_names(page: Page, changelist: str) -> set[str]:
    """The actions a list offers the signed-in user."""
    page.goto(changelist)
    return set(page.eval_on_selector_all("select[name=action] option", "options => options.map(o => o.value)")) - {""}


def run_action(page: Page, changelist: str, pk: object, action: str, **fields: str) -> str:
    """Run `action` on one row of a list as an admin does: tick its box, choose the action, fill its
    confirmation form (`reason=...` fills `#id_reason`), apply. Returns the messages shown, after
    checking none of them is an error."""
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("input[name=apply]")
    messages = (page.text_content(".messagelist") or "").strip()
    assert page.locator(".messagelist .error").count() == 0, messages
    return messages


def logged(obj: Model) -> list[str]:
    """What the admin log says was done to `obj`, oldest first."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
    return [entry.get_change_message() for entry in entries.order_by("pk")]
