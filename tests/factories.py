"""Test data, one factory a model, each making rows the way the product does.

Wallets, holds and ledger lines have no factory on purpose: they are made only by
`wallet.services` (a user's wallet when the user is created, holds and lines by the operations),
so a test gets them by calling those services, and the ledger always adds up.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import EndedSession, User
from accounts.services import user_create
from audio.models import AudioFile
from payments.models import Order, Payment, WebhookEvent
from transcriptions.models import Transcription


class UserFactory(factory.Factory):
    """Users made the way the product makes them: through `user_create`, with a wallet."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    provider = "google"
    provider_uid = factory.Sequence(lambda n: f"uid-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> User:
        return user_create(**kwargs)


class EndedSessionFactory(DjangoModelFactory):
    class Meta:
        model = EndedSession

    session_id = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class AudioFileFactory(DjangoModelFactory):
    """An audio file's row; its `file` names a path in storage that nothing was written to (tests
    that need the bytes store a real file with the `make_audio_file` fixture)."""

    class Meta:
        model = AudioFile

    user = factory.SubFactory(UserFactory)
    file = factory.LazyAttribute(lambda audio: f"audio_files/{audio.user.pk}/{uuid.uuid4()}.wav")
    original_filename = "talk.wav"
    format = "wav"
    size_bytes = 960_044
    duration_seconds = Decimal("60.000")


class TranscriptionFactory(DjangoModelFactory):
    """A job's row as it is right after the request, with no hold: for tests of what the
    transcriptions app shows and keeps. Jobs that pay go through `transcription_create`."""

    class Meta:
        model = Transcription

    class Params:
        minutes = Decimal("1.00")

    user = factory.SubFactory(UserFactory)
    audio_file = None
    audio_filename = factory.LazyAttribute(
        lambda job: job.audio_file.original_filename if job.audio_file else "talk.wav"
    )
    audio_duration_seconds = factory.LazyAttribute(
        lambda job: job.audio_file.duration_seconds if job.audio_file else job.minutes * 60
    )
    billable_minutes = factory.SelfAttribute("minutes")
    engine = "local"
    model = "whisper-base"


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    razorpay_order_id = factory.Sequence(lambda n: f"order_test{n:010d}")
    receipt = factory.LazyFunction(lambda: uuid.uuid4().hex)
    amount = Decimal("100.00")
    amount_paise = factory.LazyAttribute(lambda order: int(order.amount * 100))


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    razorpay_payment_id = factory.Sequence(lambda n: f"pay_test{n:010d}")
    amount_paise = factory.SelfAttribute("order.amount_paise")
    status = Payment.Status.CAPTURED


class WebhookEventFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    event_id = factory.Sequence(lambda n: f"evt_test{n:010d}")
    event = "payment.captured"
    payload = factory.LazyAttribute(lambda event: {"event": event.event, "payload": {}})
