"""The hand-written corpus: recall on written and spoken identifiers, false redactions on near-misses,
in English and in Hindi.

Run with -s to see the figures: `pytest tests/redaction/test_corpus.py -q -s`."""

from redaction.transcript import redact_text
from tests.redaction.corpus import (
    HINDI_NEAR_MISSES,
    HINDI_SPOKEN,
    HINDI_WRITTEN,
    NEAR_MISSES,
    SPOKEN,
    WRITTEN,
    Sample,
)


def recall(samples: list[Sample]) -> tuple[int, int, list[str]]:
    """(identifiers redacted whole, identifiers, the sentences that kept a word of one)."""
    found = total = 0
    missed: list[str] = []
    for sample in samples:
        redaction = redact_text(text=sample.text)
        kept = sample.missed(redaction.text)
        total += len(sample.identifiers)
        found += len(sample.identifiers) - len(kept)
        missed += [f"{sample.text!r} -> {redaction.text!r}" for _ in kept]
        # And counted: as many of each kind as the sentence says, less those missed.
        for entity in {entity for entity, _ in sample.identifiers}:
            said = [identifier for kind, identifier in sample.identifiers if kind is entity]
            assert redaction.counts.get(entity.value, 0) >= len([i for i in said if i not in kept]), sample.text
    return found, total, missed


def test_recall_is_total_on_written_identifiers_and_at_least_ninety_percent_on_spoken_ones() -> None:
    written_found, written_total, written_missed = recall(WRITTEN)
    spoken_found, spoken_total, spoken_missed = recall(SPOKEN)
    print(f"\nrecall, written: {written_found}/{written_total} = {written_found / written_total:.1%}")
    print(f"recall, spoken: {spoken_found}/{spoken_total} = {spoken_found / spoken_total:.1%}")
    print(*spoken_missed, sep="\n")
    assert written_missed == []
    assert spoken_found / spoken_total >= 0.9
    # Every kind is in both forms.
    assert {kind for s in WRITTEN for kind, _ in s.identifiers} == {kind for s in SPOKEN for kind, _ in s.identifiers}


def test_recall_is_total_on_identifiers_written_in_hindi_sentences_and_measured_on_hindi_speech() -> None:
    written_found, written_total, written_missed = recall(HINDI_WRITTEN)
    spoken_found, spoken_total, spoken_missed = recall(HINDI_SPOKEN)
    print(f"\nrecall, written in Hindi: {written_found}/{written_total} = {written_found / written_total:.1%}")
    print(f"recall, spoken in Hindi: {spoken_found}/{spoken_total} = {spoken_found / spoken_total:.1%}")
    print(*spoken_missed, sep="\n")
    assert written_missed == []
    # Digits said one by one are read; numbers said two digits at a time ("अट्ठानवे", 98) are not.
    assert spoken_found / spoken_total >= 0.9


def test_no_near_miss_holds_an_identifier_of_the_corpus() -> None:
    # So that a surface holding a near-miss never looks like one holding an identifier.
    samples = [*WRITTEN, *SPOKEN, *HINDI_WRITTEN, *HINDI_SPOKEN]
    said = [identifier for sample in samples for _, identifier in sample.identifiers]
    assert [(s.text, i) for s in [*NEAR_MISSES, *HINDI_NEAR_MISSES] for i in said if i in s.text] == []


def test_no_near_miss_is_redacted() -> None:
    redacted = [s.text for s in NEAR_MISSES if redact_text(text=s.text).text != s.text]
    print(f"\nfalse redactions on near-misses: {len(redacted)}/{len(NEAR_MISSES)}")
    assert redacted == []


def test_no_hindi_near_miss_is_redacted() -> None:
    redacted = [s.text for s in HINDI_NEAR_MISSES if redact_text(text=s.text).text != s.text]
    print(f"\nfalse redactions on Hindi near-misses: {len(redacted)}/{len(HINDI_NEAR_MISSES)}")
    print(*redacted, sep="\n")
    assert redacted == []
