from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_key_create, user_create
from config.exceptions import DomainError


class Command(BaseCommand):
    help = "Print a new API key of a user (`Authorization: Bearer <key>`); only its hash is kept."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="manage.py issue_api_key", help="What the key is for (1-100 characters).")
        parser.add_argument("--create", action="store_true", help="Create the user (and its wallet) if missing.")

    def handle(self, *args, email: str, name: str, create: bool, **options):
        if not 1 <= len(name.strip()) <= 100:
            raise CommandError("--name must have 1 to 100 characters.")
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            if not create:
                raise CommandError(f"No user {email}; pass --create to create one.")
            user = user_create(email=email)
        if not user.is_active:
            raise CommandError(f"User {email} is inactive.")
        try:
            issued = api_key_create(user=user, name=name.strip())
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(issued.key)
