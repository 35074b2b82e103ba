from django.contrib import admin
from django.http import HttpRequest

from accounts.authentication import signed_in_user
from config.admin import confirmed_action, money
from transcriptions.models import Transcription
from transcriptions.services import (
    transcription_refund,
    transcription_requeue,
    transcription_retry,
    transcription_stop,
)
from wallet.admin import can_write_ledger
from wallet.forms import RefundForm


@confirmed_action(
    description="Refund the selected transcriptions",
    permissions=["refund"],
    title="Refund",
    explanation="Give back the money and demo minutes these transcriptions cost. Each is refunded at most once.",
    form_class=RefundForm,
)
def refund_transcriptions(request: HttpRequest, transcription: Transcription, data: dict) -> str:
    """Give back what each completed transcription cost, once."""
    line = transcription_refund(transcription=transcription, reason=data["reason"], created_by=signed_in_user(request))
    return f"refunded ₹{line.amount} and {line.demo_minutes} demo minutes."


@confirmed_action(
    description="Retry selected failed transcriptions (a new job, paid from the user's wallet)",
    permissions=["change"],
    title="Retry",
    explanation="Each failed transcription is transcribed again as a new job, held and paid from its "
    "user's wallet like any request; the failed one stays as it was.",
)
def retry(request: HttpRequest, transcription: Transcription, data: dict) -> str:
    job = transcription_retry(transcription=transcription)
    return f"retried as {job.pk} ({job.status})."


@confirmed_action(
    description="Queue stuck transcriptions again",
    permissions=["change"],
    title="Queue again",
    explanation="Each pending or processing transcription goes to the workers again now, as the reaper "
    "would at its deadline; its hold stays, nothing is charged twice.",
)
def requeue(request: HttpRequest, transcription: Transcription, data: dict) -> str:
    job = transcription_requeue(transcription=transcription)
    return f"queued again ({job.requeues} time(s) now)."


@confirmed_action(
    description="Stop stuck transcriptions (failed, nothing charged)",
    permissions=["change"],
    title="Stop",
    explanation="Each pending or processing transcription fails now and its hold is released: nothing "
    "is charged. A worker still running it finds it failed and its result is dropped.",
)
def stop(request: HttpRequest, transcription: Transcription, data: dict) -> str:
    transcription_stop(transcription=transcription)
    return "stopped: failed, its hold released."


@admin.register(Transcription)
class TranscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "audio_filename",
        "user",
        "status",
        "source",
        "task",
        "spoken_language",
        "language_probability",
        "engine",
        "error_code",
        "billable_minutes",
        money("amount"),
        "created_at",
    ]
    list_filter = [
        "status",
        "source",
        "task",
        "detected_language",
        "engine",
        "error_code",
        ("deleted_at", admin.EmptyFieldListFilter),
        "created_at",
    ]
    # Not the text: a substring search through every transcript reads the whole table, and
    # support looks jobs up by who, which file or which id.
    search_fields = ["=id", "audio_filename", "user__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # a filtered page would count the whole table too
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Transcription._meta.fields]
    actions = [retry, requeue, stop, refund_transcriptions]

    def has_add_permission(self, request) -> bool:
        return False

    def has_refund_permission(self, request) -> bool:
        return can_write_ledger(request)
