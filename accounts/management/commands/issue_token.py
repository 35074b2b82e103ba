from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import user_create, user_issue_tokens


class Command(BaseCommand):
    help = "Print an access/refresh JWT pair for a user (for development and scripted tests)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--create", action="store_true", help="Create the user (and its wallet) if missing.")
        parser.add_argument("--name", default="", help="Name for a user created with --create.")
        parser.add_argument("--access-only", action="store_true", help="Print only the access token.")

    def handle(self, *args, email: str, create: bool, name: str, access_only: bool, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            if not create:
                raise CommandError(f"No user {email}; pass --create to create one.")
            user = user_create(email=email, name=name)
        if not user.is_active:
            raise CommandError(f"User {email} is inactive.")
        tokens = user_issue_tokens(user=user)
        if access_only:
            self.stdout.write(tokens["access"])
        else:
            self.stdout.write(f"access: {tokens['access']}\nrefresh: {tokens['refresh']}")
