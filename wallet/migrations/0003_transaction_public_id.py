import uuid

from django.db import migrations, models


def give_each_line_its_own_uuid(apps, schema_editor):
    Transaction = apps.get_model("wallet", "Transaction")
    lines = list(Transaction.objects.filter(public_id__isnull=True).only("pk"))
    for line in lines:
        line.public_id = uuid.uuid4()
    Transaction.objects.bulk_update(lines, ["public_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0002_ledger_line_sums_rounded"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_line_its_own_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="transaction",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
