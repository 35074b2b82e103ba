"""The offline engine on human speech, beside the one it replaced (PocketSphinx), in one run.

Speech: the LibriVox utterances of Debian's `pocketsphinx-testdata` (tests/speech.py), joined
(25 s) for the word error rate, joined five times (2 min) for the speed. Each engine runs in a
fresh process of its own, through the same decode step, so its load time and memory are its own:

- WER on the 25 s set, normalised (lowercase, no punctuation, numbers as words). Target <= 3%.
- Real-time factor on the 2-minute file, 2 cores (processing seconds / audio seconds). Target <= 0.2.
- Model load in a new process (files checked against their hashes, then loaded). Target < 3 s.
- Resident memory after 20 jobs in one process, and its growth from the 2nd job to the 20th
  (flat: the model is loaded once and nothing accumulates). Target < 600 MB.
- With `--long-minutes N` (default 60): an N-minute recording in one job, its RTF and peak RSS,
  which stays near the 2-minute job's because the audio is read a window at a time.

    .venv/bin/python -m bench.offline_engine [--long-minutes 60]
"""

import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_rows  # noqa: E402
from tests.speech import joined, word_error_rate  # noqa: E402

JOBS_FOR_MEMORY = 20
MB = 1024


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / MB


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB


class PocketSphinx:
    """The previous offline engine as it ran: CMU PocketSphinx 5 and its bundled US English model,
    its voice activity segmenter cutting the decoded 16 kHz WAV into utterances."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL")

    def transcribe(self, path: Path) -> str:
        from pocketsphinx import Segmenter

        from transcriptions.engines import media

        with tempfile.TemporaryDirectory() as workdir:
            decoded = media.decode(path, Path(workdir))
            segmenter = Segmenter(sample_rate=media.SAMPLE_RATE)
            texts = []
            with wave.open(str(decoded.path), "rb") as wav:
                pcm = wav.readframes(wav.getnframes()) + b"\0" * (2 * media.SAMPLE_RATE)
            for speech in segmenter.segment(io.BytesIO(pcm)):
                self.decoder.start_utt()
                self.decoder.process_raw(speech.pcm, full_utt=True)
                self.decoder.end_utt()
                hypothesis = self.decoder.hyp()
                if hypothesis and hypothesis.hypstr.strip():
                    texts.append(hypothesis.hypstr.strip())
        return " ".join(texts)


class Whisper:
    def __init__(self, model: str) -> None:
        from transcriptions.engines import local

        self.engine = local.LocalEngine.from_settings(model=model)
        local._shared_model(self.engine.weights, self.engine.threads)

    def transcribe(self, path: Path) -> str:
        return self.engine.transcribe(path=path, language=None, words=False, on_progress=lambda fraction: None).text


def child(engine_name: str, files: list[str], repeat: int) -> None:
    """In a fresh process: load the engine, transcribe each file `repeat` times, print JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    started = time.perf_counter()
    engine = PocketSphinx() if engine_name == "pocketsphinx" else Whisper(engine_name)
    report = {"load_seconds": time.perf_counter() - started, "rss_after_load": _rss_mb(), "jobs": []}
    for path in files:
        for _ in range(repeat):
            began = time.perf_counter()
            text = engine.transcribe(Path(path))
            seconds = time.perf_counter() - began
            report["jobs"].append({"file": path, "seconds": seconds, "text": text, "rss": _rss_mb()})
    report["peak_rss"] = _peak_rss_mb()
    print(json.dumps(report))


def measure(engine: str, files: list[Path], repeat: int = 1) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.offline_engine", "--child", engine, "--repeat", str(repeat), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    return json.loads(completed.stdout.splitlines()[-1])


def duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def run(long_minutes: int = 60) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as scratch:
        workdir = Path(scratch)
        short = joined(workdir / "librivox.wav")
        two_minutes = joined(workdir / "two-minutes.wav", repeat=5)
        rows = []
        results = {}
        for engine in ("pocketsphinx", "whisper-tiny.en", "whisper-base"):
            report = measure(engine, [short.path, two_minutes.path])
            results[engine] = report
            wer = word_error_rate(short.text, report["jobs"][0]["text"])
            rtf = report["jobs"][1]["seconds"] / duration(two_minutes.path)
            print(
                f"  {engine:16} WER {wer:6.1%}  RTF {rtf:.3f}  load {report['load_seconds']:.2f} s  "
                f"peak RSS {report['peak_rss']:.0f} MB",
                flush=True,
            )
            results[engine] |= {"wer": wer, "rtf": rtf}
        base, old = results["whisper-base"], results["pocketsphinx"]
        rows += [
            Row(
                "WER, LibriVox 25 s, whisper-base",
                f"{base['wer']:.1%}",
                f"PocketSphinx {old['wer']:.1%}",
                base["wer"] / old["wer"] if old["wer"] else None,
                "<= 3%",
                base["wer"] <= 0.03,
            ),
            Row(
                "WER, whisper-tiny.en (LOCAL_WHISPER_MODEL=tiny.en)",
                f"{results['whisper-tiny.en']['wer']:.1%}",
                f"PocketSphinx {old['wer']:.1%}",
            ),
            Row(
                f"RTF, 2 min file, whisper-base, {len(os.sched_getaffinity(0))} cores",
                f"{base['rtf']:.3f}",
                f"PocketSphinx {old['rtf']:.3f}",
                base["rtf"] / old["rtf"],
                "<= 0.2",
                base["rtf"] <= 0.2,
            ),
            Row(
                "RTF, whisper-tiny.en",
                f"{results['whisper-tiny.en']['rtf']:.3f}",
                f"PocketSphinx {old['rtf']:.3f}",
                results["whisper-tiny.en"]["rtf"] / old["rtf"],
            ),
            Row(
                "model load (hash check + load), whisper-base",
                f"{base['load_seconds']:.2f} s",
                f"PocketSphinx {old['load_seconds']:.2f} s",
                target="< 3 s",
                met=base["load_seconds"] < 3,
            ),
        ]
        memory = measure("whisper-base", [short.path], repeat=JOBS_FOR_MEMORY)
        job_rss = [job["rss"] for job in memory["jobs"]]
        print(f"  RSS over {JOBS_FOR_MEMORY} jobs (MB): {' '.join(f'{rss:.0f}' for rss in job_rss)}", flush=True)
        rows.append(
            Row(
                f"RSS after {JOBS_FOR_MEMORY} jobs, whisper-base (peak)",
                f"{job_rss[-1]:.0f} MB ({memory['peak_rss']:.0f})",
                f"after job 2: {job_rss[1]:.0f} MB",
                job_rss[-1] / job_rss[1],
                "< 600 MB, flat",
                memory["peak_rss"] < 600 and job_rss[-1] - job_rss[1] < 20,
            )
        )
        if long_minutes:
            long = joined(workdir / "long.wav", repeat=round(long_minutes * 60 / duration(short.path)))
            report = measure("whisper-base", [long.path])
            rows.append(
                Row(
                    f"{duration(long.path) / 60:.0f} min in one job, whisper-base: RTF (peak RSS)",
                    f"{report['jobs'][0]['seconds'] / duration(long.path):.3f} ({report['peak_rss']:.0f} MB)",
                    f"2 min job: {base['rtf']:.3f} ({base['peak_rss']:.0f} MB)",
                    report["peak_rss"] / base["peak_rss"],
                    "peak RSS < 600 MB",
                    report["peak_rss"] < 600,
                )
            )
        return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--long-minutes", type=int, default=60)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.files, args.repeat)
    else:
        print_rows("Offline engine", run(long_minutes=args.long_minutes))
