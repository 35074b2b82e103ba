"""Custom vocabulary as the one text Whisper takes before the audio (a "prompt"): the keywords
always, then as much of the caller's prompt, and of the previous chunk's text, as the window holds.

Whisper reads at most the last 224 tokens of a prompt (OpenAI's whisper-1) and faster-whisper keeps
the first 223 of its `hotwords`: the text built here fits both, by an estimate of its tokens that
errs high (no tokenizer is loaded: nothing may be downloaded at run time, and the OpenAI engine
has none). Plain functions; no engine, no request.
"""

import math
import re
from collections.abc import Sequence

# What both readers keep of a prompt, in Whisper's tokens.
MAX_PROMPT_TOKENS = 223
# GPT-2's pre-tokenizer, as far as ASCII goes: a word, a number or a run of other marks, each with
# the space before it; BPE then splits each piece, never across pieces.
_PIECES = re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+")
# An English word is about 4 characters a token in Whisper's vocabulary, a rare name about 3:
# counting 2 keeps the estimate above the real count (tests check it against Whisper's tokenizer).
# Words without a vowel and acronyms split into single letters, so they count one a letter.
_LETTERS_PER_TOKEN = 2
_VOWELS = frozenset("aeiouyAEIOUY")


def estimate_tokens(text: str) -> int:
    """About as many tokens as Whisper's tokenizer makes of `text`, or more: letters 2 a token (1
    in acronyms and words without vowels), digits 1 each, anything else (punctuation, other
    scripts) 1 a UTF-8 byte, the most byte-level BPE can make of them."""
    tokens = 0
    for piece in _PIECES.findall(text):
        word = piece.lstrip(" ")
        if not word:  # whitespace
            tokens += 1
        elif word.isascii() and word.isalpha():
            spelled = word.isupper() or not _VOWELS.intersection(word)
            tokens += len(word) if spelled else math.ceil(len(word) / _LETTERS_PER_TOKEN)
        elif word.isascii() and word.isdigit():
            tokens += len(word)
        else:
            tokens += len(word.encode())
        tokens += word != piece  # the space before it may be a token of its own
    return tokens


def vocabulary_prompt(
    *, keywords: Sequence[str], prompt: str = "", previous: str = "", max_tokens: int = MAX_PROMPT_TOKENS
) -> str:
    """The caller's `prompt`, then `previous` (the text just before this audio), then the keywords,
    within `max_tokens`. The keywords come last, nearest the audio, and are kept first: then as
    much of the end of `previous` and of the end of `prompt` as still fits. Keywords that do not
    fit on their own are left out from the last one given."""
    kept: list[str] = []
    for keyword in keywords:
        if estimate_tokens(_glossary([*kept, keyword])) > max_tokens:
            break
        kept.append(keyword)
    glossary = _glossary(kept)
    budget = max_tokens - estimate_tokens(glossary)
    previous = _tail(previous, budget - 1)
    budget -= estimate_tokens(previous) + 1 if previous else 0
    prompt = _tail(prompt, budget - 1)
    return " ".join(part for part in (prompt, previous, glossary) if part)


def _glossary(keywords: Sequence[str]) -> str:
    return ", ".join(keywords) + "." if keywords else ""


def _tail(text: str, max_tokens: int) -> str:
    """The longest end of `text`, whole words, within `max_tokens`."""
    words = text.split()
    if max_tokens <= 0 or not words:
        return ""
    start = len(words)
    while start > 0 and estimate_tokens(" ".join(words[start - 1 :])) <= max_tokens:
        start -= 1
    return " ".join(words[start:])
