"""Ledger lines written before they had a public id each get a UUID of their own."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("wallet", "0002_ledger_line_sums_rounded")]
AFTER = [("wallet", "0003_transaction_public_id")]


@pytest.mark.django_db(transaction=True)
def test_existing_ledger_lines_get_distinct_public_ids():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Wallet, Transaction = (
        old.get_model(*name) for name in [("accounts", "User"), ("wallet", "Wallet"), ("wallet", "Transaction")]
    )
    for number in range(3):
        user = User.objects.create(email=f"ledger{number}@example.com", password="!")
        wallet = Wallet.objects.create(user=user, balance=Decimal("5.00"))
        Transaction.objects.create(
            wallet=wallet,
            type="credit",
            amount=Decimal("5.00"),
            balance_before=Decimal("0.00"),
            balance_after=Decimal("5.00"),
            demo_minutes=Decimal("0.00"),
            demo_minutes_before=Decimal("0.00"),
            demo_minutes_after=Decimal("0.00"),
            minutes=Decimal("0.00"),
            reference=f"credit:pay_{number}",
            payment_id=f"pay_{number}",
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps

    public_ids = list(new.get_model("wallet", "Transaction").objects.values_list("public_id", flat=True))
    assert len(public_ids) == len(set(public_ids)) == 3
    assert None not in public_ids
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema for the other tests


@pytest.mark.django_db(transaction=True)
def test_holds_and_lines_keep_naming_their_transcription_forward_and_back():
    transcriptions_now = ("transcriptions", "0003_job_deadlines")
    before = [("wallet", "0003_transaction_public_id"), transcriptions_now]
    after = [("wallet", "0004_subjects_instead_of_foreign_keys"), transcriptions_now]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("accounts", "User").objects.create(email="subject@example.com", password="!")
    wallet = old.get_model("wallet", "Wallet").objects.create(user=user, balance=Decimal("0.00"))
    job = old.get_model("transcriptions", "Transcription").objects.create(
        user=user, audio_filename="a.wav", audio_duration_seconds=Decimal("60"), billable_minutes=Decimal("1.00")
    )
    old.get_model("wallet", "Hold").objects.create(wallet=wallet, transcription=job, status="captured")
    old.get_model("wallet", "Transaction").objects.create(
        wallet=wallet,
        type="debit",
        reference=f"debit:{job.pk}",
        transcription=job,
        demo_minutes=Decimal("-1.00"),
        demo_minutes_before=Decimal("1.00"),
        demo_minutes_after=Decimal("0.00"),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    hold = new.get_model("wallet", "Hold").objects.get()
    line = new.get_model("wallet", "Transaction").objects.get()
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps

    assert (hold.subject_type, hold.subject_id) == ("transcription", str(job.pk))
    assert (line.subject_type, line.subject_id) == ("transcription", str(job.pk))
    assert back.get_model("wallet", "Hold").objects.get().transcription_id == job.pk
    assert back.get_model("wallet", "Transaction").objects.get().transcription_id == job.pk
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema for the other tests
