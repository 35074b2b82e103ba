"""The payments app's part of a user's data (`accounts.signals.user_exporting`). Orders and payments
stay when the account is deleted: they are the records of money received."""

from typing import Any

from accounts.models import User
from payments.models import Order


def export(sender: type[User], *, user: User, **kwargs: Any) -> tuple[str, object]:
    orders = Order.objects.filter(user=user).prefetch_related("payments").order_by("-created_at")
    return "payments", [
        {
            "order_id": order.razorpay_order_id,
            "amount": str(order.amount),
            "currency": order.currency,
            "status": order.status,
            "created_at": order.created_at.isoformat(),
            "payments": [
                {
                    "payment_id": payment.razorpay_payment_id,
                    "status": payment.status,
                    "method": payment.method,
                    "amount_paise": payment.amount_paise,
                    "created_at": payment.created_at.isoformat(),
                }
                for payment in order.payments.all()
            ],
        }
        for order in orders
    ]
