import uuid

from django.conf import settings
from django.db import models

from config.checks import CheckRun


class Order(models.Model):
    """A Razorpay order: what the user asked to pay. The amount credited is always this one."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        ATTEMPTED = "attempted", "Attempted"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    razorpay_order_id = models.CharField(max_length=64, unique=True)
    receipt = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount_paise = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="INR")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_created_idx")]

    def __str__(self) -> str:
        return self.razorpay_order_id


class Payment(models.Model):
    """One payment attempt on an order, as Razorpay reported it (verify, webhook or reconcile)."""

    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        CAPTURED = "captured", "Captured"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    razorpay_payment_id = models.CharField(max_length=64, unique=True)
    amount_paise = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    method = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Captured for an amount different from its order's: not credited, waiting for an admin. It
    # stays flagged for good (so nothing ever credits it on its own); an admin who has dealt with
    # it says so in `reviewed_at` and `review_note`.
    flagged = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "flagged"], name="payment_status_flagged_idx")]

    def __str__(self) -> str:
        return self.razorpay_payment_id


class Refund(models.Model):
    """Money paid back to the card of a captured payment, out of the user's wallet: started by an
    admin here, or on Razorpay's dashboard (then first seen in its webhooks). The wallet holds the
    amount while Razorpay works on it; `processed` takes it out as a `refund` ledger line, `failed`
    gives it back. States only move forward: pending, created, then processed or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (asked of Razorpay, no answer yet)"
        CREATED = "created", "Created"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        DASHBOARD = "dashboard", "Razorpay dashboard"

    # Also the refund's `receipt` and `notes.refund_id` at Razorpay, which its webhooks carry back.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    razorpay_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Paid back to the card.")
    # What the wallet could cover of it; the rest was already spent, and is flagged for an admin,
    # who records having dealt with it in `reviewed_at` and `review_note`.
    from_wallet = models.DecimalField(max_digits=12, decimal_places=2)
    flagged = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "flagged"], name="refund_status_flagged_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=models.Q(from_wallet__gte=0, from_wallet__lte=models.F("amount")),
                name="refund_from_wallet_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"₹{self.amount} refund of {self.payment_id} ({self.status})"

    @property
    def shortfall(self):
        return self.amount - self.from_wallet


class WebhookEvent(models.Model):
    """Each Razorpay webhook delivery we accepted, by its event id: a repeat is acknowledged and ignored."""

    event_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class ReconcileRun(CheckRun):
    """A run of the reconciliation with Razorpay (`manage.py reconcile_payments`, and beat every
    `PAYMENTS_RECONCILE_INTERVAL_SECONDS`). Not ok when anything differed: a payment credited only
    now, one flagged or of an unknown order, a refund we had missed."""

    since = models.DateTimeField()
    until = models.DateTimeField()
    payments_seen = models.PositiveIntegerField(default=0)
    credited = models.PositiveIntegerField(default=0, help_text="Captured at Razorpay, credited only by this run.")
    needs_attention = models.PositiveIntegerField(default=0, help_text="Flagged amounts and unknown orders.")
    refund_differences = models.PositiveIntegerField(default=0)

    class Meta(CheckRun.Meta):
        verbose_name = "reconciliation with Razorpay"
        verbose_name_plural = "reconciliations with Razorpay"
