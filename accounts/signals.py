"""What accounts tells the apps above it, which listen instead of being called from here."""

from django.dispatch import Signal

# Sent inside the transaction that created the user, with `user`: a receiver's writes commit or
# roll back with it (the wallet app creates the user's wallet this way).
user_created = Signal()
