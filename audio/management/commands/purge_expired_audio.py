from django.conf import settings
from django.core.management.base import BaseCommand

from audio.services import audio_purge_expired


class Command(BaseCommand):
    help = (
        "Delete audio files older than AUDIO_RETENTION_DAYS (their transcriptions keep their text), except "
        "those a transcription is waiting for or working on. Celery beat runs this every "
        "AUDIO_RETENTION_INTERVAL_SECONDS; safe to run by hand at any time."
    )

    def handle(self, *args, **options):
        if settings.AUDIO_RETENTION_DAYS <= 0:
            self.stdout.write("AUDIO_RETENTION_DAYS is 0: audio is kept for ever.")
            return
        report = audio_purge_expired()
        for audio_file_id in report.in_use:
            self.stdout.write(f"kept {audio_file_id}: a transcription of it is in progress")
        self.stdout.write(
            f"{report.deleted} audio file(s) older than {settings.AUDIO_RETENTION_DAYS} days deleted, "
            f"{len(report.in_use)} kept for now."
        )
