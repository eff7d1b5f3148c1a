from django.apps import AppConfig
from django.db.models.signals import post_migrate


def grant_staff_group_permissions(sender, **kwargs) -> None:
    """Members of the Cognito staff group manage users and profiles in the admin (not superusers)."""
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission

    codenames = [
        "view_user",
        "change_user",
        "view_profile",
        "change_profile",
        "view_group",
        "view_moderation",
    ]
    permissions = Permission.objects.filter(
        codename__in=codenames, content_type__app_label__in=["accounts", "profiles", "auth"]
    )
    group, _ = Group.objects.get_or_create(name=settings.COGNITO_STAFF_GROUP)
    group.permissions.add(*permissions)


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        from accounts.signals import user_signed_in
        from profiles.receivers import profile_take_claims

        post_migrate.connect(grant_staff_group_permissions, sender=self)
        user_signed_in.connect(profile_take_claims, dispatch_uid="profiles.take_claims")
