"""The SPA's whole journey through a client generated from the live schema, as a frontend team
would build it (openapi-python-client; openapi-typescript and orval read the same schema).

Every answer must have a status the schema declares for its operation (the client raises on any
other) and a body that parses into the declared model: `Error` with a `code` for every error.
`prod_check.py` runs it against the production stack.
"""

import importlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import requests

from tests.payments.fakes import checkout_signature

Step = Callable[..., None]


def generate_client(base: str, workdir: Path) -> ModuleType:
    schema = workdir / "schema.json"
    schema.write_bytes(requests.get(f"{base}/api/schema/?format=json", timeout=10).content)
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [generator, "generate", "--path", schema, "--meta", "none", "--output-path", workdir / "api_client"],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(workdir))
    return importlib.import_module("api_client")


def _api(name: str) -> ModuleType:
    return importlib.import_module(f"api_client.api.{name}")


def api_key_journey(base: str, signed_in: object, expect: Callable[..., object], step: Step) -> None:
    """An API key made with the JWT, used as the user, refused on key management, revoked at once."""
    client_module = importlib.import_module("api_client")
    models = importlib.import_module("api_client.models")
    created = expect(
        "make an API key",
        _api("api_keys.api_keys_create").sync_detailed(
            client=signed_in, body=models.ApiKeyCreateInputRequest(name="journey")
        ),
        201,
        models.ApiKeyCreatedOutput,
    )
    step("client: an API key is sk-…", created.key.startswith("sk-") and created.prefix == created.key[:11])
    with_key = client_module.AuthenticatedClient(base_url=base, token=created.key, raise_on_unexpected_status=True)
    expect("wallet with the API key", _api("wallet.wallet_details").sync_detailed(client=with_key), 200)
    expect(
        "403 key management with an API key",
        _api("api_keys.api_keys_list").sync_detailed(client=with_key),
        403,
        code="api_key_not_allowed",
    )
    listed = expect(
        "API keys",
        _api("api_keys.api_keys_list").sync_detailed(client=signed_in),
        200,
        models.PaginatedApiKeyOutputList,
    )
    step("client: listed, without the key", [key.id for key in listed.results] == [created.id])
    expect("revoke the API key", _api("api_keys.api_keys_destroy").sync_detailed(client=signed_in, id=created.id), 204)
    expect(
        "401 with the revoked key",
        _api("wallet.wallet_details").sync_detailed(client=with_key),
        401,
        code="invalid_api_key",
    )


def run_journey(base: str, token: str, audio: Path, step: Step) -> None:
    client_module = importlib.import_module("api_client")
    models = importlib.import_module("api_client.models")
    types = importlib.import_module("api_client.types")
    signed_in = client_module.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    anonymous = client_module.Client(base_url=base, raise_on_unexpected_status=True)

    def expect(name: str, response, status: int, model: type | None = None, code: str | None = None) -> object:
        parsed = response.parsed
        ok = response.status_code == status
        if code is not None:
            ok = ok and isinstance(parsed, models.Error) and parsed.code == code
        elif model is not None:
            ok = ok and isinstance(parsed, model)
        step(f"client: {name}", ok, f"{response.status_code} {type(parsed).__name__}")
        return parsed

    user = _api("auth.auth_user").sync_detailed(client=signed_in)
    expect("who am I", user, 200, models.UserOutput)
    wallet = _api("wallet.wallet_details").sync_detailed(client=signed_in)
    expect("wallet", wallet, 200, models.WalletDetailsOutput)

    order = expect(
        "order",
        _api("wallet.wallet_create_order").sync_detailed(
            client=signed_in, body=models.OrderCreateInputRequest(amount="20.00")
        ),
        201,
        models.OrderOutput,
    )
    payment_id = f"pay_{uuid.uuid4().hex[:14]}"
    verify = models.PaymentVerifyInputRequest(
        razorpay_order_id=order.order_id,
        razorpay_payment_id=payment_id,
        razorpay_signature=checkout_signature(order.order_id, payment_id),
    )
    paid = expect(
        "verify payment",
        _api("wallet.wallet_verify_payment").sync_detailed(client=signed_in, body=verify),
        200,
        models.WalletDetailsOutput,
    )
    step("client: credited", paid.balance == "20.00", paid.balance)

    upload = _api("audio.audio_create")
    with audio.open("rb") as file:
        body = models.AudioFileUploadInputRequest(file=types.File(payload=file, file_name=audio.name))
        audio_file = expect("upload", upload.sync_detailed(client=signed_in, body=body), 201, models.AudioFileOutput)

    expect(
        "400 a direct upload with audio on the server's disk",
        _api("audio.audio_uploads_create").sync_detailed(
            client=signed_in, body=models.DirectUploadInputRequest(filename="big.mp3", size_bytes=1000)
        ),
        400,
        code="direct_upload_unavailable",
    )
    create = _api("transcriptions.transcriptions_create")
    request = models.TranscriptionCreateInputRequest(audio_file=audio_file.id, timestamps=models.TimestampsEnum.WORD)
    job = expect("transcribe", create.sync_detailed(client=signed_in, body=request, idempotency_key="journey-1"), 202)
    retrieve = _api("transcriptions.transcriptions_retrieve")
    deadline = time.monotonic() + 60
    while job.status in ("pending", "processing") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = expect("poll", retrieve.sync_detailed(client=signed_in, id=job.id), 200, models.TranscriptionOutput)
    step("client: completed", job.status == "completed", job.status)
    words = [word.word for segment in job.segments or [] for word in segment.words or []]
    step("client: word timings", job.timestamps == "word" and bool(words), " ".join(words[:4]))
    download = _api("transcriptions.transcriptions_download_retrieve")
    expect("download", download.sync_detailed(client=signed_in, id=job.id), 200, str)
    as_json = download.sync_detailed(
        client=signed_in, id=job.id, format_=models.TranscriptionsDownloadRetrieveFormat.JSON
    )
    document = json.loads(as_json.content) if as_json.status_code == 200 else {}
    step(
        "client: JSON download with words",
        bool(document.get("segments", [{}])[0].get("words")),
        str(as_json.status_code),
    )
    labelled = expect(
        "transcribe with speaker labels",
        create.sync_detailed(
            client=signed_in,
            body=models.TranscriptionCreateInputRequest(
                audio_file=audio_file.id, speaker_labels=True, speakers_expected=2
            ),
        ),
        202,
    )
    deadline = time.monotonic() + 60
    while labelled.status in ("pending", "processing") and time.monotonic() < deadline:
        time.sleep(0.5)
        labelled = retrieve.sync_detailed(client=signed_in, id=labelled.id).parsed
    speakers = [segment.speaker for segment in labelled.segments or []]
    step("client: speaker labels", labelled.speaker_count == 2 and speakers == ["A", "B"], f"{speakers}")
    vtt = download.sync_detailed(
        client=signed_in, id=labelled.id, format_=models.TranscriptionsDownloadRetrieveFormat.VTT
    )
    step("client: VTT voice tags", "<v A>" in vtt.content.decode(), str(vtt.status_code))
    translated = expect(
        "translate with keywords",
        create.sync_detailed(
            client=signed_in,
            body=models.TranscriptionCreateInputRequest(
                audio_file=audio_file.id,
                task=models.TranscriptionCreateInputTaskEnum.TRANSLATE,
                keywords=["Razorpay"],
                prompt="A payment call.",
            ),
        ),
        202,
    )
    deadline = time.monotonic() + 60
    while translated.status in ("pending", "processing") and time.monotonic() < deadline:
        time.sleep(0.5)
        translated = retrieve.sync_detailed(client=signed_in, id=translated.id).parsed
    step(
        "client: translation with keywords, language detected",
        translated.status == "completed"
        and (translated.task, translated.keywords, translated.prompt) == ("translate", ["Razorpay"], "A payment call.")
        and translated.language == "fr",
        f"{translated.status} {translated.task} {translated.language} {translated.language_probability}",
    )
    csv = _api("transcriptions.transcriptions_export_csv_retrieve").sync_detailed(client=signed_in)
    step("client: CSV export", csv.status_code == 200 and str(job.id) in csv.content.decode(), str(csv.status_code))
    listed = _api("transcriptions.transcriptions_list").sync_detailed(client=signed_in, page_size=5)
    expect("list", listed, 200, models.PaginatedTranscriptionListOutputList)
    ledger = _api("wallet.wallet_transactions").sync_detailed(client=signed_in)
    expect("ledger", ledger, 200, models.PaginatedTransactionOutputList)

    # Errors: each one declared, each body an Error with its code.
    expect(
        "400 invalid amount",
        _api("wallet.wallet_create_order").sync_detailed(
            client=signed_in, body=models.OrderCreateInputRequest(amount="0.001")
        ),
        400,
        code="invalid",
    )
    expect("401 without a token", _api("auth.auth_user").sync_detailed(client=anonymous), 401, code="not_authenticated")
    expect("404 another id", retrieve.sync_detailed(client=signed_in, id=uuid.uuid4()), 404, code="not_found")
    expect(
        "409 the same request again",
        create.sync_detailed(client=signed_in, body=request),
        409,
        code="already_transcribed",
    )
    with audio.open("rb") as file:
        body = models.AudioFileUploadInputRequest(file=types.File(payload=file, file_name=audio.name))
        other_audio = upload.sync_detailed(client=signed_in, body=body).parsed
    expect(
        "422 a key reused for other audio",
        create.sync_detailed(
            client=signed_in,
            body=models.TranscriptionCreateInputRequest(audio_file=other_audio.id),
            idempotency_key="journey-1",
        ),
        422,
        code="idempotency_key_reused",
    )
    secret = expect(
        "webhook signing secret",
        _api("webhooks.webhooks_signing_secret_retrieve").sync_detailed(client=signed_in),
        200,
        models.SigningSecretOutput,
    )
    step("client: signing secret", secret.secret.startswith("whsec_"), secret.secret[:6])
    expect(
        "400 a webhook into the private network",
        _api("webhooks.webhooks_create").sync_detailed(
            client=signed_in,
            body=models.EndpointCreateInputRequest(
                url="https://169.254.169.254/latest/meta-data/", events=[models.EventsEnum.TRANSCRIPTION_COMPLETED]
            ),
        ),
        400,
        code="webhook_url_not_allowed",
    )
    expect(
        "400 a request's webhook_url over http in production",
        create.sync_detailed(
            client=signed_in,
            body=models.TranscriptionCreateInputRequest(audio_file=other_audio.id, webhook_url="http://example.com/"),
        ),
        400,
        code="webhook_url_not_allowed",
    )
    expect(
        "webhook endpoints",
        _api("webhooks.webhooks_list").sync_detailed(client=signed_in),
        200,
        models.PaginatedEndpointOutputList,
    )
    destroy = _api("transcriptions.transcriptions_destroy")
    expect("delete a transcript", destroy.sync_detailed(client=signed_in, id=job.id), 204)
    expect("404 deleting it again", destroy.sync_detailed(client=signed_in, id=job.id), 404, code="not_found")
    google = _api("auth.auth_google_login")
    login = models.GoogleLoginInputRequest(id_token="not-configured")
    expect("503 sign-in provider not configured", google.sync_detailed(client=anonymous, body=login), 503)
    for _ in range(5):
        last = google.sync_detailed(client=anonymous, body=login)
    expect("429 too many sign-ins", last, 429, code="throttled")
    with audio.with_name("big.mp3").open("wb") as big:
        big.write(b"\0" * (2 * 1024 * 1024))
    with audio.with_name("big.mp3").open("rb") as file:
        body = models.AudioFileUploadInputRequest(file=types.File(payload=file, file_name="big.mp3"))
        expect("413 over MAX_UPLOAD_MB", upload.sync_detailed(client=signed_in, body=body), 413)
    wrong_type = requests.post(
        f"{base}/api/wallet/create_order/",
        data="amount=10",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    schema = requests.get(f"{base}/api/schema/?format=json", timeout=10).json()
    declared = schema["paths"]["/api/wallet/create_order/"]["post"]["responses"]
    step(
        "client: 415 form data to a JSON endpoint, declared",
        wrong_type.status_code == 415 and "415" in declared and wrong_type.json()["code"] == "unsupported_media_type",
        str(wrong_type.status_code),
    )

    api_key_journey(base, signed_in, expect, step)

    # Last, the account itself: everything it holds, then gone.
    exported = expect(
        "export my data",
        _api("auth.auth_user_export").sync_detailed(client=signed_in),
        200,
        models.UserExportOutput,
    )
    step(
        "client: export has the ledger",
        bool(exported.wallet["transactions"]),
        str(len(exported.wallet["transactions"])),
    )
    delete_account = _api("auth.auth_user_delete")
    expect(
        "400 deleting without the confirmation",
        delete_account.sync_detailed(client=signed_in, confirmation="yes"),
        400,
        code="invalid",
    )
    expect(
        "delete my account",
        delete_account.sync_detailed(client=signed_in, confirmation="delete-my-account"),
        204,
    )
    expect("401 once deleted", _api("auth.auth_user").sync_detailed(client=signed_in), 401)
