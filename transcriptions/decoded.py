"""The segments a running job has decoded so far, for whoever shows its text before it completes
(the `/v1` stream). One cache entry a segment, by job, run and index, for an hour: a redelivered
run writes its own. Best effort: a segment the cache lost is only shown later, with the result.
On the embedded default a job runs inside its request, so nobody reads them before it is done.
"""

from typing import Any
from uuid import UUID

from django.core.cache import cache

from transcriptions.engines.base import Segment, SegmentCallback

KEEP_SECONDS = 3600
READ_BATCH = 100


def _key(transcription_id: UUID, run_id: str, index: int) -> str:
    return f"decoded:{transcription_id}:{run_id}:{index}"


def decoded_keeper(transcription_id: UUID, *, run_id: str) -> SegmentCallback:
    """An engine's `on_segment` for this run of the job."""
    count = 0

    def keep(segment: Segment) -> None:
        nonlocal count
        cache.set(_key(transcription_id, run_id, count), segment.as_dict(), KEEP_SECONDS)
        count += 1

    return keep


def decoded_segments(transcription_id: UUID, *, run_id: str, start: int) -> list[dict[str, Any]]:
    """The run's segments from index `start` on, as far as they are known without a gap."""
    found: list[dict[str, Any]] = []
    while True:
        keys = [
            _key(transcription_id, run_id, index)
            for index in range(start + len(found), start + len(found) + READ_BATCH)
        ]
        batch = cache.get_many(keys)
        for key in keys:
            if key not in batch:
                return found
            found.append(batch[key])
