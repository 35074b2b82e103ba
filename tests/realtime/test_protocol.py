"""OpenAI's Realtime transcription events as plain data: what a `session.update` sets, what it refuses."""

import json

import pytest

from realtime.protocol import (
    ProtocolError,
    Redaction,
    SessionConfig,
    TurnDetection,
    error_event,
    event_parse,
    session_body,
)
from realtime.protocol import session_config_update as update


def audio_input(**fields) -> dict:
    return {
        "type": "session.update",
        "event_id": "evt_1",
        "session": {"type": "transcription", "audio": {"input": fields}},
    }


def test_an_update_sets_what_it_names_and_keeps_the_rest():
    config = update(SessionConfig(), audio_input(format={"type": "audio/pcm", "rate": 16_000}))
    config = update(config, audio_input(transcription={"model": "whisper-1", "language": "en"}))

    assert config == SessionConfig(rate=16_000, model="whisper-1", language="en")


def test_redaction_is_set_by_redact_pii_and_said_back_only_to_a_session_that_asked_for_it():
    fields = {"redact_pii": True, "redact_pii_policies": ["pan", "aadhaar", "pan"]}
    config = update(SessionConfig(), audio_input(transcription=fields))
    plain = update(config, audio_input(transcription={"redact_pii": False}))

    assert config.redaction == Redaction(policies=("aadhaar", "pan"), substitution="")
    said = session_body("sess_1", config)["audio"]["input"]["transcription"]
    assert (said["redact_pii"], said["redact_pii_policies"], said["redact_pii_sub"]) == (
        True,
        ["aadhaar", "pan"],
        "entity_name",
    )
    assert update(config, audio_input(transcription={"language": "en"})).redaction == config.redaction
    assert plain.redaction is None
    assert "redact_pii" not in session_body("sess_1", plain)["audio"]["input"]["transcription"]


def test_turn_detection_is_server_vad_with_its_settings_or_null_for_manual_commits():
    vad = {"type": "server_vad", "threshold": 0.6, "prefix_padding_ms": 200, "silence_duration_ms": 800}

    assert update(SessionConfig(), audio_input(turn_detection=vad)).turn_detection == TurnDetection(0.6, 200, 800)
    assert update(SessionConfig(), audio_input(turn_detection=None)).turn_detection is None


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({"format": {"type": "audio/pcm", "rate": 8000}}, "unsupported_sample_rate", "session.audio.input.format.rate"),
        ({"format": {"type": "audio/pcmu"}}, "unsupported_audio_format", "session.audio.input.format.type"),
        ({"turn_detection": {"type": "semantic_vad"}}, "unsupported_value", "session.audio.input.turn_detection.type"),
        ({"turn_detection": {"threshold": 1.5}}, "invalid_value", "session.audio.input.turn_detection.threshold"),
        (
            {"turn_detection": {"silence_duration_ms": -1}},
            "invalid_value",
            "session.audio.input.turn_detection.silence_duration_ms",
        ),
        ({"transcription": {"language": 7}}, "invalid_value", "session.audio.input.transcription.language"),
        ({"transcription": {"redact_pii": "yes"}}, "invalid_value", "session.audio.input.transcription.redact_pii"),
        (
            {"transcription": {"redact_pii": True, "redact_pii_policies": "aadhaar"}},
            "invalid_value",
            "session.audio.input.transcription.redact_pii_policies",
        ),
        (
            {"transcription": {"redact_pii": False, "redact_pii_sub": "hash"}},
            "unsupported_option",
            "session.audio.input.transcription.redact_pii",
        ),
    ],
)
def test_a_setting_the_server_cannot_serve_is_refused_naming_it(fields, code, param):
    with pytest.raises(ProtocolError) as refused:
        update(SessionConfig(), audio_input(**fields))

    assert (refused.value.code, refused.value.param, refused.value.event_id) == (code, param, "evt_1")


def test_only_transcription_sessions_are_taken():
    with pytest.raises(ProtocolError, match="transcription sessions only"):
        update(SessionConfig(), {"type": "session.update", "session": {"type": "realtime"}})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "invalid_json"),
        ("[1]", "invalid_json"),
        ('{"type": "response.create"}', "unknown_event"),
        ("{}", "unknown_event"),
    ],
)
def test_frames_that_are_no_known_event_are_refused(frame, code):
    with pytest.raises(ProtocolError) as refused:
        event_parse(frame)

    assert refused.value.code == code


def test_an_event_without_a_type_is_told_so():
    with pytest.raises(ProtocolError, match="has no `type`"):
        event_parse('{"event_id": "e1"}')


def test_server_events_have_openais_shape():
    body = session_body("sess_1", SessionConfig())
    error = error_event("insufficient_quota", "No money.", event_id="evt_9")

    assert body["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24_000}
    assert body["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert error["type"] == "error" and error["event_id"].startswith("event_")
    assert error["error"] == {
        "type": "insufficient_quota",
        "code": "insufficient_quota",
        "message": "No money.",
        "param": None,
        "event_id": "evt_9",
    }
    json.dumps(body)
