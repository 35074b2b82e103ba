"""What a scheduled check (the ledger audit, the Razorpay reconciliation) found on each run, kept so
the operations dashboard and the admin can show the last result without running it again."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.text import Truncator

from config.exceptions import DomainError

SUMMARY_LENGTH = 500


class CheckRun(models.Model):
    """One run of a check. `ok` is None while it runs, or when it could not run at all (the
    provider was unreachable: `summary` says so)."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True, help_text="Nothing differed. Empty: it could not run to the end.")
    summary = models.CharField(max_length=SUMMARY_LENGTH, blank=True)
    report = models.TextField(blank=True, help_text="Each difference found, a line each.")

    class Meta:
        abstract = True
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.summary}"


REPORT_LINES = 200
KEPT_FOR = timedelta(days=90)


def check_run_finish(run: CheckRun, *, ok: bool | None, summary: str, lines: list[str], **figures: int) -> None:
    """Record how `run` ended: its verdict, summary, figures and at most `REPORT_LINES` lines of
    report; runs of the same check older than `KEPT_FOR` are forgotten."""
    kept = lines[:REPORT_LINES]
    if len(lines) > REPORT_LINES:
        kept.append(f"… and {len(lines) - REPORT_LINES} more")
    run.ok, run.report, run.finished_at = ok, "\n".join(kept), timezone.now()
    run.summary = Truncator(summary).chars(SUMMARY_LENGTH)
    for name, value in figures.items():
        setattr(run, name, value)
    run.save()
    type(run)._default_manager.filter(started_at__lt=run.started_at - KEPT_FOR).delete()


def check_run_failed(run: CheckRun, error: Exception) -> None:
    """Record that `run` stopped on `error` (its verdict unknown), for the caller to raise again."""
    summary = f"{error.code}: {error.detail}" if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    check_run_finish(run, ok=None, summary=summary, lines=[])
