"""Silero VAD, the copy faster-whisper ships (`faster_whisper/assets`), run on a live stream:
one speech probability per 32 ms window, the model's state carried from window to window so a
stream fed in pieces gets the probabilities the whole recording would. Loaded once per process
(faster-whisper caches it); nothing is downloaded."""

import numpy as np
from faster_whisper.vad import get_vad_model

WINDOW_SAMPLES = 512
CONTEXT_SAMPLES = 64


class StreamingVad:
    """One per live session (the model behind it is shared and thread-safe)."""

    def __init__(self) -> None:
        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> list[float]:
        """The probabilities of the whole windows completed by `samples` (16 kHz float32)."""
        audio = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(audio) // WINDOW_SAMPLES * WINDOW_SAMPLES
        self._pending = audio[whole:]
        probabilities = []
        for start in range(0, whole, WINDOW_SAMPLES):
            window = audio[start : start + WINDOW_SAMPLES]
            batch = np.concatenate([self._context, window])[None, :]
            output, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
            probabilities.append(float(np.asarray(output).ravel()[0]))
            self._context = window[-CONTEXT_SAMPLES:]
        return probabilities
