"""Where identifiers are in a stream of tokens (the words an engine wrote, or a text's pieces between
spaces), written ("98450 12345", "rahul@okicici", "९८४५० १२३४५") or spoken, in English ("nine eight
four five ...", "double seven", "rahul dot sharma at gmail dot com") or in Hindi, as Whisper writes
it in Devanagari ("नौ आठ चार पाँच ...", "डबल सात") or romanised ("nau aath chaar paanch ...").

An identifier may run over several tokens: it is found as one hit from its first token to its last.
Every candidate is checked by `entities` before it counts, and numbers that are amounts or order,
invoice and ticket references are passed over, so ordinary numbers survive."""

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from redaction.entities import (
    Entity,
    is_aadhaar,
    is_credit_card,
    is_email_address,
    is_gstin,
    is_ip_address,
    is_pan,
    is_phone_number,
    is_upi_id,
)


@dataclass(frozen=True)
class Hit:
    entity: Entity
    first: int  # indices of its first and last tokens, both included
    last: int


# A hyphen too: Whisper's words for "70123-45678" are "70123" and "-45678".
_OPENERS = "\"'“”‘’([{<-"
_CLOSERS = "\"'“”‘’)]}>.,;:!?…।॥"  # (the danda ends a sentence in Devanagari)
_SENTENCE_ENDS = ".!?।॥"


def split_token(token: str) -> tuple[str, str, str]:
    """(prefix, core, suffix) of a token without its surrounding whitespace: the punctuation around
    it apart, so that "12345." and "(080)" read as numbers and the punctuation outlives redaction."""
    stripped = token.strip()
    start, end = 0, len(stripped)
    while start < end and stripped[start] in _OPENERS:
        start += 1
    while end > start and stripped[end - 1] in _CLOSERS and not stripped[start:end].endswith("::"):
        end -= 1  # (an IPv6 address may end in "::")
    return stripped[:start], stripped[start:end], stripped[end:]


# Spoken digits. "oh" and "o" are zero only inside a number: alone they are never long enough to match.
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
# Hindi, in Devanagari as Whisper writes it (both spellings of five; six as छह, छः, छे, or छ when the
# visarga was typed as a colon; zero also as the English loanword) and romanised. Several are words
# too ("do", "char", "teen", "ek" in "ek baar"): like every spoken digit they count only in a run that
# makes an identifier, which checksums and libphonenumber judge.
_HINDI_DIGIT_WORDS = {
    "0": "शून्य ज़ीरो जीरो shunya shoonya sunya",
    "1": "एक ek",
    "2": "दो do",
    "3": "तीन teen",
    "4": "चार char chaar",
    "5": "पाँच पांच paanch panch paach",
    "6": "छह छः छे छ chhe chhah chah che chhey",
    "7": "सात saat",
    "8": "आठ aath",
    "9": "नौ nau",
}
_DIGIT_WORDS |= {
    unicodedata.normalize("NFC", word): digit for digit, words in _HINDI_DIGIT_WORDS.items() for word in words.split()
}
_TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
_TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
_REPEATS = {"double": 2, "triple": 3, "डबल": 2, "ट्रिपल": 3}
_PLUS_WORDS = frozenset(["plus", "प्लस"])
# Every script of India writes its own digits; they are read as ASCII ones ("९८४५०" is 98450).
_INDIAN_DIGITS = {
    code: str(unicodedata.decimal(chr(code)))
    for code in range(0x0900, 0x0D80)
    if unicodedata.decimal(chr(code), None) is not None
}


def normalise_word(core: str) -> str:
    """A token's core as the tables here spell it: lower case, Unicode's composed form (Devanagari's
    nukta letters come either way), India's digits as ASCII ones."""
    if core.isascii():
        return core.lower()
    return unicodedata.normalize("NFC", core).lower().translate(_INDIAN_DIGITS)


_WRITTEN_NUMBER_RE = re.compile(r"\+?\d(?:[\d,\-]*\d)?")
# Thousands grouped by commas, Indian ("1,40,000") or Western ("140,000"): an amount, not an identifier.
_GROUPED_AMOUNT_RE = re.compile(r"\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+")
_DATE_RE = re.compile(r"\d{1,2}-\d{1,2}-(?:\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2}")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(unicodedata.normalize("NFC", words).split())


# A number just after these words is a reference, not a person's identifier ("order number 9845012345").
_REFERENCE_WORDS = _word_set(
    "order invoice bill ticket booking reference ref transaction txn tracking pnr awb receipt serial "
    "consignment docket complaint challan shipment "
    "ऑर्डर आर्डर इनवॉइस बिल टिकट बुकिंग रेफरेंस ट्रांजैक्शन ट्रैकिंग पीएनआर रसीद शिकायत चालान"
)
# After these a number that is not what they name is no phone number either (a mistyped Aadhaar).
_OTHER_IDENTIFIER_WORDS = _word_set("aadhaar aadhar uid card pan gst gstin account ifsc आधार कार्ड पैन खाता")
# A number next to these is an amount or a quantity.
_AMOUNT_BEFORE = _word_set("₹ rs inr $ usd rupees price amount cost रु कीमत")
_AMOUNT_AFTER = _word_set(
    "rupees rupee rs inr ₹ paise lakh lakhs crore crores thousand hundred dollars percent % /- "
    "rupaye rupaiye rupay hazaar hazar sau "
    "रुपये रुपए रुपया रुपयों रु पैसे लाख करोड़ हज़ार हजार सौ प्रतिशत"
)

_SEPARATOR_WORDS = {"dot": ".", "underscore": "_", "hyphen": "-", "dash": "-", ".": ".", "_": "_", "-": "-"}
_AT_PHRASES = (("at", "the", "rate", "of"), ("at", "the", "rate"), ("at", "sign"), ("at",), ("@",))
# Top-level domains accepted in a spoken address; written ones are judged by shape alone.
_SPOKEN_TLDS = _word_set("com in org net co edu gov io ai info biz me us uk ac nic app dev tech online xyz")
# UPI handles accepted after a spoken "at" (after a written "@" any handle is).
_UPI_HANDLES = _word_set(
    "ybl ibl axl paytm ptyes ptaxis pthdfc ptsbi okicici okaxis oksbi okhdfcbank upi apl yapl ikwik "
    "jupiteraxis fbl icici sbi hdfcbank axisbank kotak kbl idfcbank yesbank pnb barodampay boi cnrb "
    "unionbank freecharge airtel jio amazonpay slice superyes waicici waaxis wahdfcbank wasbi fam "
    "pingpay abfspay axisb indus federal aubank dbs rbl citi hsbc sc"
)
# Words before a spoken "at" that start no address ("meet me at gmail dot com" is no address of "me").
NOT_LOCAL_PARTS = _word_set(
    "me him her us them it you i we they is was are were be been am look looking arrive arrived reach "
    "reached meet stay live lives work works working here there that this what where and or but call "
    "mail email e-mail write contact ping message text find see available only just even back home "
    "office not"
)
# Longest candidates win; among hits over the same tokens, the earlier kind here.
_PRIORITY = (
    Entity.EMAIL_ADDRESS,
    Entity.UPI_ID,
    Entity.GSTIN,
    Entity.PAN,
    Entity.CREDIT_CARD,
    Entity.AADHAAR,
    Entity.PHONE_NUMBER,
    Entity.IP_ADDRESS,
)


@dataclass(frozen=True)
class _Number:
    """Digits read from one or two tokens ("98450", "nine", "double seven", "ninety eight", "plus")."""

    first: int
    last: int
    digits: str
    plus: bool = False


def _spoken_digits(word: str) -> str | None:
    if word in _DIGIT_WORDS:
        return _DIGIT_WORDS[word]
    if word in _TEENS:
        return _TEENS[word]
    if word in _TENS:
        return _TENS[word] + "0"
    if len(word) == 1 and word.isdigit():
        return word
    return None


def _number_at(words: Sequence[str], i: int) -> _Number | None:
    word = words[i]
    following = words[i + 1] if i + 1 < len(words) else ""
    if word in _PLUS_WORDS:
        return _Number(i, i, "", plus=True) if following and _number_at(words, i + 1) is not None else None
    if _WRITTEN_NUMBER_RE.fullmatch(word) and not _DATE_RE.fullmatch(word) and not _GROUPED_AMOUNT_RE.fullmatch(word):
        return _Number(i, i, re.sub(r"\D", "", word), plus=word.startswith("+"))
    if word in _REPEATS and following:
        repeated = _spoken_digits(following)
        if repeated is not None and len(repeated) == 1:
            return _Number(i, i + 1, repeated * _REPEATS[word])
        return None
    if word in _TENS and following in _DIGIT_WORDS and _DIGIT_WORDS[following] != "0":
        return _Number(i, i + 1, _TENS[word] + _DIGIT_WORDS[following])
    spoken = _spoken_digits(word)
    if spoken is not None:
        return _Number(i, i, spoken)
    parts = word.split("-")  # "ninety-eight", "nine-eight-four"
    if len(parts) > 1 and all(parts):
        inner = _numbers(parts)
        if sum(number.last - number.first + 1 for number in inner) == len(parts) and not inner[0].plus:
            return _Number(i, i, "".join(number.digits for number in inner))
    return None


def _numbers(words: Sequence[str]) -> list[_Number]:
    numbers: list[_Number] = []
    i = 0
    while i < len(words):
        number = _number_at(words, i)
        if number is None:
            i += 1
        else:
            numbers.append(number)
            i = number.last + 1
    return numbers


def _runs(numbers: list[_Number], sentence_ends: set[int]) -> list[list[_Number]]:
    """Numbers on adjacent tokens, each run one stretch of digits said or written together (in one
    sentence: "... four five. Plus nine one ..." is two numbers)."""
    runs: list[list[_Number]] = []
    for number in numbers:
        previous = runs[-1][-1].last if runs else -2
        if previous + 1 == number.first and previous not in sentence_ends:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def _is_reference_or_amount(words: Sequence[str], run: list[_Number]) -> bool:
    first, last = run[0].first, run[-1].last
    before = words[max(0, first - 3) : first]
    if any(word in _REFERENCE_WORDS for word in before):
        return True
    if before and before[-1] in _AMOUNT_BEFORE:
        return True
    return last + 1 < len(words) and words[last + 1] in _AMOUNT_AFTER


def _number_entity(run: Sequence[_Number]) -> Entity | None:
    if any(number.plus for number in run[1:]):
        return None  # a "+" only ever starts a number
    digits = "".join(number.digits for number in run)
    if run[0].plus:
        return Entity.PHONE_NUMBER if is_phone_number(digits, international=True) else None
    if is_aadhaar(digits):
        return Entity.AADHAAR
    if is_credit_card(digits):
        return Entity.CREDIT_CARD
    if is_phone_number(digits, international=False):
        return Entity.PHONE_NUMBER
    return None


def _partition(run: list[_Number]) -> list[Hit] | None:
    """The run cut into identifiers end to end ("9845012345 9845012346"), or None. Cards and Aadhaar
    numbers are only ever read from digits said together: a stretch of a longer number that happens to
    pass Luhn is not a card."""
    best: list[list[Hit] | None] = [None] * (len(run) + 1)
    best[0] = []
    for b in range(1, len(run) + 1):
        for a in range(b - 1, -1, -1):
            digits = sum(len(number.digits) for number in run[a:b])
            if digits > 19:
                break
            before = best[a]
            if before is None:
                continue
            entity = _number_entity(run[a:b])
            if entity is not None:
                best[b] = [*before, Hit(entity, run[a].first, run[b - 1].last)]
                break
    return best[len(run)]


def _number_hits(words: Sequence[str], numbers: list[_Number], sentence_ends: set[int]) -> list[Hit]:
    hits: list[Hit] = []
    for run in _runs(numbers, sentence_ends):
        if _is_reference_or_amount(words, run):
            continue
        whole = _partition(run)
        if whole is not None:
            hits.extend(whole)
            continue
        # A phone number with a stray digit or two beside it ("nine eight ... four five, one sec"), but
        # not a stretch of a longer number, nor of one named as another identifier.
        if any(word in _OTHER_IDENTIFIER_WORDS for word in words[max(0, run[0].first - 3) : run[0].first]):
            continue
        total = sum(len(number.digits) for number in run)
        for a in range(len(run)):
            for b in range(len(run), a, -1):
                digits = sum(len(number.digits) for number in run[a:b])
                if total - digits <= 3 and _number_entity(run[a:b]) is Entity.PHONE_NUMBER:
                    hits.append(Hit(Entity.PHONE_NUMBER, run[a].first, run[b - 1].last))
    return hits


def _code_hits(cores: Sequence[str], numbers: list[_Number]) -> list[Hit]:
    """PAN and GSTIN, written whole ("ABCPE1234F") or spelled ("A B C P E 1 2 3 4 F")."""
    number_at = {number.first: number for number in numbers if not number.plus}
    pieces: list[tuple[int, int, str]] = []  # (first, last, characters), token by token
    i = 0
    while i < len(cores):
        core = cores[i]
        if len(core) == 1 and core.isalpha() and core.isascii():
            pieces.append((i, i, core.upper()))  # a spelled "O" is the letter, not "oh"
        elif i in number_at:
            number = number_at[i]
            pieces.append((number.first, number.last, number.digits))
            i = number.last
        # Whole codes are upper case or hold digits.
        elif core.isalnum() and core.isascii() and (core.isupper() or not core.isalpha()):
            pieces.append((i, i, core.upper()))
        else:
            pieces.append((i, i, ""))  # breaks a code
        i += 1
    hits: list[Hit] = []
    for a in range(len(pieces)):
        code = ""
        for b in range(a, len(pieces)):
            if not pieces[b][2]:
                break
            code += pieces[b][2]
            if len(code) > 15:
                break
            if len(code) not in (10, 15):
                continue
            if is_pan(code):
                hits.append(Hit(Entity.PAN, pieces[a][0], pieces[b][1]))
            elif is_gstin(code):
                hits.append(Hit(Entity.GSTIN, pieces[a][0], pieces[b][1]))
    return hits


def _at_phrase(words: Sequence[str], k: int) -> int | None:
    """The last token of an "@" said or written from token k ("at", "at the rate of", "@")."""
    for phrase in _AT_PHRASES:
        if tuple(words[k : k + len(phrase)]) == phrase:
            return k + len(phrase) - 1
    return None


def _label(word: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9](?:[a-z0-9._\-]*[a-z0-9])?", word)) and word not in _SEPARATOR_WORDS


def _glues(parts: list[str]) -> bool:
    """Whether a word joins the digits after it: a short suffix ("rahul one two"), not a phone number
    that is a UPI ID of its own ("my number nine eight ... at ybl")."""
    digits = ""
    for part in reversed(parts):
        if not part.isdigit():
            return False
        digits = part + digits
    return 0 < len(digits) < 5


def _local_part(words: Sequence[str], numbers_by_last: dict[int, _Number], k: int) -> tuple[int, str] | None:
    """The tokens before an "at" that spell an address's local part: labels joined by spoken
    separators, with spoken digits glued on ("rahul dot sharma one two")."""
    parts: list[str] = []
    kinds: list[str] = []
    j = k - 1
    while j >= 0:
        previous = kinds[-1] if kinds else None
        word = words[j]
        number = numbers_by_last.get(j)
        if word in _SEPARATOR_WORDS and previous in ("word", "digits"):
            parts.append(_SEPARATOR_WORDS[word])
            kinds.append("sep")
            j -= 1
        elif number is not None and not number.plus and previous in (None, "sep", "digits"):
            parts.append(number.digits)
            kinds.append("digits")
            j = number.first - 1
        elif _label(word) and (previous in (None, "sep") or (_glues(parts) and word not in NOT_LOCAL_PARTS)):
            parts.append(word)
            kinds.append("word")
            j -= 1
        else:
            break
    while kinds and kinds[-1] == "sep":
        parts.pop()
        kinds.pop()
        j += 1
    if not parts or (kinds == ["word"] and parts[0] in NOT_LOCAL_PARTS):
        return None
    return j + 1, "".join(reversed(parts))


def _domain_labels(words: Sequence[str], j: int) -> list[tuple[int, str]]:
    """A domain's labels from token j on, each with its last token: "gmail dot com", "gmail.com",
    or "Yahoo" ".com" as Whisper's words cut "Yahoo.com"."""
    if j >= len(words) or not _label(words[j]):
        return []
    labels = [(j, words[j])]
    while True:
        if j + 2 < len(words) and _SEPARATOR_WORDS.get(words[j + 1]) == "." and _label(words[j + 2]):
            j += 2
            labels.append((j, words[j]))
        elif j + 1 < len(words) and words[j + 1].startswith(".") and _label(words[j + 1][1:]):
            j += 1
            labels.append((j, words[j][1:]))
        else:
            return labels


def _address_hits(words: Sequence[str], numbers: list[_Number]) -> list[Hit]:
    hits: list[Hit] = []
    for i, word in enumerate(words):
        if "@" in word[1:-1]:
            if is_email_address(word):
                hits.append(Hit(Entity.EMAIL_ADDRESS, i, i))
            elif is_upi_id(word):
                hits.append(Hit(Entity.UPI_ID, i, i))
    numbers_by_last = {number.last: number for number in numbers}
    for k in range(1, len(words) - 1):
        at_end = _at_phrase(words, k)
        if at_end is None or at_end + 1 >= len(words):
            continue
        written_at = words[k] == "@"
        local = _local_part(words, numbers_by_last, k)
        if local is None:
            continue
        first, local_part = local
        # The domain: labels joined by "dot"; the address ends at the last label that can end one.
        end_of_email: tuple[int, str] | None = None
        labels = _domain_labels(words, at_end + 1)
        for n in range(len(labels)):
            candidate = ".".join(label for _, label in labels[: n + 1])
            if "." in candidate and (written_at or candidate.rsplit(".", 1)[-1] in _SPOKEN_TLDS):
                end_of_email = (labels[n][0], candidate)
        if end_of_email is not None and is_email_address(f"{local_part}@{end_of_email[1]}"):
            hits.append(Hit(Entity.EMAIL_ADDRESS, first, end_of_email[0]))
            continue
        handle = words[at_end + 1]
        if (written_at or handle in _UPI_HANDLES) and is_upi_id(f"{local_part}@{handle}"):
            hits.append(Hit(Entity.UPI_ID, first, at_end + 1))
    return hits


def _ip_hits(words: Sequence[str], numbers: list[_Number]) -> list[Hit]:
    hits = [
        Hit(Entity.IP_ADDRESS, i, i)
        for i, word in enumerate(words)
        if ("." in word or ":" in word) and is_ip_address(word)
    ]
    # Spoken: four groups of digits joined by "dot" ("one nine two dot one six eight dot one dot ten").
    number_at = {number.first: number for number in numbers if not number.plus}
    for start in number_at:
        groups: list[str] = []
        digits = ""
        i = start
        while True:
            if i in number_at:
                digits += number_at[i].digits
                i = number_at[i].last + 1
            elif digits and i < len(words) and words[i] in ("dot", "point") and len(groups) < 3:
                groups.append(digits)
                digits = ""
                i += 1
            else:
                break
        groups.append(digits)
        if len(groups) == 4 and all(groups) and is_ip_address(".".join(groups)):
            hits.append(Hit(Entity.IP_ADDRESS, start, i - 1))
    return hits


def find_entities(*, tokens: Sequence[str], entities: Collection[Entity]) -> list[Hit]:
    """The identifiers in `tokens`, in order, none overlapping. Where candidates overlap, the one over
    more tokens wins ("nine eight ... at ybl" is a UPI ID, not a phone number followed by words)."""
    parts = [split_token(token) for token in tokens]
    cores = [core for _, core, _ in parts]
    words = [normalise_word(core) for core in cores]
    sentence_ends = {i for i, (_, _, suffix) in enumerate(parts) if any(mark in suffix for mark in _SENTENCE_ENDS)}
    numbers = _numbers(words)
    candidates = [
        *_number_hits(words, numbers, sentence_ends),
        *_code_hits(cores, numbers),
        *_address_hits(words, numbers),
        *_ip_hits(words, numbers),
    ]
    candidates = [hit for hit in candidates if hit.entity in entities]
    candidates.sort(key=lambda hit: (hit.first - hit.last, _PRIORITY.index(hit.entity), hit.first))
    taken: set[int] = set()
    chosen: list[Hit] = []
    for hit in candidates:
        span = range(hit.first, hit.last + 1)
        if not taken.intersection(span):
            taken.update(span)
            chosen.append(hit)
    return sorted(chosen, key=lambda hit: hit.first)
