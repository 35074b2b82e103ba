"""The offline engine on human speech: how accurate it stays over long read speech and how much
that varies from run to run, how fast, how much memory, beside the engine it replaced (PocketSphinx).

Speech: the five LibriVox utterances of Debian's `pocketsphinx-testdata` (tests/speech.py, 25 s).
Each engine runs in a fresh process of its own, through the same decode step, so its load time and
memory are its own.

- The model's own word error rate: each utterance transcribed on its own, the floor for the rest.
- Long read speech: the utterances in turn, 1.2 s apart, repeated to 2 and 10 minutes (`--minutes`),
  so that the same sentences come back every 30 s. Each file is transcribed `--runs` times in one
  process: word error rate min/median/max, sentences dropped or written twice (an utterance whose
  share of the errors is more than a misheard word or two), real-time factor min/median/max on
  2 cores, the process's peak RSS. Targets: WER <= 3% and no worse than the model's own, no
  sentence dropped or doubled, RTF <= 0.2.
- `--long-minutes N` (default 60, 0 to skip): an N-minute file of the same kind, once.
- `--variant 'LABEL={"option": value}'` (repeatable) runs the long read speech again with
  faster-whisper's `transcribe` options overridden, in the same run, beside the engine as it is.
- `--keep DIR` writes each long read speech transcription to DIR as JSON (its text, its segments
  with their times, and the utterances dropped or doubled), to find where a sentence was lost.
- Whisper tiny.en and PocketSphinx beside whisper-base: WER on the 25 s set, RTF on 2 minutes,
  model load in a new process (target < 3 s).
- Resident memory after 20 jobs in one process, and its growth from the 2nd job to the 20th
  (flat: the model is loaded once and nothing accumulates). Target < 600 MB.
- Languages (espeak-ng voices, synthesized here, never stored; Hindi in MBROLA's voice, see
  tests/speech.py): the language detected on everyday sentences in English, Hindi, French, Spanish
  and German, with its probability; the French, Spanish and German ones translated to English,
  with the English content words found.
- Keyword recall: ten English sentences each holding a rare name (`tests.speech.RARE_NAMES`),
  transcribed without keywords, then with the ten names as keywords (faster-whisper `hotwords`,
  as the engine sends them) and, for comparison, as an `initial_prompt`: how many names are
  spelled right, and how many are written into sentences that do not say them.

    .venv/bin/python -m bench.offline_engine [--runs 3] [--minutes 2,10] [--long-minutes 60] [--variant ...]
        [--keep DIR]
    .venv/bin/python -m bench.offline_engine --only languages   # the last two alone, a few minutes
"""

import argparse
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_rows  # noqa: E402
from tests.speech import (  # noqa: E402
    GREETINGS,
    GREETINGS_IN_ENGLISH,
    RARE_NAMES,
    RARE_NAMES_WORDS_PER_MINUTE,
    SPOKEN,
    Utterance,
    espeak,
    joined,
    librivox,
    normalise,
    speak,
    terms_heard,
    utterances_dropped_or_doubled,
    word_error_rate,
)

JOBS_FOR_MEMORY = 20
PAUSE_SECONDS = 1.2
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
    def __init__(self, model: str, options: dict) -> None:
        from transcriptions.engines import local

        if options:  # what the engine passes to faster-whisper, with `options` on top
            transcribe = local.WhisperModel.transcribe
            local.WhisperModel.transcribe = lambda model, audio, **kwargs: transcribe(model, audio, **kwargs | options)
        self.engine = local.LocalEngine.from_settings(model=model)
        local._shared_model(self.engine.weights, self.engine.threads)

    def transcribe(self, path: Path, **request) -> dict:
        result = self.engine.transcribe(
            path=path, language=request.pop("language", None), words=False, on_progress=lambda f: None, **request
        )
        return {
            "text": result.text,
            "segments": [[segment.start, segment.end, segment.text] for segment in result.segments],
            "language": result.language,
            "language_probability": result.language_probability,
        }


def child(engine_name: str, files: list[str], repeat: int, options: dict, request: dict) -> None:
    """In a fresh process: load the engine, transcribe each file `repeat` times, print JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    started = time.perf_counter()
    engine = PocketSphinx() if engine_name == "pocketsphinx" else Whisper(engine_name, options)
    report = {"load_seconds": time.perf_counter() - started, "rss_after_load": _rss_mb(), "jobs": []}
    for path in files:
        for _ in range(repeat):
            began = time.perf_counter()
            if isinstance(engine, PocketSphinx):
                result = {"text": engine.transcribe(Path(path))}
            else:
                result = engine.transcribe(Path(path), **request)
            seconds = time.perf_counter() - began
            report["jobs"].append({"file": path, "seconds": seconds, **result, "rss": _rss_mb()})
    report["peak_rss"] = _peak_rss_mb()
    print(json.dumps(report))


def measure(
    engine: str, files: list[Path], repeat: int = 1, options: dict | None = None, request: dict | None = None
) -> dict:
    """`options` override faster-whisper's; `request` is what a job would ask of the engine."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.offline_engine",
            "--child",
            engine,
            "--repeat",
            str(repeat),
            "--options",
            json.dumps(options or {}),
            "--request",
            json.dumps(request or {}),
            *map(str, files),
        ],
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


def spread(values: list[float], fmt: str) -> str:
    """The median, then the lowest and the highest in brackets."""
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def own_error_rate(runs: int) -> list[float]:
    """whisper-base on each utterance alone, `runs` times: the word error rate of the five together."""
    utterances = librivox()
    report = measure("whisper-base", [u.path for u in utterances], repeat=runs)
    reference = " ".join(u.text for u in utterances)
    texts = [[job["text"] for job in report["jobs"][i * runs : (i + 1) * runs]] for i in range(len(utterances))]
    return [word_error_rate(reference, " ".join(clip_texts[run] for clip_texts in texts)) for run in range(runs)]


def read_speech(
    label: str, recording: Utterance, runs: int, options: dict, own: float, keep: Path | None = None
) -> list[Row]:
    """The rows of `runs` transcriptions of one long recording in one fresh process; with `keep`,
    each transcription is written there too."""
    report = measure("whisper-base", [recording.path], repeat=runs, options=options)
    minutes = duration(recording.path) / 60
    wers = [word_error_rate(recording.text, job["text"]) for job in report["jobs"]]
    missed = [utterances_dropped_or_doubled(recording.parts, job["text"]) for job in report["jobs"]]
    lost = [len(indexes) for indexes in missed]
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for run_number, (job, indexes) in enumerate(zip(report["jobs"], missed, strict=True), start=1):
            kept = {"label": label, "minutes": minutes, "wer": wers[run_number - 1], "dropped_or_doubled": indexes}
            path = keep / f"read-{minutes:.0f}min-{label}-run{run_number}.json"
            path.write_text(json.dumps(kept | {"text": job["text"], "segments": job.get("segments", [])}, indent=1))
    rtfs = [job["seconds"] / (minutes * 60) for job in report["jobs"]]
    print(
        f"  {label:24} {minutes:4.1f} min x{runs}  WER {' '.join(f'{w:.1%}' for w in wers)}  "
        f"dropped/doubled {' '.join(map(str, lost))}  RTF {' '.join(f'{r:.3f}' for r in rtfs)}  "
        f"peak RSS {report['peak_rss']:.0f} MB",
        flush=True,
    )
    name = f"{minutes:.0f} min read speech, whisper-base{'' if label == 'default' else f' ({label})'}"
    runs_note = f", {runs} runs" if runs > 1 else ""
    return [
        Row(
            f"WER, {name}: median (min–max){runs_note}",
            spread(wers, ".1%"),
            f"own, utterance by utterance: {own:.1%}",
            statistics.median(wers) / own if own else None,
            "<= 3%, <= own",
            max(wers) <= 0.03 and max(wers) <= own + 0.001,
        ),
        Row(
            f"sentences dropped or doubled, {name}{runs_note}",
            " / ".join(map(str, lost)),
            f"of {len(recording.parts)}",
            target="0",
            met=not any(lost),
        ),
        Row(
            f"RTF (peak RSS), {name}, {len(os.sched_getaffinity(0))} cores",
            f"{spread(rtfs, '.3f')} ({report['peak_rss']:.0f} MB)",
            target="<= 0.2",
            met=max(rtfs) <= 0.2,
        ),
    ]


def engines(short: Utterance, two_minutes: Utterance) -> list[Row]:
    """whisper-base, whisper-tiny.en and PocketSphinx, once each, on the 25 s set and 2 minutes."""
    results = {}
    for engine in ("pocketsphinx", "whisper-tiny.en", "whisper-base"):
        report = measure(engine, [short.path, two_minutes.path])
        wer = word_error_rate(short.text, report["jobs"][0]["text"])
        rtf = report["jobs"][1]["seconds"] / duration(two_minutes.path)
        print(
            f"  {engine:24} WER {wer:6.1%}  RTF {rtf:.3f}  load {report['load_seconds']:.2f} s  "
            f"peak RSS {report['peak_rss']:.0f} MB",
            flush=True,
        )
        results[engine] = report | {"wer": wer, "rtf": rtf}
    base, tiny, old = results["whisper-base"], results["whisper-tiny.en"], results["pocketsphinx"]
    return [
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
            f"{tiny['wer']:.1%}",
            f"PocketSphinx {old['wer']:.1%}",
        ),
        Row(
            "RTF, 2 min file, whisper-tiny.en",
            f"{tiny['rtf']:.3f}",
            f"PocketSphinx {old['rtf']:.3f}",
            tiny["rtf"] / old["rtf"],
        ),
        Row(
            "model load (hash check + load), whisper-base",
            f"{base['load_seconds']:.2f} s",
            f"PocketSphinx {old['load_seconds']:.2f} s",
            target="< 3 s",
            met=base["load_seconds"] < 3,
        ),
    ]


def memory(short: Utterance) -> Row:
    report = measure("whisper-base", [short.path], repeat=JOBS_FOR_MEMORY)
    job_rss = [job["rss"] for job in report["jobs"]]
    print(f"  RSS over {JOBS_FOR_MEMORY} jobs (MB): {' '.join(f'{rss:.0f}' for rss in job_rss)}", flush=True)
    return Row(
        f"RSS after {JOBS_FOR_MEMORY} jobs, whisper-base (peak)",
        f"{job_rss[-1]:.0f} MB ({report['peak_rss']:.0f})",
        f"after job 2: {job_rss[1]:.0f} MB",
        job_rss[-1] / job_rss[1],
        "< 600 MB, flat",
        report["peak_rss"] < 600 and job_rss[-1] - job_rss[1] < 20,
    )


def languages(workdir: Path) -> list[Row]:
    """Detection on five espeak-ng voices, and translation of three of them to English."""
    voices = list(SPOKEN)
    clips = [speak(workdir / f"spoken-{voice}.wav", language=voice) for voice in voices]
    report = measure("whisper-base", clips)
    right = 0
    for voice, job in zip(voices, report["jobs"], strict=True):
        right += job["language"] == voice
        print(f"  detected {voice}: {job['language']} ({job['language_probability']:.2f})", flush=True)
    detections = ", ".join(
        f"{voice}→{job['language']} {job['language_probability']:.2f}"
        for voice, job in zip(voices, report["jobs"], strict=True)
    )
    translated_voices = list(GREETINGS)
    clips = [
        espeak(workdir / f"greeting-{voice}.wav", voice=voice, text=GREETINGS[voice]) for voice in translated_voices
    ]
    report = measure("whisper-base", clips, request={"task": "translate"})
    found = 0
    for voice, job in zip(translated_voices, report["jobs"], strict=True):
        found += set(normalise(job["text"])) >= GREETINGS_IN_ENGLISH
        print(f"  translated {voice}: {job['text']}", flush=True)
    return [
        Row(
            f"language detected, espeak-ng (hi: MBROLA) {'/'.join(voices)}, whisper-base",
            f"{right}/{len(voices)} ({detections})",
            target=f"{len(voices)}/{len(voices)}",
            met=right == len(voices),
        ),
        Row(
            f"translated to English with {'/'.join(sorted(GREETINGS_IN_ENGLISH))}, espeak-ng "
            f"{'/'.join(translated_voices)}",
            f"{found}/{len(translated_voices)}",
            target=f"{len(translated_voices)}/{len(translated_voices)}",
            met=found == len(translated_voices),
        ),
    ]


def keyword_recall(workdir: Path) -> list[Row]:
    """Ten rare names, each in a sentence of its own: spelled right without and with keywords."""
    names = list(RARE_NAMES)
    clips = [
        espeak(
            workdir / f"name-{i}.wav", voice="en", text=RARE_NAMES[name], words_per_minute=RARE_NAMES_WORDS_PER_MINUTE
        )
        for i, name in enumerate(names)
    ]
    plain = {"language": "en"}
    settings = {
        "without keywords": ({}, plain),
        "keywords (hotwords, as served)": ({}, {**plain, "keywords": names}),
        "keywords as initial_prompt": ({"initial_prompt": ", ".join(names) + "."}, plain),
    }
    recall: dict[str, tuple[int, int]] = {}
    for label, (options, request) in settings.items():
        report = measure("whisper-base", clips, options=options, request=request)
        heard = [terms_heard(names, job["text"]) for job in report["jobs"]]
        spelled = sum(name in found for name, found in zip(names, heard, strict=True))
        invented = sum(len([term for term in found if term != name]) for name, found in zip(names, heard, strict=True))
        recall[label] = (spelled, invented)
        print(f"  {label:32} {spelled}/{len(names)} spelled, {invented} written where not said", flush=True)
    without, served, prompted = (recall[label] for label in settings)
    return [
        Row(
            "keyword recall, 10 rare names (espeak-ng), whisper-base: with keywords / without",
            f"{served[0]}/{len(names)} ({served[1]} written where not said) / {without[0]}/{len(names)}; "
            f"as initial_prompt {prompted[0]}/{len(names)} ({prompted[1]})",
            target="with > without",
            met=served[0] > without[0],
        )
    ]


def run(
    runs: int = 3,
    minutes: tuple[int, ...] = (2, 10),
    long_minutes: int = 60,
    variants: dict | None = None,
    only: str = "",
    keep: Path | None = None,
) -> list[Row]:
    if only == "languages":
        with tempfile.TemporaryDirectory(prefix="bench-offline-") as scratch:
            return languages(Path(scratch)) + keyword_recall(Path(scratch))
    variants = {"default": {}, **(variants or {})}
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as scratch:
        workdir = Path(scratch)
        short = joined(workdir / "librivox.wav")
        passage = duration(joined(workdir / "passage.wav", pause_seconds=PAUSE_SECONDS).path) + PAUSE_SECONDS

        def read_for(length: int) -> Utterance:
            repeat = max(1, round(length * 60 / passage))
            return joined(workdir / f"read-{length}.wav", repeat=repeat, pause_seconds=PAUSE_SECONDS)

        print(f"  load average at start: {' '.join(f'{load:.1f}' for load in os.getloadavg())}", flush=True)
        own = own_error_rate(runs)
        print(f"  own WER, utterance by utterance, x{runs}: {' '.join(f'{w:.1%}' for w in own)}", flush=True)
        rows = []
        for length in minutes:
            recording = read_for(length)
            for label, options in variants.items():
                rows += read_speech(label, recording, runs, options, max(own), keep)
        rows += engines(short, read_for(2))
        rows.append(memory(short))
        if long_minutes:
            recording = read_for(long_minutes)
            for label, options in variants.items():
                rows += read_speech(label, recording, 1, options, max(own), keep)
        rows += languages(workdir) + keyword_recall(workdir)
        print(f"  load average at end: {' '.join(f'{load:.1f}' for load in os.getloadavg())}", flush=True)
        return rows


def _variant(text: str) -> tuple[str, dict]:
    label, _, options = text.partition("=")
    return label, json.loads(options or "{}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--request", default="{}", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=["languages"], default="", help="languages: detection, translation and keyword recall alone"
    )
    parser.add_argument("--runs", type=int, default=3, help="transcriptions of each file but the longest (default 3)")
    parser.add_argument("--minutes", default="2,10", help="lengths of the read speech run --runs times (default 2,10)")
    parser.add_argument("--long-minutes", type=int, default=60, help="a longer file, run once (default 60; 0: none)")
    parser.add_argument(
        "--variant",
        action="append",
        type=_variant,
        default=[],
        metavar="LABEL=JSON",
        help="faster-whisper options to compare, e.g. 'previous-text={\"condition_on_previous_text\": true}'",
    )
    parser.add_argument("--keep", type=Path, help="write the long read speech transcriptions to this directory")
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.files, args.repeat, json.loads(args.options), json.loads(args.request))
    else:
        rows = run(
            runs=args.runs,
            minutes=tuple(int(m) for m in args.minutes.split(",") if m),
            long_minutes=args.long_minutes,
            variants=dict(args.variant),
            only=args.only,
            keep=args.keep,
        )
        print_rows("Offline engine", rows)
