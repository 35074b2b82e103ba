"""The OpenAI engine on real audio, through a local fake of its HTTP API (the offline engine has its own file)."""

import base64
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transcriptions.conftest import PAUSE_SECONDS, ffprobe_duration
from tests.transcriptions.fake_openai import Reply, error, transcript
from transcriptions.engines import EngineRejected, EngineUnavailable, get_engine
from transcriptions.engines.languages import WHISPER_LANGUAGES, language_code
from transcriptions.engines.local import _LANGUAGE_CODES, LocalEngine
from transcriptions.engines.media import Silence, plan_chunks
from transcriptions.engines.openai import MAX_CHUNK_SECONDS, OpenAIEngine, _letter


def openai_engine(fake, **overrides) -> OpenAIEngine:
    options = {
        "model": "whisper-1",
        "api_key": "sk-test",
        "base_url": fake.base_url,
        "timeout": 10.0,
        "max_retries": 2,
        "chunk_seconds": 600,
        "concurrency": 4,
    }
    return OpenAIEngine(**{**options, **overrides})


def transcribe(engine, path: Path, language: str | None = None, *, words: bool = False):
    progress: list[float] = []
    result = engine.transcribe(path=path, language=language, words=words, on_progress=progress.append)
    return result, progress


def test_whisper_gets_the_audio_language_and_verbose_json_and_returns_segments(fake_openai, speech_wav):
    result, progress = transcribe(openai_engine(fake_openai), speech_wav, language="en")

    [request] = fake_openai.requests
    assert request.authorization == "Bearer sk-test"
    assert request.field("model") == "whisper-1"
    assert request.field("language") == "en"
    assert request.field("response_format") == "verbose_json"
    assert request.fields["timestamp_granularities[]"] == ["segment"]
    assert request.filename == "chunk-000.mp3"
    assert request.content_type == "audio/mpeg"
    assert request.field("prompt") is None
    assert (
        abs(request.duration - float(ffprobe_duration(speech_wav))) < 0.15
    )  # one chunk, re-encoded (mp3 pads a little)
    assert result.text == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert [segment.text for segment in result.segments] == [
        "First half of chunk-000.mp3.",
        "Second half of chunk-000.mp3.",
    ]
    assert progress == [1.0]


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-transcribe"])
def test_gpt_models_are_asked_for_json_and_give_no_segments(fake_openai, speech_wav, model):
    result, _ = transcribe(openai_engine(fake_openai, model=model), speech_wav)

    [request] = fake_openai.requests
    assert request.field("model") == model
    assert request.field("response_format") is None
    assert "language" not in request.fields
    assert result.text == "Words of chunk-000.mp3."
    assert result.segments is None


def test_long_audio_is_cut_at_pauses_sent_concurrently_and_stitched_in_order(
    fake_openai, three_minutes_mp3, speech_wav
):
    engine = openai_engine(fake_openai, chunk_seconds=40, concurrency=2)

    result, progress = transcribe(engine, three_minutes_mp3)

    names = [f"chunk-{index:03d}.mp3" for index in range(len(fake_openai.requests))]
    assert len(names) == 5  # 180 s in chunks of at most 40 s
    assert sorted(request.filename for request in fake_openai.requests) == names
    assert fake_openai.max_in_flight <= 2
    assert result.text == " ".join(f"First half of {name}. Second half of {name}." for name in names)
    assert [segment.text for segment in result.segments[::2]] == [f"First half of {name}." for name in names]
    # Each chunk's segments are moved by the chunk's start: the stitched timeline runs on without gaps.
    for before, after in pairwise(result.segments):
        assert abs(after.start - before.end) < 0.1
    assert abs(result.segments[-1].end - 180) < 0.2
    # Cuts fall in the pauses between phrases, never in speech.
    period = float(ffprobe_duration(speech_wav)) + PAUSE_SECONDS
    for cut in [segment.start for segment in result.segments[2::2]]:
        assert period - PAUSE_SECONDS < cut % period < period
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_each_segment_is_given_as_soon_as_the_chunks_before_it_are_in(fake_openai, three_minutes_mp3):
    # The first chunk comes back last: its segments, and then all the others, wait for it.
    def first_chunk_slow(request):
        reply = transcript(request)
        return Reply(body=reply.body, delay=1.0 if request.filename == "chunk-000.mp3" else 0.0)

    fake_openai.respond = first_chunk_slow
    given_when: list[tuple[str, float]] = []
    engine = openai_engine(fake_openai, chunk_seconds=40, concurrency=5)

    result = engine.transcribe(
        path=three_minutes_mp3,
        language=None,
        words=False,
        on_progress=lambda fraction: given_when.append(("progress", fraction)),
        on_segment=lambda segment: given_when.append(("segment", segment)),
    )

    given = [item for kind, item in given_when if kind == "segment"]
    assert given == result.segments  # in order, on the recording's clock
    first_given = next(index for index, (kind, _) in enumerate(given_when) if kind == "segment")
    before = [item for _, item in given_when[:first_given]]
    assert before and before[-1] == 0.8  # the other four were in, and held back


def test_word_timings_are_asked_for_and_set_in_their_segments_continuously_across_chunks(
    fake_openai, three_minutes_mp3
):
    result, _ = transcribe(openai_engine(fake_openai, chunk_seconds=40, concurrency=2), three_minutes_mp3, words=True)

    assert all(request.fields["timestamp_granularities[]"] == ["word", "segment"] for request in fake_openai.requests)
    words = [word for segment in result.segments for word in segment.words]
    assert [word.word for word in result.segments[0].words] == ["First", "half", "of", "chunk-000.mp3."]
    assert all(
        segment.start - 1e-6 <= w.start <= w.end <= segment.end + 1e-6
        for segment in result.segments
        for w in segment.words
    )
    assert all(word.probability is None for word in words)  # OpenAI gives none
    # At each chunk boundary the next chunk's first word starts where the last one ended: offsets added.
    for before, after in pairwise(words):
        assert abs(after.start - before.end) < 0.1
    assert abs(words[-1].end - 180) < 0.2


def test_word_timings_from_a_gpt_model_come_from_whisper_1(fake_openai):
    engine = openai_engine(fake_openai, model="gpt-4o-transcribe")

    assert engine.for_words().model == "whisper-1"
    assert engine.model == "gpt-4o-transcribe"  # the configured engine is left as it is
    assert openai_engine(fake_openai).for_words().model == "whisper-1"


def test_whisper_gets_the_previous_chunks_words_as_prompt(fake_openai, three_minutes_mp3):
    # One at a time, each chunk's predecessor is always done when it is sent.
    transcribe(openai_engine(fake_openai, chunk_seconds=60, concurrency=1), three_minutes_mp3)

    prompts = {request.filename: request.field("prompt") for request in fake_openai.requests}
    assert prompts["chunk-000.mp3"] is None
    assert prompts["chunk-001.mp3"] == "First half of chunk-000.mp3. Second half of chunk-000.mp3."
    assert prompts["chunk-002.mp3"] == "First half of chunk-001.mp3. Second half of chunk-001.mp3."


def test_gpt_models_get_no_prompt(fake_openai, three_minutes_mp3):
    transcribe(
        openai_engine(fake_openai, model="gpt-4o-transcribe", chunk_seconds=60, concurrency=1), three_minutes_mp3
    )

    assert len(fake_openai.requests) > 1
    assert all(request.field("prompt") is None for request in fake_openai.requests)


def test_translation_is_chunked_to_the_translations_endpoint_on_whisper_1_and_stitched(fake_openai, three_minutes_mp3):
    engine = openai_engine(fake_openai, model="gpt-4o-transcribe", chunk_seconds=60, concurrency=1).for_translation(
        words=False
    )

    result = engine.transcribe(
        path=three_minutes_mp3, language="fr", words=False, on_progress=lambda fraction: None, task="translate"
    )

    names = [f"chunk-{index:03d}.mp3" for index in range(len(fake_openai.requests))]
    assert len(names) == 4  # 180 s cut at pauses into chunks of at most 60 s
    assert [(request.path, request.filename) for request in fake_openai.requests] == [
        ("/v1/audio/translations", name) for name in names
    ]
    assert {request.field("model") for request in fake_openai.requests} == {"whisper-1"}
    assert {request.field("response_format") for request in fake_openai.requests} == {"verbose_json"}
    assert all("language" not in request.fields for request in fake_openai.requests)
    # Each chunk after the first is prompted with the English of the one before, as transcriptions are.
    assert [request.field("prompt") for request in fake_openai.requests] == [None] + [
        f"English words of {name}." for name in names[:-1]
    ]
    assert result.text == " ".join(f"English words of {name}." for name in names)
    # Each chunk's segment moved by the chunk's start: the stitched timeline runs on without gaps
    # (but the padding of each re-encoded chunk).
    for before, after in pairwise(result.segments):
        assert abs(after.start - before.end) < 0.2
    assert abs(result.segments[-1].end - 180) < 0.2


def test_openai_translates_neither_with_word_timings_nor_speaker_labels(fake_openai, speech_wav):
    engine = openai_engine(fake_openai)

    assert engine.for_translation(words=True) is None
    assert engine.for_speakers().for_translation(words=False) is None
    with pytest.raises(EngineRejected, match="cannot translate"):
        engine.for_speakers().transcribe(
            path=speech_wav, language=None, words=False, on_progress=print, task="translate"
        )
    assert fake_openai.requests == []


def test_the_language_whisper_names_is_recorded_by_its_code_the_one_heard_longest(fake_openai, three_minutes_mp3):
    def french_first(request):
        reply = transcript(request)
        if request.filename == "chunk-000.mp3":
            reply.body["language"] = "french"
        return reply

    fake_openai.respond = french_first
    engine = openai_engine(fake_openai, chunk_seconds=60, concurrency=2)

    detected, _ = transcribe(engine, three_minutes_mp3)
    given, _ = transcribe(engine, three_minutes_mp3, language="fr")

    assert (detected.language, detected.language_probability) == ("en", None)  # 3 chunks of 4 heard "english"
    assert (given.language, given.language_probability) == ("", None)  # asked for, not detected
    assert all("language" not in request.fields for request in fake_openai.requests[:4])


def test_every_whisper_language_name_has_its_code():
    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES)
    assert [language_code(name) for name in ("english", "Hindi", "castilian", "en", "klingon", None)] == [
        "en",
        "hi",
        "es",
        "en",
        "",
        "",
    ]


def test_keywords_and_prompt_go_to_whisper_1_on_every_chunk_before_the_previous_text(fake_openai, three_minutes_mp3):
    engine = openai_engine(fake_openai, chunk_seconds=60, concurrency=1)

    engine.transcribe(
        path=three_minutes_mp3,
        language=None,
        words=False,
        on_progress=lambda fraction: None,
        keywords=["Thiruvananthapuram", "Razorpay"],
        prompt="A call about a refund.",
    )

    prompts = {request.filename: request.field("prompt") for request in fake_openai.requests}
    assert prompts["chunk-000.mp3"] == "A call about a refund. Thiruvananthapuram, Razorpay."
    assert prompts["chunk-001.mp3"] == (
        "A call about a refund. First half of chunk-000.mp3. Second half of chunk-000.mp3. "
        "Thiruvananthapuram, Razorpay."
    )


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_gpt_models_get_the_keywords_as_their_prompt(fake_openai, speech_wav, model):
    openai_engine(fake_openai, model=model).transcribe(
        path=speech_wav, language=None, words=False, on_progress=lambda fraction: None, keywords=["Zerodha"]
    )

    [request] = fake_openai.requests
    assert (request.field("model"), request.field("prompt")) == (model, "Zerodha.")


def test_a_translation_gets_the_keywords_too(fake_openai, speech_wav):
    openai_engine(fake_openai).transcribe(
        path=speech_wav, language=None, words=False, on_progress=print, task="translate", keywords=["Kozhikode"]
    )

    [request] = fake_openai.requests
    assert (request.path, request.field("prompt")) == ("/v1/audio/translations", "Kozhikode.")


def test_the_diarizing_model_takes_no_keywords(fake_openai, speech_wav):
    engine = openai_engine(fake_openai).for_speakers()

    assert not engine.takes_vocabulary
    with pytest.raises(EngineRejected, match="takes no keywords"):
        engine.transcribe(path=speech_wav, language=None, words=False, on_progress=print, speakers=True, prompt="Hi")
    assert fake_openai.requests == []


def test_a_rate_limited_request_is_retried(fake_openai, speech_wav):
    replies = iter([error(429, "Rate limit reached")])
    fake_openai.respond = lambda request: next(replies, None) or transcript(request)

    result, _ = transcribe(openai_engine(fake_openai), speech_wav)

    assert len(fake_openai.requests) == 2
    assert result.text.startswith("First half")


def test_a_persistent_server_error_is_unavailable_after_the_retries(fake_openai, speech_wav):
    fake_openai.respond = lambda request: error(500)

    with pytest.raises(EngineUnavailable, match="had an error"):
        transcribe(openai_engine(fake_openai, max_retries=2), speech_wav)

    assert len(fake_openai.requests) == 3


def test_a_chunk_that_keeps_failing_fails_the_job_and_stops_the_rest(fake_openai, three_minutes_mp3):
    fake_openai.respond = lambda request: error(503) if request.filename == "chunk-000.mp3" else transcript(request)

    with pytest.raises(EngineUnavailable):
        transcribe(openai_engine(fake_openai, chunk_seconds=20, concurrency=1, max_retries=1), three_minutes_mp3)

    assert [request.filename for request in fake_openai.requests] == ["chunk-000.mp3", "chunk-000.mp3"]


def test_a_timeout_is_unavailable(fake_openai, speech_wav):
    fake_openai.respond = lambda request: Reply(body={"text": "late"}, delay=1.0)

    with pytest.raises(EngineUnavailable, match="did not answer in time"):
        transcribe(openai_engine(fake_openai, timeout=0.2, max_retries=1), speech_wav)

    assert len(fake_openai.requests) == 2


def test_a_bad_request_is_rejected_with_its_message_and_not_retried(fake_openai, speech_wav):
    fake_openai.respond = lambda request: error(400, "Audio file might be corrupted or unsupported")

    with pytest.raises(EngineRejected, match="refused this audio: Audio file might be corrupted or unsupported"):
        transcribe(openai_engine(fake_openai), speech_wav)

    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 404])
def test_our_own_misconfiguration_is_unavailable_not_the_users_fault(fake_openai, speech_wav, status):
    fake_openai.respond = lambda request: error(status, "Incorrect API key provided: sk-test")

    with pytest.raises(EngineUnavailable) as raised:
        transcribe(openai_engine(fake_openai), speech_wav)

    assert "sk-test" not in raised.value.message


def test_an_unreachable_server_is_unavailable(speech_wav):
    engine = OpenAIEngine(
        model="whisper-1",
        api_key="sk-test",
        base_url="http://127.0.0.1:9/v1",  # discard port: nothing listens
        timeout=2.0,
        max_retries=0,
        chunk_seconds=600,
        concurrency=1,
    )

    with pytest.raises(EngineUnavailable, match="could not be reached"):
        transcribe(engine, speech_wav)


def test_audio_ffmpeg_cannot_decode_is_rejected_before_any_request(fake_openai, tmp_path):
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"ID3" + b"\x00garbage" * 500)

    with pytest.raises(EngineRejected, match="could not be decoded"):
        transcribe(openai_engine(fake_openai), corrupt)

    assert fake_openai.requests == []


def test_chunks_stay_under_the_gpt_4o_request_cap_whatever_is_configured(settings):
    settings.TRANSCRIPTION_CHUNK_SECONDS = 3600

    assert OpenAIEngine.from_settings().chunk_seconds == MAX_CHUNK_SECONDS < 1400


def test_engine_follows_the_setting(settings):
    settings.TRANSCRIPTION_ENGINE = "local"
    assert isinstance(get_engine(), LocalEngine)

    settings.TRANSCRIPTION_ENGINE = "openai"
    settings.OPENAI_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
    engine = get_engine()
    assert (engine.name, engine.model) == ("openai", "gpt-4o-mini-transcribe")


@given(
    duration=st.floats(min_value=1, max_value=4000),
    chunk_seconds=st.integers(min_value=10, max_value=1380),
    pauses=st.lists(st.tuples(st.floats(0, 4000), st.floats(0.3, 5)), max_size=60),
    search_fraction=st.sampled_from([0.1, 0.5, 1.0, 2.0]),
)
def test_chunk_plan_covers_the_audio_in_order_within_the_limit(duration, chunk_seconds, pauses, search_fraction):
    silences = [Silence(start, min(start + length, duration)) for start, length in sorted(pauses) if start < duration]

    chunks = plan_chunks(
        duration=duration,
        silences=silences,
        chunk_seconds=chunk_seconds,
        search_seconds=chunk_seconds * search_fraction,
        min_tail_seconds=2,
    )
    shortest = chunk_seconds * max(1 - search_fraction, 0.5)

    assert chunks[0].start == 0 and chunks[-1].end == duration
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for before, after in pairwise(chunks):
        assert before.end == after.start
        # A cut is at most one search window, and never more than half a chunk, before its boundary.
        assert shortest - 1e-6 <= before.duration <= chunk_seconds + 1e-6
    assert 0 < chunks[-1].duration <= chunk_seconds + 2 + 1e-6


# --- Speaker labels ---------------------------------------------------------------------------


def reference_seconds(data_url: str, tmp_path: Path) -> float:
    prefix = "data:audio/mpeg;base64,"
    assert data_url.startswith(prefix)
    clip = tmp_path / f"reference-{len(list(tmp_path.iterdir()))}.mp3"
    clip.write_bytes(base64.b64decode(data_url.removeprefix(prefix)))
    return float(ffprobe_duration(clip))


def test_speakers_keep_their_letters_across_three_chunks_by_clips_of_their_voices(
    fake_openai, three_minutes_mp3, tmp_path
):
    engine = openai_engine(fake_openai, chunk_seconds=70).for_speakers()
    progress: list[float] = []

    result = engine.transcribe(
        path=three_minutes_mp3, language="en", words=False, speakers=True, on_progress=progress.append
    )

    first, second, third = fake_openai.requests
    for request in (first, second, third):
        assert request.field("model") == "gpt-4o-transcribe-diarize"
        assert (request.field("response_format"), request.field("chunking_strategy")) == ("diarized_json", "auto")
        assert request.field("prompt") is None  # the diarizing model takes none
    assert "known_speaker_names[]" not in first.fields
    # The second chunk hears the first chunk's two voices, each by a 2-10 s clip.
    assert second.fields["known_speaker_names[]"] == ["speaker_A", "speaker_B"]
    assert all(2 <= reference_seconds(url, tmp_path) <= 10.5 for url in second.fields["known_speaker_references[]"])
    # The third hears three, the most talkative first (A spoke in both chunks).
    assert third.fields["known_speaker_names[]"][0] == "speaker_A"
    assert sorted(third.fields["known_speaker_names[]"]) == ["speaker_A", "speaker_B", "speaker_C"]
    assert len(third.fields["known_speaker_references[]"]) == 3
    # The fake names the first known voice, then a new one it letters `A` again: that is our C, then D.
    assert [segment.speaker for segment in result.segments] == ["A", "B", "A", "C", "A", "D"]
    # On the recording's clock: each chunk's first segment starts where the chunk before ended.
    for before, after in pairwise(result.segments):
        assert after.start == pytest.approx(before.end, abs=0.1)
    assert result.segments[-1].end == pytest.approx(180, abs=0.2)
    assert progress == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]


def test_speakers_expected_caps_the_voices_carried_over(fake_openai, three_minutes_mp3):
    engine = openai_engine(fake_openai, chunk_seconds=70).for_speakers()

    engine.transcribe(
        path=three_minutes_mp3, language=None, words=False, speakers=True, speakers_expected=1, on_progress=print
    )

    assert [len(request.fields.get("known_speaker_names[]", [])) for request in fake_openai.requests] == [0, 1, 1]


def test_a_speaker_heard_under_2_seconds_is_not_carried_over(fake_openai, speech_wav):
    """No clip of 2 s exists: the next chunk is not told of that voice (it may get a new letter)."""
    fake_openai.respond = lambda request: Reply(
        body={
            "task": "transcribe",
            "duration": 1.0,
            "text": "Hi.",
            "segments": [
                {"type": "transcript.text.segment", "id": "s", "start": 0.0, "end": 1.5, "text": "Hi.", "speaker": "A"}
            ],
        }
    )
    engine = openai_engine(fake_openai, chunk_seconds=2).for_speakers()

    result = engine.transcribe(path=speech_wav, language=None, words=False, speakers=True, on_progress=print)

    assert len(fake_openai.requests) > 1
    assert all("known_speaker_names[]" not in request.fields for request in fake_openai.requests)
    assert [segment.speaker for segment in result.segments] == [_letter(i) for i in range(len(fake_openai.requests))]


def test_letters_run_past_z():
    assert [_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def test_the_offline_engine_cannot_label_speakers():
    assert LocalEngine.from_settings().for_speakers() is None
