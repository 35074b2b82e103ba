"""Redaction of a transcript: its text, its segments' texts and their words, each surface on its own,
so that none of them keeps an identifier that another had redacted.

Words are matched as one stream across segments, so an identifier said over several words (even over
a segment's end) is one hit. Its words are merged into one word from the first's start to the last's
end, holding the substitute; those times are the spans that the audio redaction covers."""

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from redaction.detect import Hit, find_entities, split_token
from redaction.entities import ALL_ENTITIES, Entity


class Substitution(StrEnum):
    ENTITY_NAME = "entity_name"  # [PHONE_NUMBER]
    HASH = "hash"  # one # per character


class WordLike(Protocol):
    @property
    def word(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


class SegmentLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def words(self) -> Sequence[WordLike]: ...


@dataclass(frozen=True)
class RedactedWord:
    word: str
    start: float
    end: float
    first: int  # the input words (indices in their segment) it stands for, both included
    last: int


@dataclass(frozen=True)
class RedactedSegment:
    text: str
    words: tuple[RedactedWord, ...]  # empty when the segment had none


@dataclass(frozen=True)
class Span:
    """Where a redacted identifier is heard, in seconds."""

    entity: Entity
    start: float
    end: float


@dataclass(frozen=True)
class TextRedaction:
    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class TranscriptRedaction:
    text: str
    segments: tuple[RedactedSegment, ...]
    # Per entity, the most hits any one surface had (text, segment texts or words): they see the same
    # speech, but only words carry times and only texts carry punctuation.
    counts: dict[str, int]
    spans: tuple[Span, ...]  # from the words; empty without word timings


def _substitute(*, entity: Entity, original: str, substitution: Substitution) -> str:
    if substitution is Substitution.HASH:
        return re.sub(r"\S", "#", original)
    return entity.label


_TOKEN_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class _Place:
    container: int  # which text or segment
    position: int  # which token (text) or word (segment) in it


def _parts(hit: Hit, places: Sequence[_Place]) -> dict[int, tuple[int, int]]:
    """A hit's tokens, per container: (first position, last position)."""
    parts: dict[int, tuple[int, int]] = {}
    for place in places[hit.first : hit.last + 1]:
        first, _ = parts.get(place.container, (place.position, place.position))
        parts[place.container] = (first, place.position)
    return parts


def _redact_texts(
    *, texts: Sequence[str], entities: Collection[Entity], substitution: Substitution
) -> tuple[list[str], Counter[str]]:
    matches = [list(_TOKEN_RE.finditer(text)) for text in texts]
    places = [_Place(c, p) for c, found in enumerate(matches) for p in range(len(found))]
    tokens = [match.group() for found in matches for match in found]
    hits = find_entities(tokens=tokens, entities=entities)
    edits: list[list[tuple[int, int, Entity]]] = [[] for _ in texts]
    for hit in hits:
        for container, (first, last) in _parts(hit, places).items():
            start = matches[container][first].start() + len(split_token(matches[container][first].group())[0])
            end = matches[container][last].end() - len(split_token(matches[container][last].group())[2])
            edits[container].append((start, end, hit.entity))
    redacted = []
    for text, text_edits in zip(texts, edits, strict=True):
        for start, end, entity in reversed(text_edits):
            replacement = _substitute(entity=entity, original=text[start:end], substitution=substitution)
            text = text[:start] + replacement + text[end:]
        redacted.append(text)
    return redacted, Counter(hit.entity.value for hit in hits)


def redact_text(
    *,
    text: str,
    entities: Collection[Entity] = ALL_ENTITIES,
    substitution: Substitution = Substitution.ENTITY_NAME,
) -> TextRedaction:
    [redacted], counts = _redact_texts(texts=[text], entities=entities, substitution=substitution)
    return TextRedaction(text=redacted, counts=dict(counts))


def _redact_words(
    *, segments: Sequence[SegmentLike], entities: Collection[Entity], substitution: Substitution
) -> tuple[list[tuple[RedactedWord, ...]], Counter[str], list[Span]]:
    places = [_Place(c, p) for c, segment in enumerate(segments) for p in range(len(segment.words))]
    all_words = [word for segment in segments for word in segment.words]
    hits = find_entities(tokens=[word.word for word in all_words], entities=entities)
    merged: list[dict[int, tuple[int, Entity]]] = [{} for _ in segments]  # first position -> (last, entity)
    for hit in hits:
        for container, (first, last) in _parts(hit, places).items():
            merged[container][first] = (last, hit.entity)
    redacted: list[tuple[RedactedWord, ...]] = []
    for segment, merges in zip(segments, merged, strict=True):
        words: list[RedactedWord] = []
        position = 0
        while position < len(segment.words):
            word = segment.words[position]
            if position not in merges:
                words.append(RedactedWord(word.word, word.start, word.end, position, position))
                position += 1
                continue
            last, entity = merges[position]
            covered = segment.words[position : last + 1]
            prefix = split_token(covered[0].word)[0]
            suffix = split_token(covered[-1].word)[2]
            joined = " ".join(w.word.strip() for w in covered)
            original = joined[len(prefix) : len(joined) - len(suffix)]
            leading = covered[0].word[: len(covered[0].word) - len(covered[0].word.lstrip())]
            replacement = _substitute(entity=entity, original=original, substitution=substitution)
            words.append(
                RedactedWord(
                    f"{leading}{prefix}{replacement}{suffix}",
                    covered[0].start,
                    max(w.end for w in covered),
                    position,
                    last,
                )
            )
            position = last + 1
        redacted.append(tuple(words))
    spans = [
        Span(
            entity=hit.entity,
            start=min(w.start for w in all_words[hit.first : hit.last + 1]),
            end=max(w.end for w in all_words[hit.first : hit.last + 1]),
        )
        for hit in hits
    ]
    return redacted, Counter(hit.entity.value for hit in hits), spans


def redact_transcript(
    *,
    text: str,
    segments: Sequence[SegmentLike] | None,
    entities: Collection[Entity] = ALL_ENTITIES,
    substitution: Substitution = Substitution.ENTITY_NAME,
) -> TranscriptRedaction:
    """`text` and `segments` as an engine gave them (segments None without timestamps); each surface
    redacted. Segments come back in order, one for one, each word standing for one input word or for
    the several that an identifier spread over."""
    [redacted_text], counts = _redact_texts(texts=[text], entities=entities, substitution=substitution)
    if not segments:
        return TranscriptRedaction(text=redacted_text, segments=(), counts=dict(counts), spans=())
    segment_texts, segment_counts = _redact_texts(
        texts=[segment.text for segment in segments], entities=entities, substitution=substitution
    )
    words, word_counts, spans = _redact_words(segments=segments, entities=entities, substitution=substitution)
    counts = counts | segment_counts | word_counts  # Counter's | keeps the larger count
    return TranscriptRedaction(
        text=redacted_text,
        segments=tuple(
            RedactedSegment(text=segment_text, words=segment_words)
            for segment_text, segment_words in zip(segment_texts, words, strict=True)
        ),
        counts=dict(counts),
        spans=tuple(spans),
    )
