"""An engine's result with personal data taken out, in the engine's own types, as a job stores it.
The finding is the `redaction` package's; this module only maps its output back onto segments and
words."""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from redaction.entities import ALL_ENTITIES, Entity
from redaction.transcript import RedactedWord, Span, Substitution, redact_transcript
from transcriptions.engines.base import EngineResult, Word


def _word(words: Sequence[Word], redacted: RedactedWord) -> Word:
    if redacted.first == redacted.last:
        return replace(words[redacted.first], word=redacted.word)
    # Several words merged into one: the least sure of them is how sure the merged word is.
    covered = words[redacted.first : redacted.last + 1]
    probabilities = [word.probability for word in covered if word.probability is not None]
    probability = min(probabilities) if len(probabilities) == len(covered) else None
    return Word(start=redacted.start, end=redacted.end, word=redacted.word, probability=probability)


@dataclass(frozen=True)
class RedactedResult:
    result: EngineResult
    counts: dict[str, int]  # every kind asked for, 0 too
    spans: tuple[Span, ...]  # where each redacted identifier is heard (from the words)


def result_redact(*, result: EngineResult, policies: Sequence[str], substitution: str) -> RedactedResult:
    """`result` with the identifiers of the kinds in `policies` (all when empty) substituted in its
    text, segment texts and words, how many of each kind there were, and where they are heard."""
    entities = frozenset(Entity(name) for name in policies) or ALL_ENTITIES
    redaction = redact_transcript(
        text=result.text,
        segments=result.segments,
        entities=entities,
        substitution=Substitution(substitution or Substitution.ENTITY_NAME),
    )
    segments = None
    if result.segments is not None:
        segments = [
            replace(
                segment,
                text=redacted.text,
                words=tuple(_word(segment.words, word) for word in redacted.words),
            )
            for segment, redacted in zip(result.segments, redaction.segments, strict=True)
        ]
    counts = {entity.value: redaction.counts.get(entity.value, 0) for entity in Entity if entity in entities}
    # The rest of the result (the language detected, ...) as the engine gave it.
    return RedactedResult(
        result=replace(result, text=redaction.text, segments=segments), counts=counts, spans=redaction.spans
    )
