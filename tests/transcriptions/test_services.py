"""The job's life and its money, on real audio, with OpenAI replaced by a local fake of its API."""

from decimal import Decimal
from itertools import pairwise

import pytest
from prometheus_client import REGISTRY

from tests.transcriptions.conftest import set_wallet
from tests.transcriptions.fake_openai import Reply, error, transcript
from transcriptions import services
from transcriptions.exceptions import (
    AlreadyTranscribed,
    AudioFileNotFound,
    IdempotencyKeyReused,
    TranscriptionInProgress,
    TranscriptionNotRetryable,
    UnsupportedLanguage,
    UnsupportedModel,
    UnsupportedOption,
)
from transcriptions.models import Transcription
from transcriptions.services import (
    TranscriptionModel,
    transcription_create,
    transcription_models,
    transcription_retry,
    transcription_run,
)
from wallet.exceptions import InsufficientBalance
from wallet.models import Hold, Transaction, Wallet

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


def wallet_of(user) -> Wallet:
    return Wallet.objects.get(user=user)


def assert_nothing_charged(user, *, balance: Decimal, demo_minutes: Decimal, job: Transcription) -> None:
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (
        balance,
        ZERO,
        demo_minutes,
        ZERO,
    )
    assert Hold.objects.get(subject_id=job.pk).status == Hold.Status.RELEASED
    assert not Transaction.objects.filter(subject_id=job.pk).exists()


def test_completed_job_uses_demo_minutes_first_then_charges_the_rest(
    user, make_audio_file, ninety_seconds_wav, fake_openai, run_jobs
):
    set_wallet(user, balance=Decimal("5.00"), demo_minutes=Decimal("1.00"))
    audio = make_audio_file(user, ninety_seconds_wav, "interview.wav")

    job = run_jobs(user=user, audio_file_id=audio.pk, language="en")

    assert job.status == Transcription.Status.COMPLETED
    assert job.text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert [segment["text"] for segment in job.segments] == [
        "First half of chunk-000.mp3.",
        "Second half of chunk-000.mp3.",
    ]
    assert job.segments[-1]["end"] == pytest.approx(90, abs=0.15)
    assert (job.engine, job.model, job.language, job.audio_filename) == ("openai", "whisper-1", "en", "interview.wav")
    assert (job.billable_minutes, job.demo_minutes_used, job.charged_minutes, job.amount) == (
        Decimal("1.50"),
        Decimal("1.00"),
        Decimal("0.50"),
        Decimal("0.50"),
    )
    assert job.progress == 100
    assert job.started_at <= job.completed_at
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining, wallet.demo_minutes_held) == (
        Decimal("4.50"),
        ZERO,
        ZERO,
        ZERO,
    )
    assert (wallet.total_spent, wallet.total_minutes_transcribed) == (Decimal("0.50"), Decimal("1.50"))
    debit = Transaction.objects.get(subject_id=job.pk)
    assert (debit.type, debit.amount, debit.demo_minutes, debit.minutes) == (
        Transaction.Type.DEBIT,
        Decimal("-0.50"),
        Decimal("-1.00"),
        Decimal("1.50"),
    )


def test_half_an_hour_is_transcribed_in_chunks_stitched_in_order(
    user, make_audio_file, thirty_minutes_wav, fake_openai, run_jobs
):
    set_wallet(user, balance=Decimal("25.00"), demo_minutes=Decimal("10.00"))
    audio = make_audio_file(user, thirty_minutes_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    names = sorted(request.filename for request in fake_openai.requests)
    assert names == [f"chunk-{index:03d}.mp3" for index in range(len(names))]
    assert len(names) == 4  # three of just under 600 s, and what is left
    assert job.status == Transcription.Status.COMPLETED
    assert job.text == " ".join(f"First half of {name}. Second half of {name}." for name in names)
    assert [segment["text"] for segment in job.segments[::2]] == [f"First half of {name}." for name in names]
    for before, after in pairwise(job.segments):
        assert after["start"] == pytest.approx(before["end"], abs=0.15)  # shifted onto one timeline
    assert 550 < job.segments[2]["start"] <= 600  # the first cut, in a pause before 10 minutes
    assert job.segments[-1]["end"] == pytest.approx(1800, abs=0.3)
    assert (job.billable_minutes, job.demo_minutes_used, job.amount) == (
        Decimal("30.00"),
        Decimal("10.00"),
        Decimal("20.00"),
    )
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_remaining) == (Decimal("5.00"), ZERO, ZERO)


def test_a_rate_limited_request_is_retried_and_the_job_charged_once(
    user, make_audio_file, ninety_seconds_wav, fake_openai, run_jobs
):
    set_wallet(user, balance=Decimal("2.00"), demo_minutes=ZERO)
    replies = iter([error(429, "Rate limit reached for requests")])
    fake_openai.respond = lambda request: next(replies, None) or transcript(request)
    audio = make_audio_file(user, ninety_seconds_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    assert len(fake_openai.requests) == 2
    assert job.status == Transcription.Status.COMPLETED
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held) == (Decimal("0.50"), ZERO)
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


@pytest.mark.parametrize(
    ("reply", "settings_changes", "code", "message"),
    [
        (error(500), {}, "transcription_engine_unavailable", "The speech-to-text service had an error."),
        (
            Reply(body={"text": "too late"}, delay=1.0),
            {"OPENAI_TIMEOUT_SECONDS": 0.2, "OPENAI_MAX_RETRIES": 0},
            "transcription_engine_unavailable",
            "The speech-to-text service did not answer in time.",
        ),
        (
            error(400, "Audio file might be corrupted or unsupported"),
            {},
            "transcription_rejected",
            "The speech-to-text service refused this audio: Audio file might be corrupted or unsupported",
        ),
    ],
    ids=["persistent-500", "timeout", "400"],
)
def test_a_failed_job_says_why_and_charges_nothing(
    user, make_audio_file, ninety_seconds_wav, fake_openai, run_jobs, settings, reply, settings_changes, code, message
):
    for name, value in settings_changes.items():
        setattr(settings, name, value)
    set_wallet(user, balance=Decimal("3.00"), demo_minutes=Decimal("1.00"))
    fake_openai.respond = lambda request: reply
    audio = make_audio_file(user, ninety_seconds_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    assert job.status == Transcription.Status.FAILED
    assert job.error_code == code
    assert job.error == f"{message} Nothing was charged."
    assert (job.text, job.segments) == ("", None)
    assert_nothing_charged(user, balance=Decimal("3.00"), demo_minutes=Decimal("1.00"), job=job)


def test_persistent_server_errors_are_retried_before_the_job_fails(
    user, make_audio_file, ninety_seconds_wav, fake_openai, run_jobs
):
    fake_openai.respond = lambda request: error(502)
    audio = make_audio_file(user, ninety_seconds_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    assert job.status == Transcription.Status.FAILED
    assert len(fake_openai.requests) == 3  # OPENAI_MAX_RETRIES = 2


def test_a_job_is_held_and_paid_for_in_its_owners_wallet_alone(user, other_user, make_audio_file, speech_wav):
    audio = make_audio_file(user, speech_wav)

    job, _ = transcription_create(user=user, audio_file_id=audio.pk)

    hold = Hold.objects.get(subject_id=job.pk)
    assert hold.wallet == wallet_of(user)
    assert hold.subject_type == "transcription"
    assert wallet_of(other_user).demo_minutes_held == Decimal("0.00")


def test_local_engine_transcribes_speech_and_says_so(user, make_audio_file, speech_wav, run_jobs):
    audio = make_audio_file(user, speech_wav)

    job = run_jobs(user=user, audio_file_id=audio.pk)

    assert job.status == Transcription.Status.COMPLETED
    assert (job.engine, job.model) == ("local", "whisper-base")
    assert job.text.strip()
    assert job.segments
    assert wallet_of(user).demo_minutes_remaining == Decimal("10.00") - job.billable_minutes


def test_local_engine_refuses_a_language_it_cannot_do_before_anything_is_created(
    user, make_audio_file, speech_wav, settings
):
    settings.LOCAL_WHISPER_MODEL = "tiny.en"
    audio = make_audio_file(user, speech_wav)

    with pytest.raises(UnsupportedLanguage):
        transcription_create(user=user, audio_file_id=audio.pk, language="fr")

    assert not Transcription.objects.exists()


def test_word_timings_from_an_engine_that_has_none_are_refused_before_anything_is_held(
    user, make_audio_file, speech_wav, monkeypatch
):
    class SegmentsOnly:  # an engine, such as a compatible server's model, that times no words
        name, model = "openai", "segments-only"

        def for_words(self):
            return None

    monkeypatch.setattr(services, "get_engine", lambda **kwargs: SegmentsOnly())
    audio = make_audio_file(user, speech_wav)

    with pytest.raises(UnsupportedOption):
        transcription_create(user=user, audio_file_id=audio.pk, timestamps="word")

    assert not Transcription.objects.exists()
    assert not Hold.objects.exists()


def test_insufficient_balance_creates_nothing(user, make_audio_file, ninety_seconds_wav):
    set_wallet(user, balance=Decimal("0.49"), demo_minutes=Decimal("1.00"))
    audio = make_audio_file(user, ninety_seconds_wav)

    with pytest.raises(InsufficientBalance):
        transcription_create(user=user, audio_file_id=audio.pk)

    assert not Transcription.objects.exists()
    assert not Hold.objects.exists()
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.demo_minutes_held) == (Decimal("0.49"), ZERO, ZERO)


def test_another_users_audio_is_not_found(user, other_user, make_audio_file, speech_wav):
    audio = make_audio_file(other_user, speech_wav)

    with pytest.raises(AudioFileNotFound):
        transcription_create(user=user, audio_file_id=audio.pk)


def test_audio_being_transcribed_cannot_be_sent_again_until_done(
    user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    audio = make_audio_file(user, speech_wav)
    with django_capture_on_commit_callbacks() as queued:  # queued, not yet run
        first, _ = transcription_create(user=user, audio_file_id=audio.pk)

    with pytest.raises(AlreadyTranscribed) as same_options:
        transcription_create(user=user, audio_file_id=audio.pk, force=True)  # force never runs two at once
    with pytest.raises(TranscriptionInProgress):
        transcription_create(user=user, audio_file_id=audio.pk, language="en")
    assert same_options.value.extra == {"transcription_id": str(first.pk)}
    assert Transcription.objects.count() == 1
    assert wallet_of(user).demo_minutes_held == first.billable_minutes

    for callback in queued:  # what commit starts: the job among it
        callback()
    with pytest.raises(AlreadyTranscribed):
        transcription_create(user=user, audio_file_id=audio.pk)
    again, created = transcription_create(user=user, audio_file_id=audio.pk, force=True)
    assert created and again.pk != first.pk


def test_an_idempotency_key_makes_one_job(user, make_audio_file, speech_wav, fake_openai, run_jobs):
    audio = make_audio_file(user, speech_wav)
    first = run_jobs(user=user, audio_file_id=audio.pk, idempotency_key="key-1")

    again, created = transcription_create(user=user, audio_file_id=audio.pk, idempotency_key="key-1")

    assert not created and again.pk == first.pk
    assert Transcription.objects.count() == Hold.objects.count() == 1
    assert len(fake_openai.requests) == 1


def test_an_idempotency_key_is_per_user(user, other_user, make_audio_file, speech_wav, fake_openai, run_jobs):
    mine = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, idempotency_key="same")
    theirs = run_jobs(user=other_user, audio_file_id=make_audio_file(other_user, speech_wav).pk, idempotency_key="same")

    assert mine.pk != theirs.pk


def test_an_idempotency_key_cannot_be_reused_for_other_audio(user, make_audio_file, speech_wav, fake_openai, run_jobs):
    run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, idempotency_key="key-1")

    with pytest.raises(IdempotencyKeyReused):
        transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, idempotency_key="key-1")


def test_a_finished_job_runs_once_however_often_a_task_for_it_is_delivered(
    user, make_audio_file, speech_wav, fake_openai, run_jobs
):
    job = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)

    again = transcription_run(transcription_id=job.pk, run_id=job.run_id)
    other = transcription_run(transcription_id=job.pk, run_id="another-task")

    assert again.status == other.status == Transcription.Status.COMPLETED
    assert len(fake_openai.requests) == 1
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_a_processing_job_is_resumed_by_its_own_task_only(
    user, make_audio_file, speech_wav, fake_openai, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():  # queued, not run
        job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    Transcription.objects.filter(pk=job.pk).update(status="processing", run_id="task-1", progress=40)

    other = transcription_run(transcription_id=job.pk, run_id="task-2")  # a stale duplicate message
    assert (other.status, len(fake_openai.requests)) == ("processing", 0)

    resumed = transcription_run(transcription_id=job.pk, run_id="task-1")  # its worker died: redelivered
    assert (resumed.status, resumed.progress, resumed.run_id) == ("completed", 100, "task-1")
    assert Transaction.objects.filter(subject_id=job.pk).count() == 1


def test_progress_follows_the_chunks_done(
    user, make_audio_file, ninety_seconds_wav, fake_openai, settings, monkeypatch
):
    settings.TRANSCRIPTION_CHUNK_SECONDS = 20
    settings.TRANSCRIPTION_CONCURRENCY = 1
    job, _ = transcription_create(user=user, audio_file_id=make_audio_file(user, ninety_seconds_wav).pk)
    seen = []
    recorder = services._progress_recorder

    def watched(transcription_id, **run):
        record = recorder(transcription_id, **run)

        def then_read_back(fraction):
            record(fraction)
            seen.append(Transcription.objects.get(pk=transcription_id).progress)

        return then_read_back

    monkeypatch.setattr(services, "_progress_recorder", watched)

    transcription_run(transcription_id=job.pk, run_id="task-1")

    assert seen == [20, 40, 60, 80, 99]  # five chunks; 100 only with the result
    job.refresh_from_db()
    assert job.progress == 100


def test_retrying_a_failed_job_makes_a_new_paid_job(
    user, make_audio_file, speech_wav, fake_openai, run_jobs, django_capture_on_commit_callbacks
):
    fake_openai.respond = lambda request: error(500)
    failed = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, language="en")
    fake_openai.respond = transcript

    with django_capture_on_commit_callbacks(execute=True):
        retried = transcription_retry(transcription=failed)

    retried.refresh_from_db()
    failed.refresh_from_db()
    assert retried.pk != failed.pk
    assert (retried.status, retried.language, retried.audio_file_id) == ("completed", "en", failed.audio_file_id)
    assert failed.status == "failed"
    assert Transaction.objects.filter(subject_id=retried.pk).count() == 1
    with pytest.raises(TranscriptionNotRetryable):
        transcription_retry(transcription=retried)


def test_outcomes_minutes_and_engine_failures_are_counted_for_prometheus(
    user, make_audio_file, ninety_seconds_wav, three_minutes_mp3, fake_openai, run_jobs
):
    def sample(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("transcriptions_total", status="completed", engine="openai"),
        sample("transcriptions_total", status="failed", engine="openai"),
        sample("transcribed_minutes_total", engine="openai"),
        sample("provider_errors_total", provider="openai", kind="transcription_engine_unavailable"),
    )

    completed = run_jobs(user=user, audio_file_id=make_audio_file(user, ninety_seconds_wav).pk)
    fake_openai.respond = lambda request: error(502)
    failed = run_jobs(user=user, audio_file_id=make_audio_file(user, three_minutes_mp3).pk)

    assert (completed.status, failed.status) == (Transcription.Status.COMPLETED, Transcription.Status.FAILED)
    assert sample("transcriptions_total", status="completed", engine="openai") == before[0] + 1
    assert sample("transcriptions_total", status="failed", engine="openai") == before[1] + 1
    assert sample("transcribed_minutes_total", engine="openai") == pytest.approx(
        before[2] + float(completed.billable_minutes)
    )
    assert sample("provider_errors_total", provider="openai", kind="transcription_engine_unavailable") == before[3] + 1


# --- Named models and the way in ------------------------------------------------------------


def test_a_job_records_the_way_it_was_requested(user, make_audio_file, speech_wav, fake_openai, run_jobs):
    default = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk)
    from_v1 = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, source="openai")

    assert (default.source, from_v1.source) == ("api", "openai")


def test_the_openai_engine_offers_its_configured_model_first_then_openais(settings, fake_openai):
    settings.OPENAI_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"

    models = transcription_models()

    assert models == [
        TranscriptionModel("gpt-4o-mini-transcribe", "openai", True, gives_segments=False, labels_speakers=False),
        TranscriptionModel("whisper-1", "openai", False, gives_segments=True, labels_speakers=False),
        TranscriptionModel("gpt-4o-transcribe", "openai", False, gives_segments=False, labels_speakers=False),
        TranscriptionModel("gpt-4o-transcribe-diarize", "openai", False, gives_segments=True, labels_speakers=True),
    ]


def test_the_offline_engine_offers_the_installed_model_it_runs(settings):
    settings.LOCAL_WHISPER_MODEL = "tiny.en"

    assert transcription_models() == [
        TranscriptionModel("whisper-tiny.en", "local", True, gives_segments=True, labels_speakers=False)
    ]


def test_a_named_model_runs_the_job(user, make_audio_file, speech_wav, fake_openai, run_jobs):
    job = run_jobs(user=user, audio_file_id=make_audio_file(user, speech_wav).pk, model="gpt-4o-transcribe")

    assert (job.status, job.model) == (Transcription.Status.COMPLETED, "gpt-4o-transcribe")
    assert [request.field("model") for request in fake_openai.requests] == ["gpt-4o-transcribe"]
    assert job.segments is None  # the model gives text only


@pytest.mark.parametrize(
    ("model", "options", "refused"),
    [
        ("gpt-4o-transcribe", {"timestamps": "word"}, "gives no word timings"),
        ("whisper-1", {"speaker_labels": True}, "does not label speakers"),
        ("gpt-4o-transcribe-diarize", {}, "labels speakers: ask for speaker labels"),
    ],
)
def test_a_named_model_is_never_swapped_for_another_and_nothing_is_held(
    user, make_audio_file, speech_wav, fake_openai, model, options, refused
):
    audio = make_audio_file(user, speech_wav)

    with pytest.raises(UnsupportedOption, match=refused):
        transcription_create(user=user, audio_file_id=audio.pk, model=model, **options)

    assert not Transcription.objects.exists()
    assert not Hold.objects.exists()


def test_a_model_the_engine_does_not_have_is_refused(user, make_audio_file, speech_wav):
    audio = make_audio_file(user, speech_wav)

    with pytest.raises(UnsupportedModel):
        transcription_create(user=user, audio_file_id=audio.pk, model="gpt-4o-transcribe")  # offline engine

    assert not Transcription.objects.exists()
