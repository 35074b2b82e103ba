"""The offline engine for real: Whisper from the pip-installed weights, on human speech."""

import logging
import os
import shutil
import socket
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio

from tests.speech import (
    GREETINGS,
    GREETINGS_IN_ENGLISH,
    RARE_NAMES,
    RARE_NAMES_WORDS_PER_MINUTE,
    SPOKEN,
    errors_per_utterance,
    espeak,
    joined,
    librivox,
    normalise,
    speak,
    terms_heard,
    transcribe_without_network,
    utterances_dropped_or_doubled,
    word_error_rate,
)
from tests.transcriptions.conftest import ffmpeg, ffprobe_duration
from transcriptions.checks import local_whisper_settings
from transcriptions.engines import EngineRejected, EngineResult, LanguageUncertain, get_engine
from transcriptions.engines import local as local_engine
from transcriptions.engines.local import (
    UTTERANCE_PADDING_FRAMES,
    WEIGHTS,
    LocalEngine,
    WeightsMismatch,
    WhisperWeights,
    load_model,
)


@pytest.fixture(scope="session")
def librivox_wav(audio_dir):
    """25 s of five people-read sentences, with what was said."""
    return joined(audio_dir / "librivox.wav")


def transcribe(
    engine, path: Path, language: str | None = None, *, words: bool = True, **options
) -> tuple[EngineResult, list[float]]:
    progress: list[float] = []
    result = engine.transcribe(path=path, language=language, words=words, on_progress=progress.append, **options)
    return result, progress


def assert_well_formed(result: EngineResult, path: Path) -> None:
    """Segments in order, apart, inside the audio; each one's words in order and inside it."""
    duration = float(ffprobe_duration(path))
    assert result.segments
    assert all(0 <= s.start < s.end <= duration + 0.05 for s in result.segments)
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(result.segments))
    assert result.text == " ".join(s.text for s in result.segments)
    for segment in result.segments:
        assert segment.words
        assert all(segment.start - 1e-6 <= w.start <= w.end <= segment.end + 1e-6 for w in segment.words)
        assert all(a.start <= b.start for a, b in pairwise(segment.words))
        assert all(0 <= w.probability <= 1 for w in segment.words)


def test_transcribes_human_speech_with_few_errors(settings, librivox_wav):
    result, progress = transcribe(get_engine(name="local"), librivox_wav.path)

    assert word_error_rate(librivox_wav.text, result.text) <= 0.05, result.text
    assert_well_formed(result, librivox_wav.path)
    assert len(result.segments) >= 3  # a phrase a cue, not one block
    assert progress == sorted(progress)
    assert progress[-1] == 1.0


def test_an_utterance_is_encoded_with_10_s_of_padding_not_whispers_30_s(monkeypatch):
    """The live path's speed: encoding is most of an utterance's time. A file's windows keep 30 s."""
    encoded: list[int] = []
    encode = WhisperModel.encode
    monkeypatch.setattr(
        WhisperModel, "encode", lambda self, features: encoded.append(features.shape[-1]) or encode(self, features)
    )
    engine = get_engine(name="local")
    utterance = librivox()[1]
    samples = decode_audio(str(utterance.path))

    result = engine.transcribe_utterance(samples=samples, language="en")

    assert word_error_rate(utterance.text, result.text) == 0, result.text
    spoken_frames = len(samples) // 160  # Whisper's features: one frame per 10 ms
    padded = spoken_frames + UTTERANCE_PADDING_FRAMES + 2
    assert encoded and all(frames <= padded < 3000 and frames % 2 == 0 for frames in encoded)
    encoded.clear()
    transcribe(engine, utterance.path, "en", words=False)
    assert encoded == [3000]


def test_an_utterance_over_30_s_committed_by_hand_is_read_whole_in_clips(audio_dir):
    read = joined(audio_dir / "librivox-twice.wav", repeat=2, pause_seconds=1.2)

    result = get_engine(name="local").transcribe_utterance(samples=decode_audio(str(read.path)), language="en")

    assert not utterances_dropped_or_doubled(read.parts, result.text), result.text
    assert word_error_rate(read.text, result.text) <= 0.03, result.text
    assert result.segments and all(a.end <= b.start for a, b in pairwise(result.segments))
    assert result.segments[-1].end > 55


def test_words_only_when_asked(librivox_wav):
    result, _ = transcribe(get_engine(name="local"), librivox_wav.path, words=False)

    assert result.segments and all(segment.words == () for segment in result.segments)
    assert word_error_rate(librivox_wav.text, result.text) <= 0.05


def test_long_audio_is_read_a_window_at_a_time_with_continuous_timings(monkeypatch, audio_dir, librivox_wav):
    """Windows cut at pauses, each transcribed on its own and moved to the recording's clock."""
    monkeypatch.setattr(local_engine, "WINDOW_SECONDS", 20)
    read = []
    real_read_samples = local_engine.media.read_samples
    monkeypatch.setattr(
        local_engine.media,
        "read_samples",
        lambda decoded, chunk: read.append(chunk) or real_read_samples(decoded, chunk),
    )
    twice = joined(audio_dir / "librivox-twice.wav", repeat=2)

    given: list = []
    result, _ = transcribe(get_engine(name="local"), twice.path, on_segment=given.append)

    assert given == result.segments  # each one as it was decoded, on the recording's clock
    assert len(read) >= 2
    assert [chunk.start for chunk in read[1:]] == [chunk.end for chunk in read[:-1]]
    assert max(chunk.duration for chunk in read) <= 20 + 2  # a short tail joins the window before it
    assert word_error_rate(twice.text, result.text) <= 0.08, result.text
    assert_well_formed(result, twice.path)
    after_first_cut = [s for s in result.segments if s.start >= read[1].start]
    assert after_first_cut
    assert after_first_cut[0].start - read[1].start < 5


def test_long_read_speech_keeps_every_sentence_once(audio_dir):
    """Two minutes of the same five sentences four times over, 1.2 s apart, transcribed without
    word timings (the default): no sentence dropped or written twice, checked utterance by utterance.
    Whisper conditioned each 30 s on the text before it skipped ahead in the repeated passage."""
    read = joined(audio_dir / "librivox-four-times.wav", repeat=4, pause_seconds=1.2)

    result, _ = transcribe(get_engine(name="local"), read.path, words=False)

    lost = [read.parts[index] for index in utterances_dropped_or_doubled(read.parts, result.text)]
    assert not lost, f"{lost}: errors per utterance {errors_per_utterance(read.parts, result.text)}; {result.text}"
    assert word_error_rate(read.text, result.text) <= 0.03, result.text


def test_ten_minutes_of_read_speech_lose_no_word_where_whispers_30_s_are_cut(audio_dir):
    """Whisper reads 30 s at a time. Cut inside a sentence (faster-whisper's `vad_filter` joins the
    speech and cuts it every 30 s), the word a cut splits was lost or written twice: 7 errors in
    ten minutes beyond the model's own on the sentences one by one. Cut in pauses, none."""
    engine = get_engine(name="local")
    own = [errors_per_utterance([u.text], transcribe(engine, u.path, "en", words=False)[0].text)[0] for u in librivox()]
    read = joined(audio_dir / "librivox-ten-minutes.wav", repeat=20, pause_seconds=1.2)

    result, _ = transcribe(engine, read.path, "en", words=False)

    errors = errors_per_utterance(read.parts, result.text)
    beyond_own = sum(max(0, count - own[index % len(own)]) for index, count in enumerate(errors))
    assert beyond_own == 0, f"errors per utterance {errors} against {own} alone; {result.text}"
    assert all(a.end <= b.start for a, b in pairwise(result.segments))


def test_silence_gives_an_empty_transcript_not_an_invented_one(audio_dir):
    silence = audio_dir / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "30", str(silence))

    result, progress = transcribe(get_engine(name="local"), silence)

    assert (result.text, result.segments) == ("", [])
    assert progress[-1] == 1.0


def test_noise_gives_an_empty_transcript(audio_dir):
    noise = audio_dir / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=r=16000:a=0.02:c=brown:s=7", "-t", "20", str(noise))

    result, _ = transcribe(get_engine(name="local"), noise)

    assert result.text == ""


def test_the_english_only_model_is_a_setting_and_refuses_other_languages(settings, librivox_wav):
    settings.LOCAL_WHISPER_MODEL = "tiny.en"
    engine = get_engine(name="local")

    result, _ = transcribe(engine, librivox_wav.path)

    assert engine.model == "whisper-tiny.en"
    assert word_error_rate(librivox_wav.text, result.text) <= 0.1, result.text
    assert not engine.supports_language("fr")
    with pytest.raises(EngineRejected, match="does not know this language"):
        transcribe(engine, librivox_wav.path, language="fr")


def test_the_multilingual_model_takes_whispers_languages_only():
    engine = get_engine(name="local")

    assert engine.model == "whisper-base"
    assert all(engine.supports_language(code) for code in ("", "en", "hi", "fr", "ta", "haw"))
    assert not any(engine.supports_language(code) for code in ("xx", "eng", "zz"))


def test_a_job_runs_on_the_model_it_was_recorded_with_when_installed(settings):
    settings.LOCAL_WHISPER_MODEL = "base"

    assert get_engine(name="local", model="whisper-tiny.en").model == "whisper-tiny.en"
    assert get_engine(name="local", model="pocketsphinx-en-us").model == "whisper-base"  # a job queued before


def test_the_model_loads_once_per_process_however_many_jobs_start_at_once(monkeypatch):
    loads = []

    def slow_load(weights, *, threads):
        loads.append(weights.name)
        time.sleep(0.2)
        return object()

    monkeypatch.setattr(local_engine, "load_model", slow_load)
    monkeypatch.setattr(local_engine, "_models", {})
    models = []
    threads = [
        threading.Thread(target=lambda: models.append(local_engine._shared_model(WEIGHTS["tiny.en"], 2)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert loads == ["tiny.en"]
    assert len({id(model) for model in models}) == 1


def test_a_new_process_transcribes_with_no_network_at_all(librivox_wav):
    """Loading and running in a process whose network namespace has no interface but a down loopback."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    offline = transcribe_without_network(sys.executable, librivox_wav.path, env)

    assert offline.returncode == 0, offline.stderr[-2000:]
    assert word_error_rate(librivox_wav.text, offline.stdout) <= 0.05, offline.stdout


def test_nothing_reaches_for_the_network_in_process(monkeypatch, librivox_wav):
    """The same inside the test process, where a connection attempt fails the test by name."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access: {args!r}")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(local_engine, "_models", {})

    result, _ = transcribe(get_engine(name="local", model="whisper-tiny.en"), librivox_wav.path)

    assert word_error_rate(librivox_wav.text, result.text) <= 0.1


def test_weights_that_do_not_match_the_published_hash_are_refused_loudly(caplog, tmp_path):
    weights = WEIGHTS["tiny.en"]
    package_dir = Path(local_engine._package_file(*weights.others))
    copy = tmp_path / "tampered_whisper"
    shutil.copytree(package_dir.parent, copy)
    with (copy / "model" / "config.json").open("a") as config:
        config.write(" ")
    tampered = WhisperWeights(
        name="tampered",
        english_only=True,
        model_bin_parts=weights.model_bin_parts,
        others=("tampered_whisper", "model"),
        sha256=weights.sha256,
    )

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(tmp_path))
        with caplog.at_level(logging.CRITICAL), pytest.raises(WeightsMismatch):
            load_model(tampered, threads=1)

    assert "config.json" in caplog.text
    assert "model.bin" not in caplog.text.split("sha256")[0]  # the unchanged weights passed


def test_check_names_an_unknown_model(settings):
    settings.LOCAL_WHISPER_MODEL = "large-v3"

    assert [error.id for error in local_whisper_settings()] == ["transcriptions.E001"]


def test_the_engine_records_which_model_and_how_it_decodes(settings):
    settings.LOCAL_WHISPER_THREADS = 3
    settings.LOCAL_WHISPER_BEAM_SIZE = 5

    engine = get_engine(name="local")

    assert isinstance(engine, LocalEngine)
    assert (engine.threads, engine.beam_size) == (3, 5)


@pytest.mark.parametrize("voice", sorted(GREETINGS))
def test_french_spanish_and_german_speech_is_translated_to_english(tmp_path, voice):
    clip = espeak(tmp_path / f"{voice}.wav", voice=voice, text=GREETINGS[voice])

    result, _ = transcribe(get_engine(name="local"), clip, words=False, task="translate")

    words = set(normalise(result.text))
    assert words >= GREETINGS_IN_ENGLISH, result.text
    assert words & {"good", "morning", "day", "hello", "thank", "thanks", "please"}, result.text
    assert not words & {"bonjour", "merci", "voudrais", "buenos", "gracias", "quiero", "guten", "dank", "kaffee"}


def test_translated_words_are_timed_inside_their_segments(tmp_path):
    clip = espeak(tmp_path / "es.wav", voice="es", text=GREETINGS["es"])

    result, _ = transcribe(get_engine(name="local"), clip, words=True, task="translate")

    assert "coffee" in normalise(result.text), result.text
    assert_well_formed(result, clip)


def test_an_english_only_model_cannot_translate(settings, speech_wav):
    engine = LocalEngine(weights=WEIGHTS["tiny.en"], threads=1, beam_size=1)

    assert engine.for_translation(words=False) is None
    assert get_engine(name="local").for_translation(words=True) is not None  # whisper-base: multilingual
    with pytest.raises(EngineRejected, match="cannot translate"):
        transcribe(engine, speech_wav, task="translate")


# --- Language detection -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "hi", "fr", "es", "de"])
def test_the_language_spoken_is_detected_with_its_probability(tmp_path, language):
    clip = speak(tmp_path / f"{language}.wav", language=language)

    result, _ = transcribe(get_engine(name="local"), clip, words=False)

    assert result.language == language, result.text
    assert 0.5 < result.language_probability <= 1


def test_two_minutes_of_music_before_the_speech_do_not_decide_its_language(tmp_path):
    speech = espeak(tmp_path / "fr.wav", voice="fr", text=SPOKEN["fr"])
    clip = tmp_path / "music-then-french.wav"
    ffmpeg(
        *("-f", "lavfi", "-i", "sine=frequency=440:duration=125:sample_rate=16000"),
        *("-i", str(speech), "-filter_complex", "[1:a]aresample=16000[s];[0:a][s]concat=n=2:v=0:a=1"),
        str(clip),
    )

    result, _ = transcribe(get_engine(name="local"), clip, words=False)

    assert result.language == "fr", result.text
    assert result.segments[0].start > 120  # the speech, after the first window


def test_a_given_language_is_not_detected(librivox_wav):
    result, _ = transcribe(get_engine(name="local"), librivox_wav.path, language="en", words=False)

    assert (result.language, result.language_probability) == ("", None)


def test_detection_less_sure_than_asked_stops_the_job(tmp_path):
    clip = espeak(tmp_path / "hi.wav", voice="hi", text=SPOKEN["hi"])  # espeak-ng's own Hindi voice: unsure

    with pytest.raises(LanguageUncertain, match=r"probability of 0\.[0-8]"):
        transcribe(get_engine(name="local"), clip, words=False, min_language_probability=0.9)


def test_silence_cannot_be_held_to_a_language_probability(tmp_path):
    clip = tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "5", str(clip))

    result, _ = transcribe(get_engine(name="local"), clip, words=False)
    with pytest.raises(LanguageUncertain, match="No speech"):
        transcribe(get_engine(name="local"), clip, words=False, min_language_probability=0.1)

    assert (result.text, result.language, result.language_probability) == ("", "", None)


# --- Custom vocabulary --------------------------------------------------------------------------


def test_keywords_get_rare_names_spelled_that_whisper_does_not_know(tmp_path):
    names = ["Thiruvananthapuram", "Razorpay", "Kozhikode", "Zerodha"]
    clip = tmp_path / "names.wav"
    parts = [
        espeak(
            tmp_path / f"{name}.wav", voice="en", text=RARE_NAMES[name], words_per_minute=RARE_NAMES_WORDS_PER_MINUTE
        )
        for name in names
    ]
    ffmpeg(
        *[arg for part in parts for arg in ("-i", str(part))],
        "-filter_complex",
        f"concat=n={len(parts)}:v=0:a=1",
        str(clip),
    )
    engine = get_engine(name="local")

    plain, _ = transcribe(engine, clip, language="en", words=False)
    with_keywords, _ = transcribe(
        engine, clip, language="en", words=False, keywords=names, prompt="Bookings and payments."
    )

    assert len(terms_heard(names, plain.text)) <= 1, plain.text
    assert len(terms_heard(names, with_keywords.text)) >= 3, with_keywords.text
    assert with_keywords.text.count(",") < 6  # the keywords are not written out as a list
