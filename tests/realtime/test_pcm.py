import base64

import numpy as np
import pytest

from realtime.pcm import InvalidAudio, Resampler, pcm16_decode


def test_base64_that_does_not_decode_or_splits_a_sample_is_refused():
    with pytest.raises(InvalidAudio, match="base64"):
        pcm16_decode("not base64!")
    with pytest.raises(InvalidAudio, match="2-byte"):
        pcm16_decode(base64.b64encode(b"\x01\x02\x03").decode())
    assert pcm16_decode(base64.b64encode(b"\x01\x02").decode()) == b"\x01\x02"


def test_16_khz_passes_through_as_floats():
    data = np.array([0, 16384, -32768], dtype="<i2").tobytes()

    assert Resampler(16_000).feed(data).tolist() == [0.0, 0.5, -1.0]


def test_24_khz_becomes_two_thirds_as_many_samples_whatever_the_chunking():
    tone = (np.sin(np.arange(24_000) * 2 * np.pi * 440 / 24_000) * 20_000).astype("<i2").tobytes()
    whole = Resampler(24_000).feed(tone)

    pieces = Resampler(24_000)
    chunked = np.concatenate([pieces.feed(tone[i : i + 1234]) for i in range(0, len(tone), 1234)])

    assert len(whole) == 16_000
    assert np.array_equal(whole, chunked)
    expected = np.sin(np.arange(16_000) * 2 * np.pi * 440 / 16_000) * 20_000 / 32768
    assert np.abs(whole - expected).max() < 0.05  # the same 440 Hz tone at 16 kHz


def test_other_rates_are_refused():
    with pytest.raises(ValueError, match="rate"):
        Resampler(44_100)
