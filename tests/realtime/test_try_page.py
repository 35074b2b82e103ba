"""`/try/` in a real browser (Debian's Chromium driven by Playwright) against runserver: an API key
pasted, a file uploaded and transcribed, and the microphone (Chromium's fake device playing read
speech) recorded live until the spoken words appear."""

import os
import re
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from accounts.services import api_key_create
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.speech import joined, librivox
from transcriptions.models import Transcription
from wallet.audit import wallet_audit
from wallet.models import Wallet

pytestmark = pytest.mark.django_db(transaction=True)
# Playwright's sync API keeps an event loop in the test's thread; the ORM calls beside it are plain.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with live_server(tmp_path_factory, django_db_blocker, TRANSCRIPTION_ENGINE="local") as running:
        yield running


def test_the_try_page_transcribes_a_file_and_the_microphone_live(server, tmp_path):
    user = UserFactory()
    key = api_key_create(user=user, name="browser").key
    speech = joined(tmp_path / "speech.wav", pause_seconds=1.0)
    microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech.path}",
    ]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + microphone)
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{server.url}/try/")
        page.fill("#key", key)
        page.dispatch_event("#key", "change")
        expect(page.locator("#wallet")).to_contain_text("10.00 demo minutes")

        page.set_input_files("#file", str(librivox()[1].path))
        page.click("#upload")
        expect(page.locator("#file-text")).to_contain_text(re.compile("young man", re.I), timeout=90_000)
        expect(page.locator("#progress")).to_have_attribute("value", "100")

        page.click("#record")
        expect(page.locator("#live-text")).to_contain_text(re.compile("dashwood", re.I), timeout=90_000)
        page.wait_for_timeout(2_500)  # into the next sentence: Stop while it is being said
        page.click("#stop")
        expect(page.locator("#live-status")).to_contain_text("Stopped", timeout=60_000)
        live_text = page.text_content("#live-text")
        browser.close()

    assert problems == []
    assert "dashwood" in live_text.lower()
    deadline = time.monotonic() + 180  # the audio queued behind a busy CPU is transcribed first
    while (session := Transcription.objects.get(user=user, source="realtime")).status != "completed":
        assert time.monotonic() < deadline, session.status
        time.sleep(0.2)
    assert "dashwood" in session.text.lower()
    assert live_text.split() == session.text.split()  # every word paid for was shown, the last ones too
    assert Transcription.objects.get(user=user, source="api").status == "completed"
    wallet = Wallet.objects.get(user=user)
    assert wallet.held == 0 and wallet.demo_minutes_remaining < 10
    assert wallet_audit().mismatches == []


def test_the_page_and_its_scripts_come_from_this_server_alone(client):
    page = client.get("/try/")
    script = client.get("/try/try.js")

    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["Content-Security-Policy"].startswith("default-src 'self'")
    assert 'src="/try/try.js"' in page.content.decode() and "http" not in page.content.decode().split("<body>")[0]
    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    assert client.get("/try/pcm-worklet.js").status_code == 200
    assert client.get("/try/other.js").status_code == 404
