"""Jobs that remembered their first answer as an HTTP status remember it as the job's status."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("transcriptions", "0003_job_deadlines")]
AFTER = [("transcriptions", "0004_answered_as_instead_of_http_status")]


@pytest.mark.django_db(transaction=True)
def test_recorded_http_statuses_become_job_statuses():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(email="answers@example.com", password="!")
    Transcription = old.get_model("transcriptions", "Transcription")
    for number, response_status in enumerate([201, 202, 503, None]):
        Transcription.objects.create(
            user=user,
            audio_filename=f"{number}.wav",
            audio_duration_seconds=Decimal("60"),
            billable_minutes=Decimal("1.00"),
            response_status=response_status,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    answered = dict(
        new.get_model("transcriptions", "Transcription").objects.values_list("audio_filename", "answered_as")
    )

    assert answered == {"0.wav": "completed", "1.wav": "pending", "2.wav": "failed", "3.wav": ""}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema for the other tests
