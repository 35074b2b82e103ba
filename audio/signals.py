"""What audio tells the apps above it, which listen instead of being called from here."""

from django.dispatch import Signal

# Sent with `audio_file` while its row is locked for deletion, inside that transaction. A receiver
# refuses the deletion by raising (a `DomainError` reaches the client); nothing is deleted then.
audio_file_deleting = Signal()
