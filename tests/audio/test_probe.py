from decimal import Decimal

import pytest

from audio.exceptions import InvalidAudio, UnsupportedFormat
from audio.probe import probe_audio, read_duration, sniff_container
from tests.audio.conftest import SUPPORTED_FORMATS, soxi_duration

TOLERANCE = Decimal("0.1")


@pytest.mark.parametrize(
    ("ext", "expected_format"),
    SUPPORTED_FORMATS,
)
def test_each_supported_format_is_identified_and_measured(samples, ext, expected_format):
    probe = probe_audio(samples.tone(1, ext))

    assert probe.format == expected_format
    assert abs(probe.duration_seconds - 1) <= TOLERANCE


@pytest.mark.parametrize(("ext", "expected_format"), SUPPORTED_FORMATS)
@pytest.mark.parametrize("seconds", [7.5, 12.5, 32.2])
def test_the_end_is_found_wherever_a_seek_before_it_lands(samples, ext, expected_format, seconds):
    """The end is checked by seeking a little before it; WebM seeks to the block before (every 5 s
    from ffmpeg), so a window measured from where the seek landed fell short of the end."""
    probe = probe_audio(samples.tone(seconds, ext))

    assert probe.format == expected_format
    assert abs(probe.duration_seconds - Decimal(str(seconds))) <= TOLERANCE


@pytest.mark.parametrize("seconds", [120, 3599, 3601])
def test_long_mp3_durations_come_from_the_header_within_a_tenth_of_a_second(samples, seconds):
    probe = probe_audio(samples.tone(seconds))

    assert probe.format == "mp3"
    assert abs(probe.duration_seconds - seconds) <= TOLERANCE


def test_ffmpeg_encoder_delay_and_padding_are_not_counted(samples):
    # FFmpeg's MP3 frames hold 1.080 s of samples for a 1-second recording; its tag says which are padding.
    assert probe_audio(samples.tone(1)).duration_seconds == Decimal("1.000")


@pytest.mark.parametrize("ext", ["wav", "mp3", "ogg", "m4a"])
def test_speech_duration_matches_sox(samples, ext):
    reference = soxi_duration(samples.speech())

    probe = probe_audio(samples.speech(ext))

    assert reference > 2
    assert abs(probe.duration_seconds - reference) <= TOLERANCE


def test_video_with_an_audio_track_is_accepted_as_mp4(samples):
    probe = probe_audio(samples.video_with_audio())

    assert probe.format == "mp4"
    assert abs(probe.duration_seconds - 2) <= TOLERANCE


def test_webm_without_a_duration_in_its_header_is_measured_from_its_packets(samples):
    assert read_duration(sniff_container(samples.streamed_webm(5)), samples.streamed_webm(5)) is None

    probe = probe_audio(samples.streamed_webm(5))

    assert probe.format == "webm"
    assert abs(probe.duration_seconds - 5) <= TOLERANCE


def test_content_decides_not_the_name(samples, tmp_path):
    disguised = tmp_path / "photo.png"
    disguised.write_bytes(samples.tone(1, "flac").read_bytes())

    assert probe_audio(disguised).format == "flac"


def test_mp3_files_joined_end_to_end_are_measured_whole(samples, tmp_path):
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(samples.tone(10).read_bytes() + samples.tone(120).read_bytes())

    probe = probe_audio(joined)

    # The first file's header announces 10 s; the packets go on for 130 s (plus a frame or two).
    assert Decimal(130) <= probe.duration_seconds <= Decimal("130.5")


@pytest.mark.parametrize("kind", ["text", "png", "zip"])
def test_files_that_are_not_audio_are_unsupported(samples, kind):
    with pytest.raises(UnsupportedFormat):
        probe_audio(getattr(samples, kind)())


@pytest.mark.parametrize("ext", ["aac", "aiff", "mp2", "mkv", "spx"])
def test_audio_in_containers_openai_does_not_take_is_unsupported(samples, ext):
    with pytest.raises(UnsupportedFormat):
        probe_audio(samples.other_audio(ext))


def test_video_without_audio_is_unsupported(samples):
    with pytest.raises(UnsupportedFormat, match="no audio track"):
        probe_audio(samples.video_only())


@pytest.mark.parametrize("ext", ["mp3", "flac", "wav", "m4a", "webm"])
def test_truncated_files_are_invalid(samples, ext):
    with pytest.raises(InvalidAudio):
        probe_audio(samples.truncated(ext))


def test_truncated_ogg_is_measured_to_its_last_complete_page(samples):
    # Ogg has no length in its header: the last page's position is the length, so a cut-short Ogg
    # is simply a shorter recording.
    probe = probe_audio(samples.truncated("ogg"))

    assert 0 < probe.duration_seconds < 9


@pytest.mark.parametrize("ext", ["flac", "wav", "m4a", "ogg"])
def test_corrupt_headers_are_invalid(samples, ext):
    with pytest.raises(InvalidAudio):
        probe_audio(samples.corrupt_header(ext))


def test_header_without_samples_is_invalid(samples):
    with pytest.raises(InvalidAudio, match="no audio"):
        probe_audio(samples.silence_of_no_length())


def test_id3_tag_followed_by_garbage_is_unsupported(tmp_path):
    path = tmp_path / "tag-only.mp3"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x05" + b"TIT2\x00" + b"garbage that is no MPEG frame" * 10)

    with pytest.raises(UnsupportedFormat):
        probe_audio(path)
