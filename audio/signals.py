"""What audio tells the apps above it, which listen instead of being called from here."""

from django.dispatch import Signal

# Sent with `audio_file` while its row is locked for deletion, inside that transaction. A receiver
# refuses the deletion by raising (a `DomainError` reaches the client); nothing is deleted then.
audio_file_deleting = Signal()

# Sent with `cutoff` by the retention purge (`audio_purge_expired`), after the uploads older than it
# are gone: the apps above delete what they made from audio (redacted copies) before `cutoff` too.
audio_expiring = Signal()
