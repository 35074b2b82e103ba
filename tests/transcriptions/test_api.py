"""The transcription endpoints: status codes and bodies, another user's objects, bad input."""

import csv
import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import TranscriptionFactory
from tests.speech import SPOKEN as SPEECH_IN
from tests.speech import espeak
from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import error
from transcriptions.exceptions import TranscriptionActive, TranscriptionNotFound
from transcriptions.models import Transcription
from transcriptions.services import transcription_create, transcription_delete
from wallet.models import Hold, Transaction, Wallet

pytestmark = pytest.mark.django_db

URL = "/api/transcriptions/"


# The embedded default runs a job right after the request's transaction commits: tests that
# need that commit are transactional.
committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def post(api_client):
    def send(body, **headers):
        return api_client.post(URL, body, format="json", headers=headers)

    return send


def completed(user, **fields) -> Transcription:
    """A finished job as the pipeline leaves it, without running an engine (for the read endpoints)."""
    now = timezone.now()
    defaults = {
        "audio_filename": "talk.mp3",
        "audio_duration_seconds": Decimal("65.000"),
        "status": Transcription.Status.COMPLETED,
        "engine": "openai",
        "model": "whisper-1",
        "text": "Hello world.",
        "segments": [{"start": 0.0, "end": 1.5, "text": "Hello"}, {"start": 61.25, "end": 3723.004, "text": "world."}],
        "billable_minutes": Decimal("1.09"),
        "progress": 100,
        "started_at": now,
        "completed_at": now,
    }
    return TranscriptionFactory(user=user, **{**defaults, **fields})


# --- POST /api/transcriptions/ --------------------------------------------------------------


@committing
def test_create_answers_201_with_the_finished_transcript(post, user, make_audio_file, ninety_seconds_wav, fake_openai):
    set_wallet(user, balance=Decimal("1.00"), demo_minutes=Decimal("1.00"))
    audio = make_audio_file(user, ninety_seconds_wav, "interview.wav")

    response = post({"audio_file": str(audio.pk), "language": "EN"})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "completed"
    assert body["audio_file"] == str(audio.pk)
    assert body["audio_filename"] == "interview.wav"
    assert body["audio_duration_seconds"] == "90.000"
    assert body["language"] == "en"
    assert (body["engine"], body["model"], body["source"]) == ("openai", "whisper-1", "api")
    assert body["text"] == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert [segment["text"] for segment in body["segments"]] == [
        "First half of chunk-000.mp3.",
        "Second half of chunk-000.mp3.",
    ]
    assert (body["billable_minutes"], body["demo_minutes_used"], body["charged_minutes"], body["amount"]) == (
        "1.50",
        "1.00",
        "0.50",
        "0.50",
    )
    assert body["currency"] == "INR"
    assert (body["progress"], body["error"], body["error_code"]) == (100, "", "")
    assert body["started_at"] and body["completed_at"]
    assert Wallet.objects.get(user=user).balance == Decimal("0.50")


@committing
def test_create_with_the_offline_engine_is_labelled_local(post, user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk)})

    assert response.status_code == 201
    assert (response.json()["engine"], response.json()["model"]) == ("local", "whisper-base")
    assert response.json()["text"].strip()


@committing
def test_word_timestamps_give_every_segment_its_words_offline(post, user, make_audio_file, speech_wav):
    audio = str(make_audio_file(user, speech_wav).pk)

    words = post({"audio_file": audio, "timestamps": "word"})
    plain = post({"audio_file": audio, "force": True})

    assert words.status_code == plain.status_code == 201
    assert (words.json()["timestamps"], plain.json()["timestamps"]) == ("word", "segment")
    segments = words.json()["segments"]
    assert segments and all(segment["words"] for segment in segments)
    word = segments[0]["words"][0]
    assert set(word) == {"word", "start", "end", "probability"} and 0 <= word["probability"] <= 1
    assert all("words" not in segment for segment in plain.json()["segments"])


@committing
def test_word_timestamps_with_a_gpt_model_configured_run_on_whisper_1(
    post, user, make_audio_file, speech_wav, fake_openai, settings
):
    settings.OPENAI_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"

    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "timestamps": "word"})

    assert response.status_code == 201
    assert response.json()["model"] == "whisper-1"
    assert fake_openai.requests[0].field("model") == "whisper-1"
    assert [w["word"] for w in response.json()["segments"][0]["words"]] == ["First", "half", "of", "chunk-000.mp3."]
    assert response.json()["segments"][0]["words"][0]["probability"] is None


@committing
def test_the_same_audio_with_other_timestamps_is_not_a_duplicate(post, user, make_audio_file, speech_wav):
    audio = str(make_audio_file(user, speech_wav).pk)

    first = post({"audio_file": audio})
    again = post({"audio_file": audio})
    with_words = post({"audio_file": audio, "timestamps": "word"})

    assert (first.status_code, again.status_code, with_words.status_code) == (201, 409, 201)
    assert again.json()["code"] == "already_transcribed"


@committing
def test_speaker_labels_run_on_the_diarizing_model_and_label_every_segment(
    post, user, make_audio_file, speech_wav, fake_openai
):
    response = post(
        {"audio_file": str(make_audio_file(user, speech_wav).pk), "speaker_labels": True, "speakers_expected": 2}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["model"], body["speaker_labels"], body["speakers_expected"], body["speaker_count"]) == (
        "gpt-4o-transcribe-diarize",
        True,
        2,
        2,
    )
    assert [segment["speaker"] for segment in body["segments"]] == ["A", "B"]
    assert fake_openai.requests[0].field("response_format") == "diarized_json"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"speaker_labels": True}, "The local speech-to-text engine cannot label speakers."),
        (
            {"speaker_labels": True, "timestamps": "word"},
            "Word timings and speaker labels come from different models: ask for one of them.",
        ),
    ],
)
def test_speaker_labels_the_engine_cannot_give_are_400_and_hold_nothing(
    post, user, make_audio_file, speech_wav, body, detail
):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), **body})

    assert response.status_code == 400
    assert response.json() == {"detail": detail, "code": "unsupported_option"}
    assert not Transcription.objects.exists()
    assert not Hold.objects.exists()


@pytest.mark.parametrize("body", [{"speakers_expected": 2}, {"speaker_labels": True, "speakers_expected": 11}])
def test_speakers_expected_needs_speaker_labels_and_1_to_10(post, user, make_audio_file, speech_wav, body):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), **body})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["speakers_expected"]


def test_unknown_timestamps_are_400(post, user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "timestamps": "letter"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["timestamps"]


def test_create_answers_202_when_the_job_is_queued(
    api_client, user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)

    with django_capture_on_commit_callbacks(execute=False):  # as when a worker will pick it up
        response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["progress"], response.json()["text"]) == ("pending", 0, "")


@committing
def test_engine_outage_in_the_request_is_503_with_the_job_failed_and_nothing_charged(
    post, user, make_audio_file, speech_wav, fake_openai
):
    fake_openai.respond = lambda request: error(503)
    audio = make_audio_file(user, speech_wav)

    response = post({"audio_file": str(audio.pk)})

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The speech-to-text service had an error. Nothing was charged.",
        "code": "transcription_engine_unavailable",
    }
    job = Transcription.objects.get(user=user)
    assert (job.status, job.error_code) == ("failed", "transcription_engine_unavailable")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.demo_minutes_remaining, wallet.demo_minutes_held, wallet.held) == (Decimal("10.00"), 0, 0)


@committing
def test_audio_the_engine_refuses_is_422_with_its_reason(post, user, make_audio_file, speech_wav, fake_openai):
    fake_openai.respond = lambda request: error(400, "Audio file is too short.")

    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk)})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "The speech-to-text service refused this audio: Audio file is too short. Nothing was charged.",
        "code": "transcription_rejected",
    }
    assert Hold.objects.get().status == Hold.Status.RELEASED


def test_create_without_enough_balance_is_400_and_creates_nothing(post, user, make_audio_file, ninety_seconds_wav):
    set_wallet(user, balance=Decimal("0.00"), demo_minutes=Decimal("1.25"))

    response = post({"audio_file": str(make_audio_file(user, ninety_seconds_wav).pk)})

    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_balance"
    assert not Transcription.objects.exists()


def test_create_for_another_users_audio_is_404(post, other_user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(other_user, speech_wav).pk)})

    assert response.status_code == 404
    assert response.json() == {"detail": "Audio file not found.", "code": "not_found"}
    assert not Transcription.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "audio_file"),
        ({"audio_file": "not-a-uuid"}, "audio_file"),
        ({"audio_file": str(uuid.uuid4()), "language": "english"}, "language"),
        ({"audio_file": str(uuid.uuid4()), "language": "e1"}, "language"),
    ],
)
@committing
def test_create_with_invalid_input_is_400_by_field(post, body, field):
    response = post(body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]


def test_create_for_unknown_audio_is_404(post):
    assert post({"audio_file": str(uuid.uuid4())}).status_code == 404


def test_a_language_the_engine_cannot_do_is_400(post, user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "language": "xx"})

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_language"


def test_the_same_request_again_while_the_first_runs_is_409_already_transcribed_even_with_force(
    api_client, user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)
    with django_capture_on_commit_callbacks(execute=False):
        first = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    again = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")
    forced = api_client.post(URL, {"audio_file": str(audio.pk), "force": True}, format="json")

    for response in (again, forced):
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This audio file already has a transcription with these options (`transcription_id`); "
            'send "force": true to pay for another.',
            "code": "already_transcribed",
            "transcription_id": first.json()["id"],
        }
    assert Transcription.objects.count() == 1


def test_other_options_while_a_job_runs_is_409_in_progress(
    api_client, user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)
    with django_capture_on_commit_callbacks(execute=False):
        api_client.post(URL, {"audio_file": str(audio.pk)}, format="json")

    response = api_client.post(URL, {"audio_file": str(audio.pk), "language": "en"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "transcription_in_progress"


@committing
def test_a_completed_transcription_asked_again_is_409_unless_forced_and_paid_again(
    post, user, make_audio_file, speech_wav, fake_openai
):
    audio = make_audio_file(user, speech_wav)
    first = post({"audio_file": str(audio.pk), "language": "en"})
    demo_left = Wallet.objects.get(user=user).demo_minutes_remaining

    again = post({"audio_file": str(audio.pk), "language": "EN"})
    forced = post({"audio_file": str(audio.pk), "language": "en", "force": True})
    other_language = post({"audio_file": str(audio.pk), "language": "de"})

    assert first.status_code == forced.status_code == other_language.status_code == 201
    assert (again.status_code, again.json()["code"]) == (409, "already_transcribed")
    assert again.json()["transcription_id"] == first.json()["id"]
    assert forced.json()["id"] != first.json()["id"]
    assert Wallet.objects.get(user=user).demo_minutes_remaining < demo_left  # the forced run was paid


def test_create_needs_a_signed_in_user(anon_client):
    response = anon_client.post(URL, {"audio_file": str(uuid.uuid4())}, format="json")

    assert response.status_code == 401


@committing
def test_create_is_throttled_per_user(post, user, make_audio_file, speech_wav, fake_openai, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"transcribe": "2/min"})
    audio = make_audio_file(user, speech_wav)

    statuses = [post({"audio_file": str(audio.pk), "force": True}).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert Transcription.objects.count() == 2


# --- Idempotency-Key ------------------------------------------------------------------------


@committing
def test_a_repeated_idempotency_key_replays_the_first_answer(post, user, make_audio_file, speech_wav, fake_openai):
    audio = make_audio_file(user, speech_wav)
    first = post({"audio_file": str(audio.pk)}, **{"Idempotency-Key": "order-42"})

    again = post({"audio_file": str(audio.pk)}, **{"Idempotency-Key": "order-42"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Transcription.objects.count() == 1
    assert len(fake_openai.requests) == 1


@committing
def test_a_repeated_idempotency_key_replays_a_failure_too(post, user, make_audio_file, speech_wav, fake_openai):
    fake_openai.respond = lambda request: error(500)
    audio = make_audio_file(user, speech_wav)
    first = post({"audio_file": str(audio.pk)}, **{"Idempotency-Key": "k"})

    again = post({"audio_file": str(audio.pk)}, **{"Idempotency-Key": "k"})

    assert (first.status_code, again.status_code) == (503, 503)
    assert again.json() == first.json()
    assert Transcription.objects.count() == 1


def test_a_replayed_202_keeps_its_status_and_shows_the_job_as_it_is_now(
    api_client, user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)
    with django_capture_on_commit_callbacks() as queued:
        first = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json", headers={"Idempotency-Key": "k"})
    for callback in queued:  # the worker runs it
        callback()

    again = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json", headers={"Idempotency-Key": "k"})

    assert (first.status_code, again.status_code) == (202, 202)
    assert (again.json()["id"], again.json()["status"]) == (first.json()["id"], "completed")


def test_a_key_whose_first_request_is_still_running_is_409(
    api_client, user, make_audio_file, speech_wav, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)
    with django_capture_on_commit_callbacks():  # the first request has committed its job, not yet answered
        transcription_create(user=user, audio_file_id=audio.pk, idempotency_key="k")

    response = api_client.post(URL, {"audio_file": str(audio.pk)}, format="json", headers={"Idempotency-Key": "k"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"


@committing
def test_an_idempotency_key_used_for_other_audio_is_422(post, user, make_audio_file, speech_wav, fake_openai):
    post({"audio_file": str(make_audio_file(user, speech_wav).pk)}, **{"Idempotency-Key": "k"})

    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk)}, **{"Idempotency-Key": "k"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\tkey"])
def test_a_malformed_idempotency_key_is_400(post, key):
    response = post({"audio_file": str(uuid.uuid4())}, **{"Idempotency-Key": key})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


# --- GET list and detail --------------------------------------------------------------------


def test_list_shows_only_the_callers_transcriptions_paginated(api_client, user, other_user):
    mine = [completed(user) for _ in range(21)]
    completed(other_user)

    first_page = api_client.get(URL).json()
    second_page = api_client.get(URL, {"page": 2}).json()

    assert first_page["count"] == 21
    assert len(first_page["results"]) == 20
    assert first_page["next"] and first_page["previous"] is None
    listed = {item["id"] for item in first_page["results"] + second_page["results"]}
    assert listed == {str(job.pk) for job in mine}
    item = first_page["results"][0]
    assert item["text_preview"] == "Hello world."
    assert "segments" not in item and "text" not in item


@pytest.fixture
def sixty_jobs(user) -> list[Transcription]:
    """Sixty of the user's jobs, newest first, with distinct dates and amounts so every order is total."""
    now = timezone.now()
    jobs = [completed(user, amount=Decimal(n)) for n in range(60)]
    for n, job in enumerate(jobs):
        Transcription.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=n))
    return jobs


@pytest.mark.parametrize("params", [{}, {"page": 3}, {"page_size": 50}, {"page": 2, "page_size": 50}])
def test_a_list_page_takes_the_same_queries_whatever_its_number_and_size(
    api_client, sixty_jobs, django_assert_num_queries, params
):
    api_client.get(URL)  # the signed-in user is cached from here on

    with django_assert_num_queries(3):  # the count, the page's keys, the page's rows
        response = api_client.get(URL, params)

    assert response.status_code == 200
    assert response.json()["results"]


def test_a_page_holds_the_rows_of_its_place_in_the_order(api_client, sixty_jobs):
    newest_first = [str(job.pk) for job in sixty_jobs]

    second = api_client.get(URL, {"page": 2}).json()
    last_by_amount = api_client.get(URL, {"page": 3, "ordering": "-amount"}).json()

    assert second["count"] == 60 and second["next"] and second["previous"]
    assert [item["id"] for item in second["results"]] == newest_first[20:40]
    assert [item["id"] for item in last_by_amount["results"]] == newest_first[19::-1]
    assert last_by_amount["next"] is None


def test_pages_ordered_by_a_field_with_ties_never_overlap(api_client, user):
    jobs = [completed(user) for _ in range(30)]  # all `completed`, all ₹0.00: every row ties

    for ordering in ("status", "-amount"):
        pages = [api_client.get(URL, {"ordering": ordering, "page": page}).json()["results"] for page in (1, 2)]
        listed = [item["id"] for page in pages for item in page]
        assert sorted(listed) == sorted(str(job.pk) for job in jobs)


def test_list_filters_by_status_dates_and_words_and_orders(api_client, user):
    now = timezone.now()
    old = completed(user, audio_filename="board meeting.mp3", text="budget approved", amount=Decimal("3.00"))
    Transcription.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    new = completed(user, audio_filename="standup.mp3", text="nothing about money", amount=Decimal("1.00"))
    failed = completed(user, status="failed", text="", audio_filename="broken.mp3", source="openai")

    def ids(**params):
        return [item["id"] for item in api_client.get(URL, params).json()["results"]]

    assert ids(status="failed") == [str(failed.pk)]
    assert ids(source="openai") == [str(failed.pk)]
    assert ids(source="api") == [str(new.pk), str(old.pk)]
    assert ids(search="BUDGET") == [str(old.pk)]
    assert ids(search="standup") == [str(new.pk)]
    assert set(ids(created_after=(now - timedelta(days=1)).isoformat())) == {str(new.pk), str(failed.pk)}
    assert ids(created_before=(now - timedelta(days=1)).date().isoformat()) == [str(old.pk)]
    assert ids(ordering="amount", status="completed") == [str(new.pk), str(old.pk)]
    assert ids(ordering="-amount", status="completed") == [str(old.pk), str(new.pk)]


@pytest.mark.parametrize(
    "params", [{"status": "done"}, {"source": "web"}, {"created_after": "yesterday"}, {"ordering": "user"}]
)
def test_list_with_an_invalid_filter_is_400(api_client, params):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_detail_shows_text_segments_cost_and_timings(api_client, user):
    job = completed(user)

    body = api_client.get(f"{URL}{job.pk}/").json()

    assert body["id"] == str(job.pk)
    assert body["text"] == "Hello world."
    assert body["segments"][1] == {"start": 61.25, "end": 3723.004, "text": "world."}
    assert body["billable_minutes"] == "1.09"
    assert body["completed_at"]


def test_another_users_transcription_is_404_everywhere(api_client, other_user):
    job = completed(other_user)

    for path in (f"{URL}{job.pk}/", f"{URL}{job.pk}/download/", f"{URL}{job.pk}/download/?format=srt"):
        response = api_client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert api_client.get(URL).json()["count"] == 0


def test_a_malformed_id_is_404(api_client):
    assert api_client.get(f"{URL}12345/").status_code == 404


# --- Downloads ------------------------------------------------------------------------------


def test_download_is_a_text_attachment_named_after_the_audio(api_client, user):
    job = completed(user, audio_filename="Réunion du lundi.m4a")

    response = api_client.get(f"{URL}{job.pk}/download/", headers={"Accept": "text/plain"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''R%C3%A9union%20du%20lundi.txt"
    assert response.content.decode() == "Hello world.\n"


def test_download_as_srt(api_client, user):
    job = completed(user)

    response = api_client.get(f"{URL}{job.pk}/download/", {"format": "srt"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="talk.srt"'
    assert response.content.decode() == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:01:01,250 --> 01:02:03,004\nworld.\n"
    )


def test_download_as_vtt(api_client, user):
    job = completed(user, segments=[{"start": 0.0, "end": 2.0, "text": " a --> b \n c "}])

    response = api_client.get(f"{URL}{job.pk}/download/?format=vtt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response.content.decode() == "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\na -> b c\n"


SPOKEN = [
    {"start": 0.0, "end": 2.0, "text": "Hello there.", "speaker": "A"},
    {"start": 2.0, "end": 3.0, "text": "How are you?", "speaker": "A"},
    {"start": 3.5, "end": 5.0, "text": "Fine, thanks.", "speaker": "B"},
]


def test_downloads_name_the_speakers(api_client, user):
    job = completed(
        user, speaker_labels=True, speaker_count=2, segments=SPOKEN, text="Hello there. How are you? Fine, thanks."
    )

    def download(file_format: str) -> str:
        return api_client.get(f"{URL}{job.pk}/download/?format={file_format}").content.decode()

    assert download("txt") == "A: Hello there. How are you?\n\nB: Fine, thanks.\n"
    assert download("vtt") == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:02.000\n<v A>Hello there.\n\n"
        "00:00:02.000 --> 00:00:03.000\n<v A>How are you?\n\n"
        "00:00:03.500 --> 00:00:05.000\n<v B>Fine, thanks.\n"
    )
    assert download("srt").splitlines()[2::4] == ["A: Hello there.", "A: How are you?", "B: Fine, thanks."]
    document = json.loads(download("json"))
    assert (document["speaker_labels"], document["speaker_count"]) == (True, 2)
    assert [segment["speaker"] for segment in document["segments"]] == ["A", "A", "B"]
    [row] = read_csv(api_client.get(f"{URL}export_csv/"))
    assert row["speaker_count"] == "2"


WORDY = [
    {
        "start": 0.0,
        "end": 20.0,
        "text": " ".join(f"word{i}" for i in range(40)),
        "words": [{"word": f"word{i}", "start": i * 0.5, "end": i * 0.5 + 0.4, "probability": 0.9} for i in range(40)],
    },
    {"start": 21.0, "end": 23.0, "text": "Short one."},
]


def test_subtitle_cues_are_cut_between_words_to_at_most_7_seconds_and_84_characters(api_client, user):
    job = completed(user, timestamps="word", segments=WORDY)

    vtt = api_client.get(f"{URL}{job.pk}/download/?format=vtt").content.decode()
    srt = api_client.get(f"{URL}{job.pk}/download/?format=srt").content.decode()

    cues = [block.strip().split("\n") for block in vtt.split("\n\n")[1:] if block.strip()]
    spans = [[_seconds(t) for t in timing.split(" --> ")] for timing, _text in cues]
    assert len(cues) >= 4  # 20 s of words need at least 3 cues of 7 s, then the short segment
    assert all(end - start <= 7 for start, end in spans)
    assert all(len(text) <= 84 for _timing, text in cues)
    assert " ".join(text for _timing, text in cues[:-1]) == WORDY[0]["text"]  # every word once, in order
    assert cues[-1] == ["00:00:21.000 --> 00:00:23.000", "Short one."]  # short: kept whole
    # The first cue ends with the last word that fits in 84 characters (word12, at 6.4 s).
    assert srt.startswith("1\n00:00:00,000 --> 00:00:06,400\nword0 word1")


def test_download_as_json_has_every_segment_and_word(api_client, user):
    job = completed(user, timestamps="word", segments=WORDY)

    response = api_client.get(f"{URL}{job.pk}/download/?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="talk.json"'
    document = response.json()
    assert document["segments"] == WORDY
    assert (document["id"], document["timestamps"], document["text"]) == (str(job.pk), "word", job.text)
    assert "amount" not in document  # the transcript, not the bill


def _seconds(timestamp: str) -> float:
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_subtitles_without_segments_are_400(api_client, user):
    job = completed(user, model="gpt-4o-transcribe", segments=None)

    response = api_client.get(f"{URL}{job.pk}/download/?format=srt")

    assert response.status_code == 400
    assert response.json()["code"] == "no_segments"
    assert api_client.get(f"{URL}{job.pk}/download/").status_code == 200


@pytest.mark.parametrize(("file_format", "content"), [("srt", ""), ("vtt", "WEBVTT\n\n")])
def test_subtitles_of_silence_are_an_empty_file(api_client, user, file_format, content):
    job = completed(user, model="whisper-base", text="", segments=[])

    response = api_client.get(f"{URL}{job.pk}/download/?format={file_format}")

    assert response.status_code == 200
    assert response.content.decode() == content


@pytest.mark.parametrize("status", ["pending", "processing", "failed"])
def test_download_before_completion_is_409(api_client, user, status):
    job = completed(user, status=status, text="", segments=None)

    response = api_client.get(f"{URL}{job.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "transcription_not_completed"


def test_download_in_an_unknown_format_is_400(api_client, user):
    response = api_client.get(f"{URL}{completed(user).pk}/download/?format=pdf")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["format"]


def test_download_with_two_formats_is_400_not_the_last_one(api_client, user):
    response = api_client.get(f"{URL}{completed(user).pk}/download/?format=srt&format=vtt")

    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ["Give this parameter once."]}


# --- CSV export -----------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_export_is_a_streamed_csv_of_the_callers_transcriptions(api_client, user, other_user):
    job = completed(user, amount=Decimal("0.09"), text='He said "hi",\nthen left — ₹5', source="openai")
    completed(other_user)

    response = api_client.get(f"{URL}export_csv/", headers={"Accept": "text/csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="transcriptions.csv"'
    [row] = read_csv(response)
    assert row["id"] == str(job.pk)
    assert (row["status"], row["amount"], row["billable_minutes"]) == ("completed", "0.09", "1.09")
    assert row["source"] == "openai"
    assert row["text"] == 'He said "hi",\nthen left — ₹5'
    detail = api_client.get(f"{URL}{job.pk}/").json()
    assert detail["source"] == "openai"
    assert row["created_at"] == detail["created_at"]  # the API's time format, `Z` and all
    assert row["created_at"].endswith("Z")


def test_export_defuses_cells_a_spreadsheet_would_run(api_client, user):
    completed(user, audio_filename="=HYPERLINK(evil).mp3", text="+1 -2 @three")
    completed(user, audio_filename="-minus.mp3", text="@SUM(A1)", error="\tx")

    rows = read_csv(api_client.get(f"{URL}export_csv/", {"ordering": "created_at"}))

    assert [(row["audio_filename"], row["text"]) for row in rows] == [
        ("'=HYPERLINK(evil).mp3", "'+1 -2 @three"),
        ("'-minus.mp3", "'@SUM(A1)"),
    ]
    assert rows[1]["error"] == "'\tx"


def test_export_honours_the_list_filters(api_client, user):
    completed(user, text="alpha")
    completed(user, text="beta", status="failed")

    rows = read_csv(api_client.get(f"{URL}export_csv/", {"search": "alp"}))
    assert [row["text"] for row in rows] == ["alpha"]
    assert [row["text"] for row in read_csv(api_client.get(f"{URL}export_csv/", {"status": "failed"}))] == ["beta"]
    assert api_client.get(f"{URL}export_csv/", {"status": "nope"}).status_code == 400


def test_export_of_ten_thousand_rows_streams_and_parses_back(api_client, user):
    now = timezone.now()
    Transcription.objects.bulk_create(
        Transcription(
            user=user,
            audio_filename=f"file-{number:05d}.mp3",
            audio_duration_seconds=Decimal("60.000"),
            status="completed",
            text=f"transcript number {number}",
            billable_minutes=Decimal("1.00"),
            amount=Decimal("1.00"),
            created_at=now,
        )
        for number in range(10_000)
    )

    response = api_client.get(f"{URL}export_csv/", {"ordering": "audio_filename"})
    chunks = list(response.streaming_content)

    assert len(chunks) > 10  # many pieces, not one body
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8")[1:])))
    assert len(rows) == 10_000
    assert [row["audio_filename"] for row in rows[:2]] == ["file-00000.mp3", "file-00001.mp3"]
    assert rows[-1]["text"] == "transcript number 9999"


# --- "task": "translate" ----------------------------------------------------------------------


@committing
def test_translate_on_the_openai_engine_uses_its_translations_endpoint_and_shows_the_task(
    api_client, post, user, make_audio_file, speech_wav, fake_openai, settings
):
    settings.OPENAI_TRANSCRIPTION_MODEL = "gpt-4o-transcribe"  # it cannot translate: whisper-1 does
    audio = make_audio_file(user, speech_wav, "bonjour.wav")

    response = post({"audio_file": str(audio.pk), "task": "translate", "language": "fr"})

    assert response.status_code == 201
    body = response.json()
    assert (body["task"], body["model"], body["language"]) == ("translate", "whisper-1", "fr")
    assert body["text"] == "English words of chunk-000.mp3."
    assert [segment["text"] for segment in body["segments"]] == ["English words of chunk-000.mp3."]
    [request] = fake_openai.requests
    assert request.path == "/v1/audio/translations"
    assert (request.field("model"), request.field("response_format")) == ("whisper-1", "verbose_json")
    assert "language" not in request.fields  # the endpoint takes none: it detects the spoken language
    assert "timestamp_granularities[]" not in request.fields
    document = json.loads(api_client.get(f"{URL}{body['id']}/download/?format=json").content)
    assert (document["task"], document["text"]) == ("translate", body["text"])
    [row] = read_csv(api_client.get(f"{URL}export_csv/"))
    assert row["task"] == "translate"
    assert api_client.get(f"{URL}{body['id']}/").json()["task"] == "translate"


@pytest.mark.parametrize(
    ("options", "refused"),
    [({"timestamps": "word"}, "with word timings"), ({"speaker_labels": True}, "with speaker labels")],
)
def test_translate_with_what_the_openai_engine_cannot_time_or_label_is_400_and_holds_nothing(
    post, user, make_audio_file, speech_wav, fake_openai, options, refused
):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "task": "translate", **options})

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_option"
    assert refused in response.json()["detail"]
    assert not Transcription.objects.exists()
    assert not Hold.objects.exists()
    assert fake_openai.requests == []


def test_translate_on_an_english_only_offline_model_is_400_unsupported_option(
    post, user, make_audio_file, speech_wav, settings
):
    settings.LOCAL_WHISPER_MODEL = "tiny.en"

    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "task": "translate"})

    assert (response.status_code, response.json()["code"]) == (400, "unsupported_option")
    assert "whisper-tiny.en cannot translate" in response.json()["detail"]
    assert not Hold.objects.exists()


def test_an_unknown_task_is_400_naming_it(post, user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "task": "summarise"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"task"}


@committing
def test_a_translation_is_no_duplicate_of_the_transcription_but_a_second_one_is(
    post, user, make_audio_file, speech_wav, fake_openai
):
    audio = str(make_audio_file(user, speech_wav).pk)
    transcribed = post({"audio_file": audio})

    translated = post({"audio_file": audio, "task": "translate"})
    again = post({"audio_file": audio, "task": "translate"})

    assert (transcribed.status_code, translated.status_code) == (201, 201)
    assert (transcribed.json()["task"], translated.json()["task"]) == ("transcribe", "translate")
    assert (again.status_code, again.json()["code"]) == (409, "already_transcribed")
    assert again.json()["transcription_id"] == translated.json()["id"]


# --- Language detection -------------------------------------------------------------------------


@committing
def test_a_detected_language_and_its_probability_are_shown_everywhere(
    api_client, post, user, make_audio_file, tmp_path
):
    clip = espeak(tmp_path / "fr.wav", voice="fr", text=SPEECH_IN["fr"])

    response = post({"audio_file": str(make_audio_file(user, clip).pk), "language_confidence_threshold": 0.5})

    assert response.status_code == 201
    body = response.json()
    assert (body["language"], body["language_confidence_threshold"]) == ("fr", 0.5)
    assert 0.5 <= body["language_probability"] <= 1
    document = json.loads(api_client.get(f"{URL}{body['id']}/download/?format=json").content)
    assert (document["language"], document["language_probability"]) == ("fr", body["language_probability"])
    [row] = read_csv(api_client.get(f"{URL}export_csv/"))
    assert (row["language"], float(row["language_probability"])) == ("fr", body["language_probability"])
    job = Transcription.objects.get(pk=body["id"])
    assert (job.language, job.detected_language) == ("", "fr")  # asked for none: a repeat is a duplicate
    again = post({"audio_file": str(job.audio_file_id)})
    assert (again.status_code, again.json()["code"]) == (409, "already_transcribed")


@committing
def test_detection_less_sure_than_the_threshold_fails_the_job_and_charges_nothing(
    post, user, make_audio_file, tmp_path
):
    set_wallet(user, balance=Decimal("5.00"), demo_minutes=Decimal("0.00"))
    clip = espeak(tmp_path / "hi.wav", voice="hi", text=SPEECH_IN["hi"])  # whisper-base is unsure of it

    response = post({"audio_file": str(make_audio_file(user, clip).pk), "language_confidence_threshold": 0.9})

    assert response.status_code == 422
    assert response.json()["code"] == "language_uncertain"
    assert "under the 0.90 asked for" in response.json()["detail"]
    job = Transcription.objects.get(user=user)
    assert (job.status, job.error_code) == ("failed", "language_uncertain")
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert not Transaction.objects.filter(subject_id=job.pk).exists()
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance, wallet.held) == (Decimal("5.00"), Decimal("0.00"))
    call_command("audit_ledger")  # raises on a wallet that differs from its ledger


@pytest.mark.parametrize(
    "body",
    [
        {"language_confidence_threshold": 1.5},
        {"language_confidence_threshold": -0.1},
        {"language_confidence_threshold": 0.5, "language": "en"},
    ],
)
def test_a_bad_language_confidence_threshold_is_400_naming_it(post, user, make_audio_file, speech_wav, body):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), **body})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"language_confidence_threshold"}
    assert not Hold.objects.exists()


def test_a_language_confidence_threshold_on_the_openai_engine_is_400_unsupported_option(
    post, user, make_audio_file, speech_wav, fake_openai
):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "language_confidence_threshold": 0.5})

    assert (response.status_code, response.json()["code"]) == (400, "unsupported_option")
    assert "does not say how sure" in response.json()["detail"]
    assert not Hold.objects.exists()


@committing
def test_the_openai_engine_records_the_language_whisper_names_without_a_probability(
    post, user, make_audio_file, speech_wav, fake_openai
):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk)})

    assert (response.json()["language"], response.json()["language_probability"]) == ("en", None)  # "english"
    assert fake_openai.requests[0].field("response_format") == "verbose_json"


# --- Custom vocabulary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keywords": [f"term{i}" for i in range(101)]}, "keywords"),
        ({"keywords": ["Razorpay", ""]}, "keywords"),
        ({"keywords": ["Razorpay", "x" * 51]}, "keywords"),
        ({"keywords": "Razorpay"}, "keywords"),
        ({"prompt": "x" * 1001}, "prompt"),
    ],
)
def test_too_many_keywords_an_empty_or_long_one_or_a_long_prompt_is_400_naming_it(
    post, user, make_audio_file, speech_wav, body, field
):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), **body})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}
    assert not Hold.objects.exists()


def test_an_empty_keyword_is_named_by_its_place(post, user, make_audio_file, speech_wav):
    response = post({"audio_file": str(make_audio_file(user, speech_wav).pk), "keywords": ["Razorpay", "", "UPI"]})

    assert response.json()["errors"] == {"keywords": ["Keyword 2 ('') is empty: each is 1 to 50 characters."]}


@committing
def test_keywords_and_prompt_are_sent_kept_on_the_job_and_make_a_request_of_their_own(
    post, user, make_audio_file, speech_wav, fake_openai
):
    audio = str(make_audio_file(user, speech_wav).pk)
    plain = post({"audio_file": audio})

    response = post({"audio_file": audio, "keywords": ["Razorpay", "Kozhikode"], "prompt": "A refund call."})
    again = post({"audio_file": audio, "keywords": ["Razorpay", "Kozhikode"], "prompt": "A refund call."})

    assert (plain.status_code, response.status_code) == (201, 201)
    assert (response.json()["keywords"], response.json()["prompt"]) == (["Razorpay", "Kozhikode"], "A refund call.")
    assert fake_openai.requests[-1].field("prompt") == "A refund call. Razorpay, Kozhikode."
    assert (again.status_code, again.json()["code"]) == (409, "already_transcribed")
    assert again.json()["transcription_id"] == response.json()["id"]


def test_keywords_with_speaker_labels_on_openai_are_400_unsupported_option(
    post, user, make_audio_file, speech_wav, fake_openai
):
    response = post(
        {"audio_file": str(make_audio_file(user, speech_wav).pk), "keywords": ["Razorpay"], "speaker_labels": True}
    )

    assert (response.status_code, response.json()["code"]) == (400, "unsupported_option")
    assert "takes no keywords or prompt" in response.json()["detail"]
    assert not Hold.objects.exists()


@committing
def test_deleting_a_transcript_erases_its_keywords_and_prompt(
    api_client, post, user, make_audio_file, speech_wav, fake_openai
):
    created = post(
        {"audio_file": str(make_audio_file(user, speech_wav).pk), "keywords": ["Meenakshi"], "prompt": "Asha's call."}
    ).json()

    api_client.delete(f"{URL}{created['id']}/")

    job = Transcription.objects.get(pk=created["id"])
    assert (job.keywords, job.prompt) == ([], "")


# --- DELETE /api/transcriptions/{id}/ -------------------------------------------------------


@committing
def test_delete_erases_the_transcript_and_keeps_the_row_for_the_ledger(
    api_client, post, user, make_audio_file, speech_wav, fake_openai
):
    audio = make_audio_file(user, speech_wav, original_filename="Interview with Asha.wav")
    created = post({"audio_file": str(audio.pk), "timestamps": "word", "force": True}).json()
    ledger_before = list(Transaction.objects.filter(wallet__user=user).values_list("pk", flat=True))

    response = api_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204
    tombstone = Transcription.objects.get(pk=created["id"])
    assert (tombstone.text, tombstone.segments, tombstone.audio_filename) == ("", None, "")
    assert tombstone.deleted_at is not None
    assert (tombstone.status, tombstone.amount, tombstone.billable_minutes) == (
        "completed",
        Decimal(created["amount"]),
        Decimal(created["billable_minutes"]),
    )
    assert list(Transaction.objects.filter(wallet__user=user).values_list("pk", flat=True)) == ledger_before
    for path in (f"{URL}{created['id']}/", f"{URL}{created['id']}/download/?format=json"):
        assert api_client.get(path).status_code == 404
    assert api_client.get(URL).json()["count"] == 0
    assert read_csv(api_client.get(f"{URL}export_csv/")) == []
    again = api_client.delete(f"{URL}{created['id']}/")
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    # The deleted transcript is no duplicate: the same audio can be transcribed again.
    assert post({"audio_file": str(audio.pk), "timestamps": "word"}).status_code == 201


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_deleting_an_active_job_is_409_and_keeps_it(api_client, user, status):
    job = TranscriptionFactory(user=user, status=status)

    response = api_client.delete(f"{URL}{job.pk}/")

    assert (response.status_code, response.json()["code"]) == (409, "transcription_active")
    job.refresh_from_db()
    assert job.deleted_at is None
    assert api_client.get(URL).json()["count"] == 1


def test_deleting_a_failed_job_or_another_users_is_as_for_any_row(api_client, user, other_user):
    failed = TranscriptionFactory(user=user, status="failed", error="No.", error_code="transcription_rejected")
    theirs = completed(other_user)

    assert api_client.delete(f"{URL}{failed.pk}/").status_code == 204
    assert api_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.deleted_at, theirs.text) == (None, "Hello world.")


def test_a_deleted_jobs_idempotency_key_makes_a_new_job(user):
    job = completed(user, idempotency_key="order-42")

    transcription_delete(transcription=job)

    job.refresh_from_db()
    assert job.idempotency_key is None


def test_delete_refuses_a_running_job_then_erases_its_result_once(user):
    """The delete and a worker's completion are one conditional update each: whichever runs second
    sees the other's work, so neither a running job nor a deleted one is overwritten."""
    job = TranscriptionFactory(user=user, status="processing", run_id="run-1")

    with pytest.raises(TranscriptionActive):
        transcription_delete(transcription=job)
    Transcription.objects.filter(pk=job.pk).update(status="completed", text="Finished.")
    transcription_delete(transcription=job)
    with pytest.raises(TranscriptionNotFound):
        transcription_delete(transcription=job)

    job.refresh_from_db()
    assert (job.text, job.status) == ("", "completed")
