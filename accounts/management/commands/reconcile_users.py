from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import reconcile
from project.integrations import cognito


class Command(BaseCommand):
    help = (
        "Page through the user pool (ListUsers): list pool users who never signed in to the app, "
        "mark local users whose sub is no longer in the pool, and mirror the pool's Enabled (disabled "
        "there: deactivated and signed out here). Safe to run repeatedly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--quiet-unseen",
            action="store_true",
            help="count the pool users never seen here, do not list them (each listed one is a line: "
            "e-mail, sub, UserStatus, enabled/disabled, created; tab-separated)",
        )

    def handle(self, *args, quiet_unseen: bool, **options) -> None:
        def show(user: reconcile.PoolUser) -> None:
            state = "enabled" if user.enabled else "disabled"
            created = user.created.isoformat() if hasattr(user.created, "isoformat") else "-"
            self.stdout.write(
                f"never signed in: {user.email}\t{user.sub}\t{user.status}\t{state}\tcreated {created}"
            )

        try:
            result = reconcile.users_reconcile(keep_unseen=0, on_unseen=None if quiet_unseen else show)
        except cognito.CognitoError as exc:
            raise CommandError(
                f"The pool could not be read to the end, no one was marked missing: {exc}"
            ) from exc
        except reconcile.ReconcileRunning as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.pool_users} users in the pool ({result.pages} pages); "
            f"{result.never_signed_in} never signed in to the app; "
            f"{result.newly_missing} local users newly marked missing from the pool "
            f"({result.missing} missing in all, {result.back_in_pool} back in the pool); "
            f"{result.newly_disabled} deactivated as disabled in the pool, "
            f"{result.enabled_again} active again as enabled there"
        )
