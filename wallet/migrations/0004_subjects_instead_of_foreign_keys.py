import uuid

from django.db import migrations, models

TRANSCRIPTION = "transcription"


def name_subjects(apps, schema_editor):
    """Each hold, debit and refund names its transcription by type and id instead of a foreign key."""
    Hold = apps.get_model("wallet", "Hold")
    Transaction = apps.get_model("wallet", "Transaction")
    holds = list(Hold.objects.only("pk", "transcription_id"))
    for hold in holds:
        hold.subject_type, hold.subject_id = TRANSCRIPTION, str(hold.transcription_id)
    Hold.objects.bulk_update(holds, ["subject_type", "subject_id"], batch_size=1000)
    lines = list(Transaction.objects.filter(transcription__isnull=False).only("pk", "transcription_id"))
    for line in lines:
        line.subject_type, line.subject_id = TRANSCRIPTION, str(line.transcription_id)
    Transaction.objects.bulk_update(lines, ["subject_type", "subject_id"], batch_size=1000)


def link_transcriptions(apps, schema_editor):
    Hold = apps.get_model("wallet", "Hold")
    Transaction = apps.get_model("wallet", "Transaction")
    holds = list(Hold.objects.filter(subject_type=TRANSCRIPTION).only("pk", "subject_id"))
    for hold in holds:
        hold.transcription_id = uuid.UUID(hold.subject_id)
    Hold.objects.bulk_update(holds, ["transcription_id"], batch_size=1000)
    lines = list(Transaction.objects.filter(subject_type=TRANSCRIPTION).only("pk", "subject_id"))
    for line in lines:
        line.transcription_id = uuid.UUID(line.subject_id)
    Transaction.objects.bulk_update(lines, ["transcription_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0003_transaction_public_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="hold",
            name="subject_type",
            field=models.CharField(choices=[("transcription", "Transcription")], default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="hold",
            name="subject_id",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="transaction",
            name="subject_type",
            field=models.CharField(blank=True, choices=[("transcription", "Transcription")], max_length=32),
        ),
        migrations.AddField(
            model_name="transaction",
            name="subject_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        # The reverse needs the foreign keys back (nullable) before it fills them.
        migrations.AlterField(
            model_name="hold",
            name="transcription",
            field=models.OneToOneField(
                null=True, on_delete=models.PROTECT, related_name="hold", to="transcriptions.transcription"
            ),
        ),
        migrations.RunPython(name_subjects, link_transcriptions),
        migrations.RemoveField(model_name="hold", name="transcription"),
        migrations.RemoveField(model_name="transaction", name="transcription"),
        migrations.AddConstraint(
            model_name="hold",
            constraint=models.UniqueConstraint(fields=("subject_type", "subject_id"), name="hold_subject_unique"),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["subject_type", "subject_id"], name="tx_subject_idx"),
        ),
    ]
