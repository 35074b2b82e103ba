from rest_framework import status

from config.exceptions import DomainError


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    default_detail = "Your wallet does not have enough balance or demo minutes for this."


class NothingToRefund(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "nothing_to_refund"
    default_detail = "This transcription was not charged, or has already been refunded."
