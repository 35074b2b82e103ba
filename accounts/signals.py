"""What accounts tells the apps above it, which listen instead of being called from here."""

from django.dispatch import Signal

# Sent inside the transaction that created the user, with `user`: a receiver's writes commit or
# roll back with it (the wallet app creates the user's wallet this way).
user_created = Signal()

# Sent inside the transaction that erases a user's personal data (`user_erase`), with `user`: each
# receiver erases what its app holds of the user, or raises a `DomainError` to refuse, and then
# nothing is erased.
user_erasing = Signal()

# Sent to collect a user's data (`user_export`), with `user`: each receiver returns
# `(section name, JSON-ready data)` for what its app holds of the user.
user_exporting = Signal()
