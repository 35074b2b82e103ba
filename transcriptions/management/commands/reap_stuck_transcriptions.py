import logging

from django.core.management.base import BaseCommand

from transcriptions.live import live_session_reap
from transcriptions.services import transcription_reap

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Finish transcriptions past their deadline: queue once more those that were never taken up or whose "
        "worker died, and fail (releasing their holds) those already given that second run; complete live sessions "
        "whose process died, charging the audio they transcribed. Celery beat runs "
        "this every TRANSCRIPTION_REAPER_INTERVAL_SECONDS; safe to run by hand at any time, also concurrently."
    )

    def handle(self, *args, **options):
        report = transcription_reap()
        for transcription_id in report.requeued:
            logger.warning("Re-queued stuck transcription %s", transcription_id)
            self.stdout.write(f"requeued {transcription_id}")
        for transcription_id in report.failed:
            logger.warning("Failed stuck transcription %s", transcription_id)
            self.stdout.write(f"failed {transcription_id}")
        self.stdout.write(
            f"{len(report.requeued)} stuck transcription(s) queued again, "
            f"{len(report.failed)} failed and their holds released."
        )
        settled = live_session_reap()
        for transcription_id in settled:
            self.stdout.write(f"settled live session {transcription_id} (its process stopped)")
        if settled:
            self.stdout.write(f"{len(settled)} live session(s) completed and charged for the audio they transcribed.")
