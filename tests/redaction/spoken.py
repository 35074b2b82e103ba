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
