from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from project.integrations import cognito


class Command(BaseCommand):
    help = "Print a Cognito access token for a user (default: the local stack's demo user alice)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", default="alice@example.com")
        parser.add_argument("--password", default="Alice-pass-1")
        parser.add_argument("--id-token", action="store_true", help="print the ID token instead")

    def handle(self, *args, email: str, password: str, id_token: bool, **options) -> None:
        try:
            tokens = cognito.user_pool().password_sign_in(username=email, password=password)
        except cognito.CognitoError as exc:
            raise CommandError(f"Cognito refused the sign-in: {exc}") from exc
        self.stdout.write(tokens["IdToken"] if id_token else tokens["AccessToken"])
