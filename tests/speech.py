"""Real human speech with its reference text, and word error rate, for tests and benchmarks.

The speech is the LibriVox set of Debian's `pocketsphinx-testdata` package (five utterances read
from Sense and Sensibility, BSD-2): `scripts/install-system-packages.sh` installs it. Speech in
other languages is synthesized with espeak-ng when asked for (`espeak`), never stored.
"""

import re
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")

# A few everyday sentences in each espeak-ng voice, and the English words a translation of them
# must hold. whisper-base hears espeak-ng's voices best read slowly (120 words a minute).
GREETINGS = {
    "fr": "Bonjour. Je voudrais un café, s'il vous plaît. Merci beaucoup.",
    "es": "Buenos días. Quiero un café, por favor. Muchas gracias.",
    "de": "Guten Morgen. Ich möchte einen Kaffee, bitte. Vielen Dank.",
}
GREETINGS_IN_ENGLISH = {"coffee"}
# Speech in five languages, to detect (`speak`). whisper-base does not hear espeak-ng's own Hindi
# voice as Hindi, at any speed or variant tried (English, Latin, Thai... at 0.1-0.6), and is unsure
# of it: tests use it for that. It does hear MBROLA's Hindi diphone voice, driven by espeak-ng
# (`mb-in1`, Debian's mbrola-in1), read slowly: at 90 words a minute 11 of 12 everyday sentences
# (0.55-0.98; the 12th as Thai), and 6 of 6 passages of two of them (0.71-0.96).
SPOKEN = {
    "en": "Good morning. I would like a cup of coffee, please. Thank you very much.",
    "hi": (
        "नमस्ते, आप कैसे हैं? मैं ठीक हूँ, धन्यवाद। आज मौसम बहुत अच्छा है। क्या आप मेरे साथ चाय पीना चाहेंगे? "
        "मेरा नाम राहुल है। मैं दिल्ली में रहता हूँ और एक बैंक में काम करता हूँ। हर सुबह मैं मेट्रो से दफ़्तर जाता हूँ।"
    ),
    **GREETINGS,
}
ESPEAK_WORDS_PER_MINUTE = 120
# The espeak-ng voice and speed of each language of SPOKEN, where not its own voice at 120 words a minute.
SPOKEN_VOICES = {"hi": ("mb-in1", 90)}

# English sentences with a rare name each (places, people and companies of South India), spoken
# by espeak-ng: the names Whisper does not know, to measure custom vocabulary by.
RARE_NAMES = {
    "Thiruvananthapuram": "Please book two tickets from Thiruvananthapuram to Chennai for Monday.",
    "Razorpay": "The payment failed, so we will try Razorpay again tomorrow morning.",
    "Kozhikode": "My grandmother still lives in a small house near Kozhikode beach.",
    "Venkataraman": "Mister Venkataraman will present the quarterly results at noon.",
    "Zerodha": "She opened a trading account with Zerodha last year.",
    "Tirunelveli": "The bus to Tirunelveli leaves at half past six.",
    "Chidambaram": "We visited the old temple in Chidambaram during the holidays.",
    "Swiggy": "He ordered dinner on Swiggy because the kitchen was closed.",
    "Nagercoil": "Her cousin teaches mathematics at a college in Nagercoil.",
    "Meenakshi": "Meenakshi called to say the meeting has been moved to Thursday.",
}
RARE_NAMES_WORDS_PER_MINUTE = 150


def terms_heard(terms: Sequence[str], text: str) -> list[str]:
    """The terms written in `text` as they are spelled (any case)."""
    return [term for term in terms if term.lower() in text.lower()]


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
    parts: tuple[str, ...] = ()  # when joined: each utterance's text, in order


def librivox() -> list[Utterance]:
    """The utterances in the order of their reference file."""
    utterances = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        match = _REFERENCE_LINE.match(line.strip())
        if match:
            text, name = match.groups()
            utterances.append(Utterance(path=LIBRIVOX / f"{name}.wav", text=text.strip()))
    return utterances


def joined(dest: Path, *, repeat: int = 1, pause_seconds: float = 0.0) -> Utterance:
    """All the utterances one after another, `repeat` times, as one WAV file (16 kHz mono, as
    they are), with `pause_seconds` of silence between each two."""
    utterances = librivox() * repeat
    with wave.open(str(dest), "wb") as out:
        for index, utterance in enumerate(utterances):
            with wave.open(str(utterance.path), "rb") as clip:
                if index == 0:
                    out.setparams(clip.getparams())
                elif pause_seconds:
                    out.writeframes(b"\0" * (round(pause_seconds * clip.getframerate()) * clip.getsampwidth()))
                out.writeframes(clip.readframes(clip.getnframes()))
    texts = tuple(u.text for u in utterances)
    return Utterance(path=dest, text=" ".join(texts), parts=texts)


def espeak(dest: Path, *, voice: str, text: str, words_per_minute: int = ESPEAK_WORDS_PER_MINUTE) -> Path:
    """`text` spoken by espeak-ng's `voice` (`en`, `hi`, `fr`, ...) into a WAV file."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(dest), text], check=True)
    return dest


def speak(dest: Path, *, language: str) -> Path:
    """SPOKEN[language], in the voice and at the speed whisper-base hears as that language."""
    voice, words_per_minute = SPOKEN_VOICES.get(language, (language, ESPEAK_WORDS_PER_MINUTE))
    return espeak(dest, voice=voice, text=SPOKEN[language], words_per_minute=words_per_minute)


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


def errors_per_utterance(utterances: Sequence[str], hypothesis: str) -> list[int]:
    """The hypothesis aligned word by word with the utterances read one after another (the
    alignment `word_error_rate` counts), and each utterance's share of the errors: its words
    missed or misheard, and the words inserted after it (before the next one starts). A sentence
    dropped or written twice shows as about its own length on one utterance; a misheard word, as 1."""
    owner = [i for i, text in enumerate(utterances) for _ in normalise(text)]
    ref = [word for text in utterances for word in normalise(text)]
    hyp = normalise(hypothesis)
    # cost[i][j]: edit distance between ref[:i] and hyp[:j]
    cost = [list(range(len(hyp) + 1))]
    for i, ref_word in enumerate(ref, start=1):
        row = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            row.append(min(cost[i - 1][j] + 1, row[j - 1] + 1, cost[i - 1][j - 1] + (ref_word != hyp_word)))
        cost.append(row)
    errors = [0] * len(utterances)
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            errors[owner[i - 1]] += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:  # a reference word missed
            errors[owner[i - 1]] += 1
            i -= 1
        else:  # a word inserted: it belongs to the utterance before it (the first, at the start)
            errors[owner[max(i - 1, 0)]] += 1
            j -= 1
    return errors


def utterances_dropped_or_doubled(utterances: Sequence[str], hypothesis: str) -> list[int]:
    """The indexes of the utterances whose share of the errors (`errors_per_utterance`) is more
    than a misheard word or two (a quarter of its words, at least 2): each one was dropped, written
    twice, or followed by words nobody said."""
    errors = errors_per_utterance(utterances, hypothesis)
    return [index for index, text in enumerate(utterances) if errors[index] > max(2, len(normalise(text)) // 4)]


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
