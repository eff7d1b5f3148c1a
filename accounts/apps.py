from django.apps import AppConfig
from django.db.models.signals import post_migrate


def grant_staff_group_operator_permissions(sender, **kwargs) -> None:
    """Staff (the Cognito staff group) use the operator console; managing roles, groups,
    invitations and deletions also needs the admin role in their token (accounts.operators)."""
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission

    permissions = Permission.objects.filter(
        codename__in=["operate_user", "manage_user"], content_type__app_label="accounts"
    )
    group, _ = Group.objects.get_or_create(name=settings.COGNITO_STAFF_GROUP)
    group.permissions.add(*permissions)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.sessions import session_index_on_login, session_values_on_stale
        from accounts.signals import user_session_values_stale

        user_logged_in.connect(session_index_on_login, dispatch_uid="accounts.session_index")
        user_session_values_stale.connect(session_values_on_stale, dispatch_uid="accounts.session_values")
        post_migrate.connect(grant_staff_group_operator_permissions, sender=self)
