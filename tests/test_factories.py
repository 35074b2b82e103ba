"""Every factory makes a row that passes its model's validation and the database's constraints."""

import pytest

from tests.factories import (
    AudioFileFactory,
    EndedSessionFactory,
    OrderFactory,
    PaymentFactory,
    TranscriptionFactory,
    UserFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db

FACTORIES = [
    UserFactory,
    EndedSessionFactory,
    AudioFileFactory,
    TranscriptionFactory,
    OrderFactory,
    PaymentFactory,
    WebhookEventFactory,
]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda factory: factory.__name__)
def test_each_factory_makes_valid_distinct_rows(factory):
    first, second = factory(), factory()

    first.full_clean(exclude=["password"])
    assert first.pk != second.pk
    assert type(first)._default_manager.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_a_job_made_for_an_audio_file_copies_its_name_and_duration():
    audio = AudioFileFactory(original_filename="meeting.mp3")

    job = TranscriptionFactory(user=audio.user, audio_file=audio)

    assert (job.audio_filename, job.audio_duration_seconds) == ("meeting.mp3", audio.duration_seconds)


def test_users_come_with_their_wallet():
    assert UserFactory().wallet.demo_minutes_remaining > 0
