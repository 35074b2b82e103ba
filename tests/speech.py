"""Real human speech with its reference text, and word error rate, for tests and benchmarks.

The speech is the LibriVox set of Debian's `pocketsphinx-testdata` package (five utterances read
from Sense and Sensibility, BSD-2): `scripts/install-system-packages.sh` installs it.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")

_REFERENCE_LINE = re.compile(r"^<s>(.*)</s>\s*\((\S+)\)$")
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"), (100, "hundred"))


@dataclass(frozen=True)
class Utterance:
    path: Path
    text: str


def librivox() -> list[Utterance]:
    """The utterances in the order of their reference file."""
    utterances = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        match = _REFERENCE_LINE.match(line.strip())
        if match:
            text, name = match.groups()
            utterances.append(Utterance(path=LIBRIVOX / f"{name}.wav", text=text.strip()))
    return utterances


def joined(dest: Path, *, repeat: int = 1) -> Utterance:
    """All the utterances one after another, `repeat` times, as one WAV file."""
    utterances = librivox() * repeat
    subprocess.run(["sox", *(str(u.path) for u in utterances), str(dest)], check=True)
    return Utterance(path=dest, text=" ".join(u.text for u in utterances))


def number_words(number: int) -> str:
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for scale, name in _SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(number)  # unreachable: every number >= 100 has a scale


def normalise(text: str) -> list[str]:
    """Words compared the usual way: lowercase, no punctuation (a hyphen or dash splits words),
    numbers spelled out, common abbreviations written in full."""
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = re.sub(r"\d+", lambda match: f" {number_words(int(match.group()))} ", text)
    text = re.sub(r"['’]", "", text)  # don't -> dont, on both sides
    words = re.sub(r"[^a-z]+", " ", text).split()
    return [_ABBREVIATIONS.get(word, word) for word in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words in the reference, after `normalise`."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def transcribe_without_network(python: str, path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Transcribe `path` with the offline engine in a new process (of `python`) whose network
    namespace has nothing in it, not even a working loopback. Its text is on stdout."""
    code = (
        "import django; django.setup(); from pathlib import Path; from transcriptions.engines import get_engine; "
        f"print(get_engine(name='local').transcribe(path=Path({str(path)!r}), language=None, words=False, "
        "on_progress=lambda fraction: None).text)"
    )
    env = {key: value for key, value in env.items() if not key.startswith("HF_")}  # no flag: no network
    return subprocess.run(
        ["unshare", "--map-root-user", "--net", python, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
