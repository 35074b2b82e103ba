"""How a `/v1` request waits for its job.

On the embedded default the job has run in-process before `transcription_create` returns, so
there is nothing to wait for. With workers, the request polls the job's row until it completes
or fails, for at most `OPENAI_API_WAIT_SECONDS`: a synchronous view holding its worker thread,
which is why the wait is bounded below the server's own request timeout (gunicorn's
`GUNICORN_TIMEOUT`). A job that outlives the wait goes on; the client finds it in
`/api/transcriptions/`.
"""

import time
from collections.abc import Iterator

from django.conf import settings

from transcriptions.models import Transcription
from transcriptions.selectors import ACTIVE_STATUSES

POLL_SECONDS = 0.5


def job_states(job: Transcription, *, seconds: float | None = None) -> Iterator[Transcription]:
    """The job as it stands at each poll while it is pending or processing, for at most `seconds`
    (default `OPENAI_API_WAIT_SECONDS`). Afterwards `job` holds its last state read."""
    wait = settings.OPENAI_API_WAIT_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + wait
    while job.status in ACTIVE_STATUSES:
        yield job
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(POLL_SECONDS, left))
        job.refresh_from_db()


def job_wait(job: Transcription, *, seconds: float | None = None) -> Transcription:
    """The job once it completed or failed, or as it stands when the wait runs out."""
    for _ in job_states(job, seconds=seconds):
        pass
    return job


def is_active(job: Transcription) -> bool:
    return job.status in ACTIVE_STATUSES
