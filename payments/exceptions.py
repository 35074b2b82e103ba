from rest_framework import status

from config.exceptions import DomainError


class PaymentsNotConfigured(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payments_not_configured"
    default_detail = "Payments are not configured on this server."


class PaymentProviderUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payment_provider_unavailable"
    default_detail = "The payment provider is not answering. Please try again in a minute."
    provider = "razorpay"


class PaymentRejectedByProvider(DomainError):
    code = "payment_rejected"
    default_detail = "The payment provider refused this request."


class InvalidPaymentSignature(DomainError):
    code = "invalid_signature"
    default_detail = "The payment signature is not valid."


class UnknownOrder(DomainError):
    code = "unknown_order"
    default_detail = "No order of yours has this id."


class PaymentUnderReview(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "payment_under_review"
    default_detail = "This payment's amount does not match its order; it is held for review by our team."


class NothingToReview(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "nothing_to_review"
    default_detail = "It is not flagged, or an admin has already dealt with it."


class InvalidWebhookPayload(DomainError):
    code = "invalid_payload"
    default_detail = "The webhook body is not a Razorpay event."


class RefundNotAllowed(DomainError):
    code = "refund_not_allowed"
    default_detail = "This refund is not allowed."
