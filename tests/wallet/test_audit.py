from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.checks import REPORT_LINES, check_run_finish
from tests.wallet.conftest import fund, make_transcription
from transcriptions.models import wallet_subject
from wallet.models import AuditRun, Hold, Wallet
from wallet.services import wallet_capture, wallet_refund, wallet_reserve
from wallet.tasks import audit_ledger

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def busy_wallet(user):
    """A wallet that has seen every kind of line and still has an open hold."""
    fund(user, balance=D("30.00"), demo_minutes=D("4.00"))
    transcriptions = [make_transcription(user, minutes) for minutes in (D("3.00"), D("6.50"), D("2.00"))]
    for transcription in transcriptions:
        wallet_reserve(user=user, subject=wallet_subject(transcription.pk), minutes=transcription.billable_minutes)
        wallet_capture(subject=wallet_subject(transcription.pk))
    wallet_refund(subject=wallet_subject(transcriptions[0].pk), reason="bad audio")  # 3 demo minutes back
    wallet_reserve(user=user, subject=wallet_subject(make_transcription(user, D("5.00")).pk), minutes=D("5.00"))
    return Wallet.objects.get(user=user)


def test_audit_of_a_consistent_ledger_exits_zero(busy_wallet, other_user, capsys):
    call_command("audit_ledger")

    out = capsys.readouterr().out
    assert "2 wallets, 8 ledger lines checked: no mismatch." in out


@pytest.mark.parametrize(
    "figure, value",
    [
        ("balance", D("999.00")),
        ("demo_minutes_remaining", D("9.00")),
        ("total_credited", D("0.00")),
        ("total_spent", D("1.00")),
        ("total_minutes_transcribed", D("0.00")),
        ("held", D("0.00")),
        ("demo_minutes_held", D("0.00")),
    ],
)
def test_audit_reports_a_hand_corrupted_figure_and_fails(busy_wallet, other_user, capsys, figure, value):
    Wallet.objects.filter(pk=busy_wallet.pk).update(**{figure: value})

    with pytest.raises(CommandError, match="1 mismatches in 1 wallets"):
        call_command("audit_ledger")

    out = capsys.readouterr().out
    assert f"wallet {busy_wallet.pk} ({busy_wallet.user.email}): {figure} is {value}, its ledger says" in out


def test_audit_reports_a_hold_that_vanished_from_under_the_wallet(busy_wallet):
    Hold.objects.filter(status=Hold.Status.HELD).update(status=Hold.Status.RELEASED)

    with pytest.raises(CommandError):
        call_command("audit_ledger")


def test_audit_of_one_wallet_ignores_the_others(busy_wallet, other_user, capsys):
    Wallet.objects.filter(pk=busy_wallet.pk).update(balance=D("999.00"))

    call_command("audit_ledger", "--wallet", str(other_user.wallet.pk))

    assert "1 wallets, 1 ledger lines checked: no mismatch." in capsys.readouterr().out


def test_each_audit_of_every_wallet_is_kept_with_what_it_found(busy_wallet, other_user, capsys):
    call_command("audit_ledger")
    Wallet.objects.filter(pk=busy_wallet.pk).update(balance=D("999.00"))
    audit_ledger.delay()  # beat's way: the same run, kept, though nothing prints it

    clean, broken = AuditRun.objects.order_by("started_at")
    assert (clean.ok, clean.wallets_checked, clean.lines_replayed, clean.mismatches, clean.report) == (
        True,
        2,
        8,
        0,
        "",
    )
    assert clean.summary == "2 wallets, 8 ledger lines checked: no mismatch."
    assert (broken.ok, broken.mismatches, broken.finished_at is not None) == (False, 1, True)
    owner = f"wallet {busy_wallet.pk} ({busy_wallet.user.email})"
    assert broken.report == f"{owner}: balance is 999.00, its ledger says 22.50"


def test_an_audit_of_some_wallets_is_not_kept_as_an_audit_of_all(busy_wallet):
    call_command("audit_ledger", "--wallet", str(busy_wallet.pk))

    assert not AuditRun.objects.exists()


def test_a_run_keeps_its_first_lines_and_forgets_runs_older_than_ninety_days(user):
    old = AuditRun.objects.create(started_at=timezone.now() - timedelta(days=91))
    recent = AuditRun.objects.create(started_at=timezone.now() - timedelta(days=89))
    run = AuditRun.objects.create()

    check_run_finish(run, ok=False, summary="many", lines=[f"line {n}" for n in range(REPORT_LINES + 5)])

    assert set(AuditRun.objects.all()) == {recent, run}
    assert old.pk not in AuditRun.objects.values_list("pk", flat=True)
    report = AuditRun.objects.get(pk=run.pk).report.splitlines()
    assert report[0] == "line 0" and report[REPORT_LINES - 1] == f"line {REPORT_LINES - 1}"
    assert report[-1] == "… and 5 more" and len(report) == REPORT_LINES + 1
