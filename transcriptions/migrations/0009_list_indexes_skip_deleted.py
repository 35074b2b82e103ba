from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audio", "0004_direct_upload"),
        ("transcriptions", "0008_speaker_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The new indexes first: MySQL/MariaDB keep an index on `user_id` for its foreign key at all times.
    operations = [
        migrations.AddIndex(
            model_name="transcription",
            index=models.Index(fields=["user", "deleted_at", "-created_at"], name="tr_user_kept_created_idx"),
        ),
        migrations.AddIndex(
            model_name="transcription",
            index=models.Index(fields=["user", "deleted_at", "status", "-created_at"], name="tr_user_kept_status_idx"),
        ),
        migrations.RemoveIndex(model_name="transcription", name="tr_user_created_idx"),
        migrations.RemoveIndex(model_name="transcription", name="tr_user_status_created_idx"),
    ]
