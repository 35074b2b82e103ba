import re
from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config.exceptions import DomainError
from payments.services import CaptureOutcome, payments_reconcile_run

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _window(value: str) -> timedelta:
    match = re.fullmatch(r"([1-9][0-9]{0,4})([mhdw])", value.strip())
    if match is None:
        raise ValueError(value)
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Compare the payments Razorpay captured in a recent window with our ledger and credit any "
        "that were never credited (each payment id at most once, so it is safe to run repeatedly); "
        "then compare the refunds of those payments and apply any we missed. Exits 1 on a refund difference. "
        "Each run is kept for the operations dashboard."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", default="2d", help="how far back to look: 90m, 12h, 2d or 1w (default: 2d)", metavar="WINDOW"
        )

    def handle(self, *args, since: str, **options) -> None:
        try:
            window = _window(since)
        except ValueError as exc:
            raise CommandError(f"--since {since!r}: use a number and a unit, e.g. 90m, 12h, 2d or 1w.") from exc
        until = timezone.now()
        start = until - window
        try:
            reconciliation = payments_reconcile_run(since=start, until=until)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from exc

        results, refunds = reconciliation.payments, reconciliation.refunds
        self.stdout.write(
            f"Razorpay payments captured from {start:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC: {len(results)}"
        )
        for result in results:
            self.stdout.write(self.style.WARNING(f"  {result}") if result.needs_attention else f"  {result}")
        counts = Counter(result.outcome for result in results)
        self.stdout.write(
            ", ".join(f"{outcome.name.lower().replace('_', ' ')}: {counts[outcome]}" for outcome in CaptureOutcome)
        )
        self.stdout.write(f"Refunds differing from Razorpay's (now applied): {len(refunds)}")
        for difference in refunds:
            self.stdout.write(self.style.WARNING(f"  {difference}"))
        if refunds:
            raise SystemExit(1)
