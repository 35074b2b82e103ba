"""The figures of the operations dashboard, read through each app's selectors: a fixed number of
aggregate, indexed queries, whatever the size of the tables."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce
from operator import add

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString

from config.admin import rupees
from operations.charts import Series, stacked_bars
from payments.models import Payment, ReconcileRun, Refund
from payments.selectors import payment_flagged, reconcile_last, refund_needing_attention
from payments.services import payments_configured
from transcriptions.models import Transcription
from transcriptions.selectors import JobCount, transcription_failed_since, transcription_job_counts, transcription_stuck
from wallet.models import AuditRun
from wallet.selectors import LedgerDay, audit_last, ledger_days
from webhooks.models import Endpoint
from webhooks.selectors import FailingUrl, webhook_endpoints_disabled, webhook_failing_urls

DAYS = 30
LISTED = 10  # rows a list shows; each links to the admin's whole list
REFUND_UNSETTLED_AFTER = timedelta(hours=1)
REVENUE_CHART = "Transcription revenue a day, last 30 days"
MINUTES_CHART = "Minutes transcribed a day, last 30 days"


@dataclass(frozen=True)
class Windows:
    """Today (UTC), the last 7 and the last 30 days, each to now."""

    now: datetime
    today: datetime
    week: datetime
    month: datetime

    @classmethod
    def ending(cls, now: datetime) -> "Windows":
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(now=now, today=today, week=today - timedelta(days=6), month=today - timedelta(days=DAYS - 1))


@dataclass(frozen=True)
class Check:
    """The last run of a scheduled check, and whether it is older than two of its intervals (a
    check that cannot run here, as reconciliation without Razorpay keys, is never overdue)."""

    run: AuditRun | ReconcileRun | None
    every_seconds: int
    now: datetime
    enabled: bool = True

    @property
    def state(self) -> str:
        run = self.run
        if run is None:
            return "never run" if self.enabled else "not configured here"
        if run.finished_at is None:
            return "did not finish" if self.overdue else "running"
        if run.ok is None:
            return "could not run"
        return "clean" if run.ok else "differences found"

    @property
    def tone(self) -> str:
        return {"clean": "good", "running": "", "not configured here": ""}.get(self.state, "bad")

    @property
    def overdue(self) -> bool:
        if not self.enabled:
            return False
        started = self.run.started_at if self.run else None
        return started is None or self.now - started > timedelta(seconds=2 * self.every_seconds)


@dataclass
class JobRow:
    """Jobs of one status and one engine (or one error code) created in each window."""

    status: str
    label: str
    today: int = 0
    week: int = 0
    month: int = 0


@dataclass(frozen=True)
class Dashboard:
    windows: Windows
    days: list[LedgerDay]
    ledger: dict[str, LedgerDay]  # "today", "7 days", "30 days"
    jobs: list[JobRow]
    failures: list[JobRow]  # by error code
    stuck: list[Transcription]
    stuck_more: bool
    failed: list[Transcription]
    failing_urls: list[FailingUrl]
    disabled_endpoints: list[Endpoint]
    flagged_payments: list[Payment]
    refunds: list[Refund]
    audit: Check
    reconcile: Check
    charts: dict[str, SafeString]  # title: SVG


def _rows(counts: list[JobCount], key: str) -> list[JobRow]:
    rows: dict[tuple[str, str], JobRow] = {}
    for count in counts:
        status, label = count.status, getattr(count, key) or "-"
        row = rows.setdefault((status, label), JobRow(status=status, label=label))
        row.today, row.week, row.month = row.today + count.today, row.week + count.week, row.month + count.month
    return sorted(rows.values(), key=lambda row: (-row.month, row.status, row.label))


def minutes(value: Decimal) -> str:
    return f"{value:,.0f} min" if value >= 100 else f"{value:,.2f} min"


def dashboard_build(*, now: datetime | None = None) -> Dashboard:
    windows = Windows.ending(now or timezone.now())
    days = ledger_days(first=windows.month.date(), last=windows.today.date(), now=windows.now)
    counts = transcription_job_counts(month=windows.month, week=windows.week, today=windows.today)
    stuck = list(transcription_stuck(now=windows.now)[: LISTED + 1])
    dates = [day.day for day in days]
    return Dashboard(
        windows=windows,
        days=days,
        ledger={"today": days[-1], "7 days": reduce(add, days[-7:]), "30 days": reduce(add, days)},
        jobs=_rows(counts, "engine"),
        failures=_rows([count for count in counts if count.status == Transcription.Status.FAILED], "error_code"),
        stuck=stuck[:LISTED],
        stuck_more=len(stuck) > LISTED,
        failed=list(transcription_failed_since(since=windows.week)[:LISTED]),
        failing_urls=webhook_failing_urls(since=windows.week, limit=LISTED),
        disabled_endpoints=list(webhook_endpoints_disabled()[:LISTED]),
        flagged_payments=list(payment_flagged()[:LISTED]),
        refunds=list(refund_needing_attention(unsettled_before=windows.now - REFUND_UNSETTLED_AFTER)[:LISTED]),
        audit=Check(audit_last(), settings.LEDGER_AUDIT_INTERVAL_SECONDS, windows.now),
        reconcile=Check(
            reconcile_last(), settings.PAYMENTS_RECONCILE_INTERVAL_SECONDS, windows.now, enabled=payments_configured()
        ),
        charts={
            REVENUE_CHART: stacked_bars(
                title=REVENUE_CHART,
                days=dates,
                series=[Series("Revenue", "#417690", [day.revenue for day in days])],
                show=rupees,
            ),
            MINUTES_CHART: stacked_bars(
                title=MINUTES_CHART,
                days=dates,
                series=[
                    Series("Paid minutes", "#79aec8", [day.paid_minutes for day in days]),
                    Series("Demo minutes", "#e0b15a", [day.demo_minutes for day in days]),
                ],
                show=minutes,
            ),
        },
    )
