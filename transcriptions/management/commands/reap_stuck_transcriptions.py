import argparse
import logging
import re
from datetime import timedelta

from django.core.management.base import BaseCommand

from transcriptions.services import transcription_reap_stuck

logger = logging.getLogger(__name__)

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(value: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if not match or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration such as 90s, 30m, 2h or 1d.")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Fail transcriptions stuck in `processing` (their worker died) and release their holds. "
        "Safe to run from cron, any number of times, concurrently."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=duration,
            default=timedelta(minutes=30),
            help="How long a job may be processing before it counts as stuck: 90s, 30m, 2h, 1d (default 30m). "
            "Keep it above the longest job a healthy worker runs.",
        )

    def handle(self, *args, older_than: timedelta, **options):
        reaped = transcription_reap_stuck(older_than=older_than)
        for transcription_id in reaped:
            logger.warning("Reaped stuck transcription %s", transcription_id)
            self.stdout.write(f"failed {transcription_id}")
        self.stdout.write(f"{len(reaped)} stuck transcription(s) failed and their holds released.")
