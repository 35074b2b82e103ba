"""`/v1` with the official `openai` package for Node.js (pinned with its integrity hash in
`js/package-lock.json`, installed by `npm ci`), against a live server whose engine is the fake of
OpenAI of `test_sdk.py`: the JavaScript SDK's own request building, multipart upload (chunked:
it sends no Content-Length), SSE parsing and error classes meet our answers, under gunicorn as in
production."""

import http.client
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.services import api_key_create, user_issue_tokens
from tests.factories import UserFactory
from tests.openai_api.live import live_server
from tests.openai_api.test_sdk import fake, fake_as_usual  # noqa: F401  (fixtures)
from tests.transcriptions.conftest import set_wallet
from transcriptions.models import Transcription

pytestmark = pytest.mark.django_db(transaction=True)

JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module", params=["gunicorn", "runserver"])
def server(request, django_db_setup, django_db_blocker, tmp_path_factory, fake):  # noqa: F811
    """Production's WSGI server, and the embedded default's (daphne's runserver, ASGI)."""
    with live_server(
        tmp_path_factory,
        django_db_blocker,
        gunicorn=request.param == "gunicorn",
        TRANSCRIPTION_ENGINE="openai",
        OPENAI_API_KEY="sk-upstream",
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_MAX_RETRIES="0",
        MAX_UPLOAD_MB="1",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The package installed exactly as locked (npm's own cache keeps repeat runs offline)."""
    npm = shutil.which("npm")
    assert npm, "Node.js and npm are needed (scripts/install-system-packages.sh installs them)"
    if not (JS / "node_modules" / "openai").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True, timeout=300)
    return JS / "transcribe.mjs"


def test_the_javascript_sdk_transcribes_streams_and_raises_our_errors(node_client, server, speech_wav):
    paying, broke = UserFactory(), UserFactory()
    set_wallet(paying, balance=Decimal("5.00"), demo_minutes=Decimal("0.00"))
    set_wallet(broke, balance=Decimal("0.00"), demo_minutes=Decimal("0.00"))
    paying_key, broke_key = api_key_create(user=paying, name="node").key, api_key_create(user=broke, name="node").key

    ran = subprocess.run(
        ["node", str(node_client), server.url, paying_key, broke_key, str(speech_wav)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)

    text = "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert out["models"][0] == "whisper-1"
    assert out["json"]["text"] == text
    assert out["json"]["usage"]["type"] == "duration"
    verbose = out["verbose"]
    assert (verbose["task"], verbose["text"]) == ("transcribe", text)
    assert verbose["segments"] and verbose["words"]
    assert all(word["end"] >= word["start"] for word in verbose["words"])
    types = [event["type"] for event in out["events"]]
    assert types[-1] == "transcript.text.done" and set(types[:-1]) == {"transcript.text.delta"}
    assert "".join(event["delta"] for event in out["events"][:-1]).strip() == text
    assert out["events"][-1]["text"] == text
    assert out["errors"] == {
        "bad_key": {"class": "AuthenticationError", "status": 401, "code": "invalid_api_key", "param": None},
        "unknown_model": {"class": "NotFoundError", "status": 404, "code": "model_not_found", "param": "model"},
        "missing_model": {
            "class": "BadRequestError",
            "status": 400,
            "code": "missing_required_parameter",
            "param": "model",
        },
        "no_money": {"class": "RateLimitError", "status": 429, "code": "insufficient_quota", "param": None},
    }
    jobs = Transcription.objects.filter(user=paying)
    assert [(job.source, job.status) for job in jobs] == [("openai", "completed")] * 3
    assert not Transcription.objects.filter(user=broke).exists()


def chunked_post(server, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """A POST whose body goes in 64 KiB chunks with no Content-Length, as fetch streams it."""
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=60)
    blocks = (body[start : start + 65536] for start in range(0, len(body), 65536))
    connection.request("POST", path, body=blocks, headers=headers, encode_chunked=True)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_chunked_bodies_are_read_and_limited_as_sized_ones(server, tmp_path):
    user = UserFactory()
    jwt = {"Authorization": f"Bearer {user_issue_tokens(user=user)['access']}"}
    boundary = "chunked-test"
    too_big = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + b"\0" * (3 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    created = chunked_post(
        server, "/api/api-keys/", json.dumps({"name": "chunked"}).encode(), {**jwt, "Content-Type": "application/json"}
    )
    refused = chunked_post(
        server,
        "/v1/audio/transcriptions",
        too_big,
        {**jwt, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert (created[0], created[1]["name"]) == (201, "chunked")
    assert (refused[0], refused[1]["error"]["code"]) == (413, "file_too_large")
    assert not Transcription.objects.filter(user=user).exists()
