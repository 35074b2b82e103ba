"""Generated identifiers, written and spoken (in English and in Hindi, in Devanagari words and digits
or romanised), inside sentences: valid ones always redacted, one digit off (a failed checksum)
never, and the ordinary numbers of a sentence never, nor Hindi's number words in ordinary speech."""

import itertools
import string

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import luhn, verhoeff

from redaction.detect import NOT_LOCAL_PARTS
from redaction.entities import Entity
from redaction.transcript import Span, Substitution, redact_text, redact_transcript
from tests.redaction.spoken import (
    DIGIT_WORDS,
    HINDI_DIGIT_WORDS,
    HINGLISH_DIGIT_WORDS,
    hindi_digits,
    in_devanagari,
    spoken_digits,
)
from transcriptions.engines.base import Segment, Word

GSTIN_ALPHABET = string.digits + string.ascii_uppercase
SENTENCES = [
    ("my {} is", "okay"),
    ("you can note it down,", "and call back tomorrow"),
    ("please use", "for the account"),
    ("the details are", "as I said"),
]
# Hindi speech, as Whisper writes it in Devanagari or romanised; the words around the identifier include
# number words that are no part of it ("ek minute", "do baar").
HINDI_SENTENCES = [
    ("मेरा {} है", "ठीक है।"),
    ("ek minute, mera {} likho", "aur do baar check karo"),
    ("आप इस {} पर", "कॉल कीजिए, दो बजे के बाद।"),
]
NUMBER_SENTENCES = SENTENCES + HINDI_SENTENCES
# Words read as digits when spoken, which an address's local part said before "at" is not tested as.
SPOKEN_DIGIT_WORDS = {word for words in [*HINDI_DIGIT_WORDS, *HINGLISH_DIGIT_WORDS] for word in words}
SPOKEN_DIGIT_WORDS |= {*DIGIT_WORDS, "oh", "o"}
# Visa, Mastercard (old and new ranges), Amex, Discover, RuPay, Diners: issuer prefix and length.
CARD_PREFIXES = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15)]
CARD_PREFIXES += [("6011", 16), ("60", 16), ("65", 16), ("81", 16), ("508", 16), ("36", 14)]
hypothesis_settings = settings(max_examples=150, deadline=None)


def digits_of(length: int) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=length, max_size=length)


@st.composite
def aadhaar_numbers(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from("23456789")) + draw(digits_of(10))
    number = body + verhoeff.calc_check_digit(body)
    assume(number != number[::-1])  # UIDAI issues no palindromes
    return number


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(CARD_PREFIXES))
    body = prefix + draw(digits_of(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


@st.composite
def indian_mobiles(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from("6789")) + draw(digits_of(9))
    assume(phonenumbers.is_valid_number(phonenumbers.parse(number, "IN")))
    return number


@st.composite
def pans(draw: st.DrawFn) -> str:
    letters = st.text(string.ascii_uppercase, min_size=1, max_size=1)
    head = "".join(draw(letters) for _ in range(3)) + draw(st.sampled_from("ABCFGHLJPTK")) + draw(letters)
    digits = draw(digits_of(4))
    assume(digits != "0000")
    return head + digits + draw(letters)


@st.composite
def gstins(draw: st.DrawFn) -> str:
    state = draw(st.sampled_from(["01", "07", "09", "19", "24", "27", "29", "32", "33", "36"]))
    entity = draw(st.sampled_from("123456789ABCDEFGHJ"))
    body = state + draw(pans()) + entity + "Z"
    return body + luhn.calc_check_digit(body, GSTIN_ALPHABET)


def grouped(digits: str, size: int) -> str:
    return " ".join(digits[i : i + size] for i in range(0, len(digits), size))


@st.composite
def written_or_spoken(draw: st.DrawFn, digits: str, group: int) -> str:
    form = draw(st.sampled_from(["whole", "grouped", "spoken", "hindi", "hinglish", "devanagari"]))
    if form == "whole":
        return digits
    if form == "grouped":
        return grouped(digits, group)
    if form == "hindi":
        return draw(hindi_digits(digits))
    if form == "hinglish":
        return draw(hindi_digits(digits, romanised=True))
    if form == "devanagari":
        return in_devanagari(draw(st.sampled_from([digits, grouped(digits, group)])))
    return draw(spoken_digits(digits))


@st.composite
def phone_forms(draw: st.DrawFn, mobile: str) -> str:
    form = draw(
        st.sampled_from(
            [
                *("whole", "split", "plus", "plus-dash", "trunk", "spoken", "spoken-plus"),
                *("hindi", "hindi-plus", "hinglish", "devanagari", "devanagari-plus"),
            ]
        )
    )
    return {
        "whole": lambda: mobile,
        "split": lambda: f"{mobile[:5]} {mobile[5:]}",
        "plus": lambda: f"+91 {mobile[:5]} {mobile[5:]}",
        "plus-dash": lambda: f"+91-{mobile}",
        "trunk": lambda: f"0{mobile}",
        "spoken": lambda: draw(spoken_digits(mobile)),
        "spoken-plus": lambda: "plus nine one " + draw(spoken_digits(mobile)),
        "hindi": lambda: draw(hindi_digits(mobile)),
        "hindi-plus": lambda: "प्लस नौ एक " + draw(hindi_digits(mobile)),
        "hinglish": lambda: draw(hindi_digits(mobile, romanised=True)),
        "devanagari": lambda: in_devanagari(f"{mobile[:5]} {mobile[5:]}"),
        "devanagari-plus": lambda: in_devanagari(f"+91 {mobile}"),
    }[form]()


def in_sentence(said: str, sentence: tuple[str, str]) -> str:
    before, after = sentence
    return f"{before.format('number')} {said} {after}"


def assert_redacted(*, said: str, entity: Entity, sentence: tuple[str, str]) -> None:
    text = in_sentence(said, sentence)
    redaction = redact_text(text=text)
    assert redaction.text == in_sentence(entity.label, sentence), text
    assert redaction.counts == {entity.value: 1}
    hashed = redact_text(text=text, substitution=Substitution.HASH)
    assert hashed.text == in_sentence("".join("#" if not c.isspace() else c for c in said), sentence)


@hypothesis_settings
@given(data=st.data(), number=aadhaar_numbers(), sentence=st.sampled_from(NUMBER_SENTENCES))
def test_valid_aadhaar_numbers_are_always_redacted(data: st.DataObject, number: str, sentence: tuple[str, str]) -> None:
    assert_redacted(said=data.draw(written_or_spoken(number, 4)), entity=Entity.AADHAAR, sentence=sentence)


@hypothesis_settings
@given(data=st.data(), number=card_numbers(), sentence=st.sampled_from(NUMBER_SENTENCES))
def test_valid_card_numbers_are_always_redacted(data: st.DataObject, number: str, sentence: tuple[str, str]) -> None:
    assert_redacted(said=data.draw(written_or_spoken(number, 4)), entity=Entity.CREDIT_CARD, sentence=sentence)


@hypothesis_settings
@given(data=st.data(), mobile=indian_mobiles(), sentence=st.sampled_from(NUMBER_SENTENCES))
def test_valid_phone_numbers_are_always_redacted(data: st.DataObject, mobile: str, sentence: tuple[str, str]) -> None:
    assert_redacted(said=data.draw(phone_forms(mobile)), entity=Entity.PHONE_NUMBER, sentence=sentence)


@hypothesis_settings
@given(data=st.data(), pan=pans(), sentence=st.sampled_from(SENTENCES))
def test_valid_pans_are_always_redacted(data: st.DataObject, pan: str, sentence: tuple[str, str]) -> None:
    said = data.draw(st.sampled_from([pan, " ".join(pan)]))  # written, or spelled letter by letter
    assert_redacted(said=said, entity=Entity.PAN, sentence=sentence)


@hypothesis_settings
@given(gstin=gstins(), sentence=st.sampled_from(SENTENCES))
def test_valid_gstins_are_always_redacted(gstin: str, sentence: tuple[str, str]) -> None:
    assert_redacted(said=gstin, entity=Entity.GSTIN, sentence=sentence)


@hypothesis_settings
@given(
    local=st.from_regex(r"[a-z][a-z0-9]{1,8}(\.[a-z]{2,8})?", fullmatch=True),
    domain=st.from_regex(r"[a-z]{3,10}", fullmatch=True),
    tld=st.sampled_from(["com", "in", "co.in", "org", "net"]),
    spoken=st.booleans(),
    sentence=st.sampled_from(SENTENCES),
)
def test_valid_email_addresses_are_always_redacted(
    local: str, domain: str, tld: str, spoken: bool, sentence: tuple[str, str]
) -> None:
    # Spoken, a lone common word before "at" is speech ("meet me at ..."), and the words for "@" and
    # "." are no labels.
    assume(not {local, domain} & {"at", "dot", "the", "rate", "sign"})
    assume(not spoken or (local not in NOT_LOCAL_PARTS and local not in SPOKEN_DIGIT_WORDS))
    address = f"{local}@{domain}.{tld}"
    said = address.replace("@", " at ").replace(".", " dot ") if spoken else address
    assert_redacted(said=said, entity=Entity.EMAIL_ADDRESS, sentence=sentence)


@hypothesis_settings
@given(
    data=st.data(),
    local=st.one_of(st.from_regex(r"[a-z][a-z0-9]{2,12}", fullmatch=True), indian_mobiles()),
    handle=st.sampled_from(["okicici", "okaxis", "oksbi", "ybl", "paytm", "upi", "ibl", "axl"]),
    sentence=st.sampled_from(SENTENCES),
)
def test_valid_upi_ids_are_always_redacted(
    data: st.DataObject, local: str, handle: str, sentence: tuple[str, str]
) -> None:
    assume(local not in {"at", "dot", "the"} and local not in NOT_LOCAL_PARTS and local not in SPOKEN_DIGIT_WORDS)
    said_local = data.draw(spoken_digits(local)) if local.isdigit() and data.draw(st.booleans()) else local
    said = data.draw(st.sampled_from([f"{local}@{handle}", f"{said_local} at {handle}"]))
    assert_redacted(said=said, entity=Entity.UPI_ID, sentence=sentence)


@hypothesis_settings
@given(address=st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), sentence=st.sampled_from(SENTENCES))
def test_valid_ip_addresses_are_always_redacted(address: object, sentence: tuple[str, str]) -> None:
    assert_redacted(said=str(address), entity=Entity.IP_ADDRESS, sentence=sentence)


@st.composite
def one_digit_changed(draw: st.DrawFn, number: str) -> str:
    position = draw(st.integers(0, len(number) - 1))
    digit = draw(st.sampled_from([d for d in string.digits if d != number[position]]))
    return number[:position] + digit + number[position + 1 :]


@pytest.mark.parametrize(
    ("entity", "numbers", "group"), [(Entity.AADHAAR, aadhaar_numbers(), 4), (Entity.CREDIT_CARD, card_numbers(), 4)]
)
@hypothesis_settings
@given(data=st.data(), sentence=st.sampled_from(NUMBER_SENTENCES))
def test_a_number_one_digit_off_its_checksum_is_never_redacted_as_that_identifier(
    entity: Entity, numbers: st.SearchStrategy[str], group: int, data: st.DataObject, sentence: tuple[str, str]
) -> None:
    # Verhoeff and Luhn catch every single-digit change, so the changed number is never valid.
    changed = data.draw(one_digit_changed(data.draw(numbers)))
    text = in_sentence(data.draw(written_or_spoken(changed, group)), sentence)
    assert redact_text(text=text, entities={entity}).text == text


@hypothesis_settings
@given(data=st.data(), sentence=st.sampled_from(SENTENCES))
def test_a_gstin_one_character_off_its_checksum_is_never_redacted(
    data: st.DataObject, sentence: tuple[str, str]
) -> None:
    gstin = data.draw(gstins())
    position = data.draw(st.integers(0, 14))
    character = data.draw(st.sampled_from([c for c in GSTIN_ALPHABET if c != gstin[position]]))
    text = in_sentence(gstin[:position] + character + gstin[position + 1 :], sentence)
    assert redact_text(text=text, entities={Entity.GSTIN}).text == text


@hypothesis_settings
@given(pan=pans(), holder=st.sampled_from("DEIKMNOQRSUVWXYZ".replace("K", "")), sentence=st.sampled_from(SENTENCES))
def test_a_pan_without_a_holder_type_is_never_redacted(pan: str, holder: str, sentence: tuple[str, str]) -> None:
    text = in_sentence(pan[:3] + holder + pan[4:], sentence)
    assert redact_text(text=text).text == text


ordinary_numbers = st.one_of(
    st.integers(1, 10_000_000).map(lambda n: f"I paid ₹{n} yesterday"),
    st.integers(1, 10_000_000).map(lambda n: f"it costs {n} rupees now"),
    st.integers(1, 10_000_000).map(lambda n: f"the price is Rs. {n:,} only"),
    st.integers(1900, 2099).map(lambda n: f"we moved here in {n} and stayed"),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"the meeting is at {t[0]}:{t[1]:02d} today"),
    st.tuples(st.integers(1, 28), st.integers(1, 12), st.integers(1950, 2099)).map(
        lambda d: f"it was delivered on {d[0]:02d}/{d[1]:02d}/{d[2]} and {d[0]}-{d[1]}-{d[2]}"
    ),
    st.tuples(st.sampled_from(["order", "invoice", "ticket", "booking", "transaction"]), st.integers(6, 19)).flatmap(
        lambda t: digits_of(t[1]).map(lambda digits: f"my {t[0]} number is {digits} please check")
    ),
    st.integers(0, 99_999).map(lambda n: f"there were {n} people and 3 buses"),
)


@hypothesis_settings
@given(sentence=ordinary_numbers)
def test_numbers_in_ordinary_sentences_survive(sentence: str) -> None:
    redaction = redact_text(text=sentence)
    assert redaction.text == sentence
    assert redaction.counts == {}


@st.composite
def said_in_hindi(draw: st.DrawFn, digits: str) -> str:
    form = draw(st.sampled_from(["hindi", "hinglish", "devanagari"]))
    if form == "devanagari":
        return in_devanagari(digits)
    return draw(hindi_digits(digits, romanised=form == "hinglish"))


ordinary_hindi_numbers = st.one_of(
    st.integers(1, 10_000_000).map(lambda n: f"मैंने {in_devanagari(str(n))} रुपये दिए।"),
    st.integers(1, 10_000_000).map(lambda n: f"कीमत ₹{in_devanagari(f'{n:,}')} है"),
    st.integers(1900, 2099).map(lambda n: f"हम {in_devanagari(str(n))} में यहाँ आए"),
    st.tuples(st.sampled_from(["ऑर्डर", "टिकट", "बिल", "order", "ticket"]), st.integers(6, 19)).flatmap(
        lambda t: digits_of(t[1]).flatmap(said_in_hindi).map(lambda said: f"mera {t[0]} number {said} hai")
    ),
    digits_of(10).flatmap(said_in_hindi).map(lambda said: f"total {said} rupaye hua"),
    digits_of(12).flatmap(said_in_hindi).map(lambda said: f"कुल {said} रुपये"),
)


@hypothesis_settings
@given(sentence=ordinary_hindi_numbers)
def test_numbers_in_ordinary_hindi_sentences_survive(sentence: str) -> None:
    redaction = redact_text(text=sentence)
    assert redaction.text == sentence
    assert redaction.counts == {}


HINGLISH_WORDS = [
    "mujhe",
    "kal",
    "baje",
    "aana",
    "hai",
    "ghar",
    "par",
    "minute",
    "baar",
    "kilo",
    "log",
    "aur",
    "call",
    "karna",
    "bas",
    "theek",
    "accha",
    "kitne",
]
HINDI_WORDS = [
    "मुझे",
    "कल",
    "बजे",
    "आना",
    "है",
    "घर",
    "पर",
    "मिनट",
    "बार",
    "किलो",
    "लोग",
    "और",
    "कॉल",
    "करना",
    "बस",
    "ठीक",
    "अच्छा",
    "कितने",
]


@st.composite
def hindi_speech(draw: st.DrawFn) -> str:
    """Ordinary Hindi or Hinglish: words, and here and there a few number words said together (at most
    six digits, too few for any identifier: "do baje", "ek do teen char")."""
    romanised = draw(st.booleans())
    vocabulary = HINGLISH_WORDS if romanised else HINDI_WORDS
    numbers = HINGLISH_DIGIT_WORDS if romanised else HINDI_DIGIT_WORDS
    pieces = []
    for _ in range(draw(st.integers(1, 8))):
        pieces += draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=4))
        said = draw(st.lists(st.sampled_from([word for words in numbers for word in words]), max_size=6))
        pieces += said
    return " ".join(pieces)


@hypothesis_settings
@given(sentence=hindi_speech())
def test_hindi_number_words_in_ordinary_speech_survive(sentence: str) -> None:
    redaction = redact_text(text=sentence)
    assert redaction.text == sentence
    assert redaction.counts == {}


@st.composite
def said_identifiers(draw: st.DrawFn) -> tuple[Entity, str]:
    """Any kind of identifier, as written or said."""
    kind = draw(st.sampled_from(list(Entity)))
    if kind is Entity.AADHAAR:
        return kind, draw(written_or_spoken(draw(aadhaar_numbers()), 4))
    if kind is Entity.CREDIT_CARD:
        return kind, draw(written_or_spoken(draw(card_numbers()), 4))
    if kind is Entity.PHONE_NUMBER:
        return kind, draw(phone_forms(draw(indian_mobiles())))
    if kind is Entity.PAN:
        pan = draw(pans())
        return kind, draw(st.sampled_from([pan, " ".join(pan)]))
    if kind is Entity.GSTIN:
        return kind, draw(gstins())
    if kind is Entity.EMAIL_ADDRESS:
        return kind, draw(st.sampled_from(["rahul.sharma@gmail.com", "priya dot k at yahoo dot co dot in"]))
    if kind is Entity.UPI_ID:
        mobile = draw(indian_mobiles())
        return kind, draw(st.sampled_from([f"{mobile}@ybl", f"{draw(spoken_digits(mobile))} at paytm"]))
    return kind, str(draw(st.ip_addresses(v=4)))


@hypothesis_settings
@given(data=st.data(), identifier=said_identifiers(), sentence=st.sampled_from(SENTENCES))
def test_an_identifier_split_over_words_and_segments_is_one_span_and_leaves_no_word(
    data: st.DataObject, identifier: tuple[Entity, str], sentence: tuple[str, str]
) -> None:
    entity, said = identifier
    before = in_sentence("", sentence).split("  ")[0].split()
    tokens = [*before, *said.split(), *sentence[1].split()]
    # Whisper's words: a leading space each, 0.5 s apart; segments cut anywhere, even inside the identifier.
    words = [Word(i * 0.5, i * 0.5 + 0.4, f" {token}", 0.9) for i, token in enumerate(tokens)]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(words) - 1), max_size=2)))
    bounds = [0, *cuts, len(words)]
    segments = [
        Segment(words[a].start, words[b - 1].end, "".join(w.word for w in words[a:b]).strip(), tuple(words[a:b]))
        for a, b in itertools.pairwise(bounds)
    ]

    redaction = redact_transcript(text=" ".join(tokens), segments=segments)

    first, last = len(before), len(before) + len(said.split()) - 1
    assert redaction.spans == (Span(entity=entity, start=words[first].start, end=words[last].end),)
    assert redaction.counts == {entity.value: 1}
    out = [(bounds[k], w) for k, segment in enumerate(redaction.segments) for w in segment.words]
    assert [w.word for _, w in out if w.word.strip() != entity.label] == [
        f" {token}" for token in [*before, *sentence[1].split()]
    ]
    # One substitute in each segment the identifier touches, together standing for exactly its words.
    labelled = [(offset, w) for offset, w in out if w.word.strip() == entity.label]
    covered = [i for offset, w in labelled for i in range(offset + w.first, offset + w.last + 1)]
    assert covered == list(range(first, last + 1))
    assert len(labelled) == len({k for k in range(len(bounds) - 1) if bounds[k] <= last and bounds[k + 1] > first})
