import threading
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import User
from audio.services import audio_file_create
from config.exceptions import DomainError
from transcriptions.models import Transcription
from transcriptions.selectors import ACTIVE_STATUSES
from transcriptions.services import transcription_create

POLL_SECONDS = 0.2
BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Transcribe an audio file for a user, as the API does: store it, pay from the user's wallet, "
        "run it (or queue it for a worker and wait), then print the text and the cost."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True, help="Email of the user who pays.")
        parser.add_argument("--language", default="", help="ISO-639-1 code such as 'en'; detected when left out.")
        parser.add_argument(
            "--timeout", type=float, default=3600, help="Seconds to wait for a queued job (default 3600)."
        )

    def handle(self, *args, path: Path, user: str, language: str, timeout: float, **options):
        account = User.objects.filter(email__iexact=user).first()
        if account is None:
            raise CommandError(f"No user {user}.")
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            with path.open("rb") as file:
                audio = audio_file_create(user=account, file=File(file, name=path.name), original_filename=path.name)
            job = self._transcribe(account, audio, language.lower(), timeout)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        if job.status != Transcription.Status.COMPLETED:
            raise CommandError(f"Transcription {job.pk} failed: {job.error or 'not finished in time.'}")
        self.stdout.write(job.text)
        self.stdout.write(
            f"\n{job.billable_minutes} minutes: {job.demo_minutes_used} demo minutes, "
            f"₹{job.amount} charged ({job.engine}, {job.model}; transcription {job.pk})"
        )

    def _transcribe(self, account, audio, language: str, timeout: float) -> Transcription:
        """Submit in a thread (on the embedded default the job runs inside that call) and follow the
        job's progress from here, as the API's clients do."""
        failure: list[BaseException] = []

        def submit() -> None:
            try:
                transcription_create(user=account, audio_file_id=audio.pk, language=language)
            except BaseException as exc:
                failure.append(exc)
            finally:
                connection.close()  # this thread's own connection

        submitter = threading.Thread(target=submit)
        submitter.start()
        deadline = time.monotonic() + timeout
        job = None
        while submitter.is_alive() or job is None or job.status in ACTIVE_STATUSES:
            if failure:
                raise failure[0]
            job = Transcription.objects.filter(audio_file=audio).first()
            if job is not None:
                self._draw(job.progress)
            if not submitter.is_alive() and time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        submitter.join()
        if failure:
            raise failure[0]
        if job is None:
            raise CommandError("The transcription was not created.")
        self.stderr.write("")
        return job

    def _draw(self, percent: int) -> None:
        done = BAR_WIDTH * percent // 100
        self.stderr.write(f"\r[{'#' * done}{'.' * (BAR_WIDTH - done)}] {percent:3d}%", ending="")
        self.stderr.flush()
