"""PCM16 audio as live sessions receive it: base64 text in, 16 kHz float samples out (what the
voice activity detector and Whisper take). Plain functions and a small stateful resampler."""

import base64
import binascii

import numpy as np

ENGINE_RATE = 16_000
INPUT_RATES = (24_000, 16_000)


class InvalidAudio(ValueError):
    """The appended audio cannot be PCM16: its text is not base64, or it splits a sample."""


def pcm16_decode(text: str) -> bytes:
    """The bytes of one `input_audio_buffer.append`; raises `InvalidAudio`."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidAudio("`audio` is not valid base64.") from exc
    if len(data) % 2:
        raise InvalidAudio("PCM16 audio comes in whole 2-byte samples; this chunk has an odd number of bytes.")
    return data


class Resampler:
    """Little-endian PCM16 at `rate` to float32 at 16 kHz, chunk after chunk, with the same samples
    whatever the chunking. 24 kHz is 3 samples in for 2 out: each output sample is the mean of the
    input samples nearest it (a light low-pass on the way down)."""

    def __init__(self, rate: int) -> None:
        if rate not in INPUT_RATES:
            raise ValueError(f"Unsupported sample rate {rate}.")
        self.rate = rate
        self._carry = np.zeros(0, dtype=np.float32)

    def feed(self, data: bytes) -> np.ndarray:
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        if self.rate == ENGINE_RATE:
            return samples
        samples = np.concatenate([self._carry, samples])
        whole = len(samples) // 3 * 3
        self._carry = samples[whole:]
        triples = samples[:whole].reshape(-1, 3)
        out = np.empty((len(triples), 2), dtype=np.float32)
        out[:, 0] = (triples[:, 0] * 2 + triples[:, 1]) / 3
        out[:, 1] = (triples[:, 1] + triples[:, 2] * 2) / 3
        return out.reshape(-1)


def seconds_of(byte_count: int, rate: int) -> float:
    """How long `byte_count` bytes of PCM16 mono at `rate` last."""
    return byte_count / 2 / rate
