"""The offline engine: CMU PocketSphinx with the US English model its wheel ships.

No network and no downloads, so the service works on a fresh machine; its accuracy is far below
Whisper's, which is why results carry `engine: "local"`. For development and demos only.
"""

import tempfile
import wave
from pathlib import Path

from pocketsphinx import Decoder, Segmenter

from transcriptions.engines import media
from transcriptions.engines.base import EngineRejected, EngineResult, ProgressCallback, Segment

LANGUAGE = "en"


class _PcmReader:
    """Raw 16-bit PCM from a WAV file for the segmenter, then a second of silence so speech that
    runs to the very end is still closed off and decoded."""

    def __init__(self, wav: wave.Wave_read) -> None:
        self._wav = wav
        self._padding = b"\0" * (2 * media.SAMPLE_RATE)

    def read(self, size: int) -> bytes:
        data = self._wav.readframes(size // 2)
        if data:
            return data
        data, self._padding = self._padding[:size], self._padding[size:]
        return data


class LocalEngine:
    name = "local"
    model = "pocketsphinx-en-us"

    def supports_language(self, language: str) -> bool:
        return language in ("", LANGUAGE)

    def transcribe(self, *, path: Path, language: str | None, on_progress: ProgressCallback) -> EngineResult:
        if not self.supports_language(language or ""):
            raise EngineRejected("The offline engine understands English only.")
        with tempfile.TemporaryDirectory(prefix="transcribe-") as workdir:
            try:
                decoded = media.decode(path, Path(workdir))
            except media.AudioDecodeError as exc:
                raise EngineRejected("The audio could not be decoded.") from exc
            decoder = Decoder(loglevel="FATAL")  # defaults to the bundled en-us model
            segmenter = Segmenter(sample_rate=media.SAMPLE_RATE)
            segments = []
            with wave.open(str(decoded.path), "rb") as wav:
                for speech in segmenter.segment(_PcmReader(wav)):
                    decoder.start_utt()
                    decoder.process_raw(speech.pcm, full_utt=True)
                    decoder.end_utt()
                    hypothesis = decoder.hyp()
                    if hypothesis and hypothesis.hypstr.strip():
                        segments.append(Segment(speech.start_time, speech.end_time, hypothesis.hypstr.strip()))
                    on_progress(min(speech.end_time / decoded.duration, 1.0))
        return EngineResult(text=" ".join(segment.text for segment in segments), segments=segments)
