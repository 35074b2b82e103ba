import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round

from config.checks import CheckRun

ZERO = Decimal("0.00")


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, **kwargs)


def _minutes(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=10, decimal_places=2, default=ZERO, **kwargs)


class Wallet(models.Model):
    """A user's money and demo minutes. Changed only by `wallet.services`, under a row lock."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    balance = _money()
    held = _money()
    demo_minutes_remaining = _minutes()
    demo_minutes_held = _minutes()
    total_credited = _money()
    total_spent = _money()
    total_refunded = _money(help_text="Paid back to the card through Razorpay refunds.")
    total_minutes_transcribed = _minutes()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_gte_0"),
            models.CheckConstraint(condition=Q(held__gte=0), name="wallet_held_gte_0"),
            models.CheckConstraint(condition=Q(held__lte=F("balance")), name="wallet_held_lte_balance"),
            models.CheckConstraint(condition=Q(demo_minutes_remaining__gte=0), name="wallet_demo_gte_0"),
            models.CheckConstraint(condition=Q(demo_minutes_held__gte=0), name="wallet_demo_held_gte_0"),
            models.CheckConstraint(
                condition=Q(demo_minutes_held__lte=F("demo_minutes_remaining")), name="wallet_demo_held_lte_demo"
            ),
            models.CheckConstraint(condition=Q(total_credited__gte=0), name="wallet_total_credited_gte_0"),
            models.CheckConstraint(condition=Q(total_spent__gte=0), name="wallet_total_spent_gte_0"),
            models.CheckConstraint(condition=Q(total_refunded__gte=0), name="wallet_total_refunded_gte_0"),
            models.CheckConstraint(condition=Q(total_minutes_transcribed__gte=0), name="wallet_total_minutes_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.user_id}"

    @property
    def available(self) -> Decimal:
        return self.balance - self.held

    @property
    def demo_minutes_available(self) -> Decimal:
        return self.demo_minutes_remaining - self.demo_minutes_held


class SubjectType(models.TextChoices):
    """What the wallet holds money for; the app that owns each kind names its objects."""

    TRANSCRIPTION = "transcription", "Transcription"
    PAYMENT_REFUND = "payment_refund", "Payment refund"


@dataclass(frozen=True)
class Subject:
    """What a hold or a ledger line is for: a type and the owner's id for it. The wallet keeps
    the name and never looks inside, so it depends on no app above it."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Hold(models.Model):
    """Money (and demo minutes) reserved for one subject: a transcription's cost, captured when the
    work is done and released when it fails; or a payment refund, captured when Razorpay has paid
    it back and released when the refund fails."""

    class Status(models.TextChoices):
        HELD = "held", "Held"
        CAPTURED = "captured", "Captured"
        RELEASED = "released", "Released"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    subject_type = models.CharField(max_length=32, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64)
    billable_minutes = _minutes()
    demo_minutes = _minutes()
    amount = _money()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["wallet", "status"], name="hold_wallet_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id"], name="hold_subject_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="hold_amount_gte_0"),
            models.CheckConstraint(condition=Q(demo_minutes__gte=0), name="hold_demo_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.amount} for {self.subject}"

    @property
    def subject(self) -> Subject:
        return Subject(self.subject_type, self.subject_id)


class TransactionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Transactions are immutable.")

    def delete(self):
        raise TypeError("Transactions are immutable.")


class Transaction(models.Model):
    """One immutable line of a wallet's ledger. Its amounts are signed changes: the sum of a
    wallet's `amount`s is its balance, the sum of its `demo_minutes` its demo minutes."""

    class Type(models.TextChoices):
        CREDIT = "credit", "Credit"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    # The id the API shows, a UUID like every other; the integer key stays inside (index order).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions")
    type = models.CharField(max_length=16, choices=Type.choices)
    amount = _money()
    demo_minutes = _minutes()
    minutes = _minutes(help_text="Billable minutes of the transcription this line pays or refunds.")
    balance_before = _money()
    balance_after = _money()
    demo_minutes_before = _minutes()
    demo_minutes_after = _minutes()
    # What caused this line, unique: `credit:<payment id>`, `debit:<transcription id>`, ...
    # A retried or raced operation hits this constraint instead of writing a second line.
    reference = models.CharField(max_length=100, unique=True)
    payment_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # What the line pays for or gives back (a debit's or refund's transcription); blank otherwise.
    subject_type = models.CharField(max_length=32, choices=SubjectType.choices, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["wallet", "-created_at", "-id"], name="tx_wallet_created_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="tx_subject_idx"),
            # The operations dashboard sums a month of lines by day and kind from the index alone.
            models.Index(
                fields=["created_at", "type", "subject_type", "amount", "minutes", "demo_minutes"],
                name="tx_created_figures_idx",
            ),
        ]
        constraints = [
            # Rounded because SQLite keeps decimals as binary floats, where 10 - 2.28 != 7.72;
            # on MySQL the sum is exact and the rounding changes nothing.
            models.CheckConstraint(
                condition=Q(balance_after=Round(F("balance_before") + F("amount"), 2)), name="tx_balance_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(demo_minutes_after=Round(F("demo_minutes_before") + F("demo_minutes"), 2)),
                name="tx_demo_minutes_add_up",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="tx_balance_after_gte_0"),
            models.CheckConstraint(condition=Q(demo_minutes_after__gte=0), name="tx_demo_after_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} ({self.reference})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Transactions are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Transactions are immutable.")


class AuditRun(CheckRun):
    """A run of the ledger audit (`manage.py audit_ledger`, and beat every `LEDGER_AUDIT_INTERVAL_SECONDS`)."""

    wallets_checked = models.PositiveIntegerField(default=0)
    lines_replayed = models.PositiveBigIntegerField(default=0)
    mismatches = models.PositiveIntegerField(default=0)

    class Meta(CheckRun.Meta):
        verbose_name = "ledger audit"
