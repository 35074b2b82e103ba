from django.db import migrations, models

STATUSES = [("pending", "Pending"), ("processing", "Processing"), ("completed", "Completed"), ("failed", "Failed")]


def status_from_http(apps, schema_editor):
    """201 was a completed job, 202 a queued or running one, an error status a failed one."""
    Transcription = apps.get_model("transcriptions", "Transcription")
    Transcription.objects.filter(response_status=201).update(answered_as="completed")
    Transcription.objects.filter(response_status=202).update(answered_as="pending")
    Transcription.objects.filter(response_status__gte=400).update(answered_as="failed")


def http_from_status(apps, schema_editor):
    Transcription = apps.get_model("transcriptions", "Transcription")
    Transcription.objects.filter(answered_as="completed").update(response_status=201)
    Transcription.objects.filter(answered_as__in=["pending", "processing"]).update(response_status=202)
    # The exact error status is not kept; every failure the create view answers is a 4xx or 5xx.
    Transcription.objects.filter(answered_as="failed").update(response_status=422)


class Migration(migrations.Migration):
    dependencies = [
        ("transcriptions", "0003_job_deadlines"),
    ]

    operations = [
        migrations.AddField(
            model_name="transcription",
            name="answered_as",
            field=models.CharField(blank=True, choices=STATUSES, max_length=16),
        ),
        migrations.RunPython(status_from_http, http_from_status),
        migrations.RemoveField(model_name="transcription", name="response_status"),
    ]
