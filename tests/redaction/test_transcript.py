"""Redaction over an engine's result: the text, each segment's text and its words."""

from redaction.entities import Entity
from redaction.transcript import Span, Substitution, redact_text, redact_transcript
from transcriptions.engines.base import Segment, Word


def timed(*words: str, start: float = 0.0) -> tuple[Word, ...]:
    """Whisper's words: a leading space each, half a second apart."""
    return tuple(Word(start + i * 0.5, start + i * 0.5 + 0.4, word, 0.9) for i, word in enumerate(words))


def test_a_number_spoken_over_several_words_becomes_one_word_spanning_them_all() -> None:
    words = timed(" Call", " me", " on", " nine", " eight", " four", " five", " zero", " one", " two")
    words += timed(" three", " four", " five.", start=5.0)
    segment = Segment(0.0, 6.4, "".join(word.word for word in words).strip(), words)

    redaction = redact_transcript(text=segment.text, segments=[segment])

    [redacted] = redaction.segments
    assert redacted.text == "Call me on [PHONE_NUMBER]."
    assert [w.word for w in redacted.words] == [" Call", " me", " on", " [PHONE_NUMBER]."]
    merged = redacted.words[-1]
    assert (merged.start, merged.end, merged.first, merged.last) == (1.5, 6.4, 3, 12)
    assert redaction.text == "Call me on [PHONE_NUMBER]."
    assert redaction.counts == {"phone_number": 1}
    assert redaction.spans == (Span(entity=Entity.PHONE_NUMBER, start=1.5, end=6.4),)


def test_an_identifier_over_a_segment_boundary_is_redacted_in_both_segments() -> None:
    first = Segment(0.0, 2.0, "My card is 4993 5181", timed(" My", " card", " is", " 4993", " 5181"))
    second = Segment(2.5, 4.0, "9093 7864, thanks.", timed(" 9093", " 7864,", " thanks.", start=2.5))

    redaction = redact_transcript(text="My card is 4993 5181 9093 7864, thanks.", segments=[first, second])

    assert redaction.text == "My card is [CREDIT_CARD], thanks."
    assert [s.text for s in redaction.segments] == ["My card is [CREDIT_CARD]", "[CREDIT_CARD], thanks."]
    assert [w.word for w in redaction.segments[0].words] == [" My", " card", " is", " [CREDIT_CARD]"]
    assert [w.word for w in redaction.segments[1].words] == [" [CREDIT_CARD],", " thanks."]
    assert redaction.counts == {"credit_card": 1}
    assert redaction.spans == (Span(entity=Entity.CREDIT_CARD, start=1.5, end=3.4),)


def test_words_without_spaces_or_punctuation_as_openai_gives_them() -> None:
    words = tuple(
        Word(i * 0.3, i * 0.3 + 0.25, word, None)
        for i, word in enumerate(["write", "to", "rahul", "dot", "sharma", "at", "gmail", "dot", "com", "today"])
    )
    text = "Write to rahul.sharma@gmail.com today."
    redaction = redact_transcript(text=text, segments=[Segment(0.0, 3.0, text, words)])

    assert [w.word for w in redaction.segments[0].words] == ["write", "to", "[EMAIL_ADDRESS]", "today"]
    assert redaction.text == redaction.segments[0].text == "Write to [EMAIL_ADDRESS] today."
    assert redaction.counts == {"email_address": 1}
    assert redaction.spans == (Span(entity=Entity.EMAIL_ADDRESS, start=0.6, end=2.65),)


def test_hash_writes_one_hash_per_character_and_keeps_the_punctuation_around() -> None:
    words = timed(" PAN", " is", " (ABCPE1234F),", " okay?")
    text = "PAN is (ABCPE1234F), okay?"
    redaction = redact_transcript(text=text, segments=[Segment(0.0, 2.0, text, words)], substitution=Substitution.HASH)

    assert redaction.text == "PAN is (##########), okay?"
    assert [w.word for w in redaction.segments[0].words] == [" PAN", " is", " (##########),", " okay?"]


def test_segments_without_words_are_redacted_by_their_text() -> None:
    segments = [Segment(0.0, 2.0, "UPI is rahul@okicici"), Segment(2.0, 4.0, "and the server 10.0.0.7")]
    redaction = redact_transcript(text="UPI is rahul@okicici and the server 10.0.0.7", segments=segments)

    assert [s.text for s in redaction.segments] == ["UPI is [UPI_ID]", "and the server [IP_ADDRESS]"]
    assert all(s.words == () for s in redaction.segments)
    assert redaction.counts == {"upi_id": 1, "ip_address": 1}
    assert redaction.spans == ()


def test_no_segments_redacts_the_text_alone() -> None:
    redaction = redact_transcript(text="GSTIN 27ABCPE1234F1ZB filed", segments=None)
    assert (redaction.text, redaction.segments, redaction.counts) == ("GSTIN [GSTIN] filed", (), {"gstin": 1})


def test_only_the_entities_asked_for_are_redacted() -> None:
    text = "call 9845012345 or mail a.b@example.com"
    assert redact_text(text=text, entities={Entity.EMAIL_ADDRESS}).text == "call 9845012345 or mail [EMAIL_ADDRESS]"
    assert redact_text(text=text, entities=set()).text == text


def test_the_word_for_word_output_keeps_every_unredacted_word_as_it_was() -> None:
    words = timed(" Nothing", " to", " see,", " 2024", " rupees", " 500.")
    redaction = redact_transcript(text="x", segments=[Segment(0.0, 3.0, "x", words)])
    assert [(w.word, w.start, w.end) for w in redaction.segments[0].words] == [(w.word, w.start, w.end) for w in words]


def test_the_words_the_offline_engine_wrote_for_a_spoken_address_are_one_span() -> None:
    # Whisper (base.en) on espeak-ng saying "... seven zero one two three, four five six seven eight.
    # My email is rahul at yahoo dot com. Thanks.": it cuts "Yahoo.com" into "Yahoo" and ".com.".
    said = [
        "Please",
        "call",
        "me",
        "on",
        "7012345678.",
        "My",
        "email",
        "is",
        "Rahul",
        "at",
        "Yahoo",
        ".com.",
        "Thanks.",
    ]
    words = timed(*(f" {word}" for word in said))
    text = "".join(word.word for word in words).strip()

    redaction = redact_transcript(text=text, segments=[Segment(0.0, 6.5, text, words)])

    assert redaction.text == "Please call me on [PHONE_NUMBER]. My email is [EMAIL_ADDRESS]. Thanks."
    assert [w.word for w in redaction.segments[0].words][-3:] == [" is", " [EMAIL_ADDRESS].", " Thanks."]
    assert redaction.spans == (
        Span(entity=Entity.PHONE_NUMBER, start=2.0, end=2.4),
        Span(entity=Entity.EMAIL_ADDRESS, start=4.0, end=5.9),
    )


def test_a_number_whose_second_half_whisper_wrote_as_a_word_of_its_own_with_a_hyphen_is_one_span() -> None:
    words = timed(" Please", " call", " me", " on", " 70123", " -45678.")
    segment = Segment(0.0, 3.0, "Please call me on 70123-45678.", words)

    redaction = redact_transcript(text=segment.text, segments=[segment])

    assert [w.word for w in redaction.segments[0].words] == [" Please", " call", " me", " on", " [PHONE_NUMBER]."]
    assert redaction.text == "Please call me on [PHONE_NUMBER]."
    assert redaction.counts == {"phone_number": 1}
