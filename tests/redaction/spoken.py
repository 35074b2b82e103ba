"""Identifiers as people say them, for the tests: written independently of the code under test."""

from hypothesis import strategies as st

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@st.composite
def spoken_digits(draw: st.DrawFn, digits: str) -> str:
    """Digits said one by one, a repeated digit now and then as "double"/"triple", zero now and then as "oh"."""
    words: list[str] = []
    i = 0
    while i < len(digits):
        repeat = 1
        while i + repeat < len(digits) and digits[i + repeat] == digits[i] and repeat < 3:
            repeat += 1
        said = "oh" if digits[i] == "0" and draw(st.booleans()) else DIGIT_WORDS[int(digits[i])]
        if repeat > 1 and draw(st.booleans()):
            words.append(f"{'double' if repeat == 2 else 'triple'} {said}")
            i += repeat
        else:
            words.append(said)
            i += 1
    return " ".join(words)


# Hindi: each digit as Whisper may write it, in Devanagari or romanised (its spellings vary).
HINDI_DIGIT_WORDS = [
    ["शून्य", "ज़ीरो", "जीरो"],
    ["एक"],
    ["दो"],
    ["तीन"],
    ["चार"],
    ["पाँच", "पांच"],
    ["छह", "छः", "छे"],
    ["सात"],
    ["आठ"],
    ["नौ"],
]
HINGLISH_DIGIT_WORDS = [
    ["shunya", "zero"],
    ["ek"],
    ["do"],
    ["teen"],
    ["char", "chaar"],
    ["paanch", "panch"],
    ["chhe", "chhah"],
    ["saat"],
    ["aath"],
    ["nau"],
]
DEVANAGARI_DIGITS = "०१२३४५६७८९"


@st.composite
def hindi_digits(draw: st.DrawFn, digits: str, *, romanised: bool = False) -> str:
    """Digits said one by one in Hindi, a repeated digit now and then as "डबल"/"ट्रिपल" (romanised:
    "double"/"triple", as Hinglish says them)."""
    spellings = HINGLISH_DIGIT_WORDS if romanised else HINDI_DIGIT_WORDS
    double, triple = ("double", "triple") if romanised else ("डबल", "ट्रिपल")
    words: list[str] = []
    i = 0
    while i < len(digits):
        repeat = 1
        while i + repeat < len(digits) and digits[i + repeat] == digits[i] and repeat < 3:
            repeat += 1
        said = draw(st.sampled_from(spellings[int(digits[i])]))
        if repeat > 1 and draw(st.booleans()):
            words.append(f"{double if repeat == 2 else triple} {said}")
            i += repeat
        else:
            words.append(said)
            i += 1
    return " ".join(words)


def in_devanagari(text: str) -> str:
    """ASCII digits written as Devanagari ones."""
    return text.translate(str.maketrans("0123456789", DEVANAGARI_DIGITS))
