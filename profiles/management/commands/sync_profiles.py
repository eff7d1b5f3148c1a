from __future__ import annotations

from django.core.management.base import BaseCommand

from profiles.models import Profile
from profiles.services import profile_push_to_cognito


class Command(BaseCommand):
    help = (
        "Push to Cognito the profiles whose name or college it has not taken yet (admin API; never the role)."
    )

    def handle(self, *args, **options) -> None:
        pending = Profile.objects.filter(sync_pending=True).select_related("user")
        done = failed = 0
        for profile in pending.iterator():
            if profile_push_to_cognito(profile=profile):
                done += 1
            else:
                failed += 1
                self.stderr.write(f"still pending: @{profile.handle}: {profile.sync_error}")
        self.stdout.write(f"synced {done}, still pending {failed}")
        if failed:
            raise SystemExit(1)
