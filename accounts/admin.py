from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import admin_views, operators
from accounts.models import OperatorAction, User
from project import text

# Refreshed from Cognito at every sign-in (claims and groups): editing them here would not last,
# and letting staff set them would let staff make themselves superusers. `is_active` mirrors the
# pool's Enabled: it changes only through Disable / Enable, which reach Cognito.
FROM_COGNITO = (
    "username",
    "email",
    "pending_email",
    "name",
    "cognito_sub",
    "cognito_username",
    "is_active",
    "is_staff",
    "is_superuser",
    "groups",
    "pool_seen_at",
    "pool_missing_since",
)


class InPoolFilter(admin.SimpleListFilter):
    title = "in the user pool"
    parameter_name = "in_pool"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("missing", "Missing (deleted there)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pool_missing_since__isnull=True)
        if self.value() == "missing":
            return queryset.filter(pool_missing_since__isnull=False)
        return queryset


def report(request: HttpRequest, outcomes: list[operators.Outcome]) -> None:
    """One message per failed user, one for those that succeeded: nothing goes unreported."""
    done = [o for o in outcomes if o.ok]
    if done:
        names = ", ".join(o.user for o in done)
        messages.success(
            request, f"Done for {len(done)}: {names}. {done[0].message if len(done) == 1 else ''}"
        )
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(request, f"{outcome.user}: {outcome.message}")


def _bulk(action_name: str, description: str):
    def run(modeladmin, request, queryset):
        outcomes = operators.users_bulk(
            operator=operators.operator_from_request(request),
            action_name=action_name,
            users=list(queryset.order_by("email", "pk")),
        )
        report(request, outcomes)

    run.__name__ = f"bulk_{action_name}"
    return admin.action(description=description, permissions=["operate"])(run)


@admin.register(User)
class CognitoUserAdmin(UserAdmin):
    # E-mail and sub side by side: two "Alice Example" accounts are told apart at a glance.
    list_display = ("shown_email", "name", "cognito_sub", "is_staff", "is_active", "in_pool", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", InPoolFilter, "groups")
    # Other apps add their inlines, filters and search fields (profiles/admin.py).
    search_fields = ("email", "name", "username", "cognito_sub")
    fieldsets = (
        (None, {"fields": ("username", "shown_email", "shown_pending_email", "name")}),
        (
            "Cognito",
            {"fields": ("cognito_sub", "cognito_username", "operator_console", "pool_missing_since")},
        ),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    actions = [
        _bulk("disable", "Disable in Cognito and sign out"),
        _bulk("enable", "Enable in Cognito"),
        _bulk("sign_out", "Sign out everywhere"),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = [*FROM_COGNITO, "shown_email", "shown_pending_email", "operator_console"]
        readonly += ["last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly.append("user_permissions")  # only superusers grant permissions
        return readonly

    # An address is kept as Cognito verified it, whatever its characters (it is where mail goes);
    # staff see the ones project.text refuses written out, never acting on the page (a bidi override).
    @admin.display(description="email address", ordering="email")
    def shown_email(self, obj: User) -> str:
        return text.shown(obj.email)

    @admin.display(description="pending email")
    def shown_pending_email(self, obj: User) -> str:
        return text.shown(obj.pending_email)

    @admin.display(description="in pool", boolean=True)
    def in_pool(self, obj: User) -> bool | None:
        if not obj.cognito_sub:
            return None
        return obj.pool_missing_since is None

    @admin.display(description="operator console")
    def operator_console(self, obj: User) -> str:
        if not obj.pk or not obj.cognito_sub:
            return "—"
        url = reverse("admin:accounts_user_cognito", args=[obj.pk])
        return format_html('<a href="{}">Cognito state and actions</a>', url)

    def has_change_permission(self, request, obj=None) -> bool:
        """Staff may not change a superuser's account (nor deactivate it)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Deleting happens on the operator page, in Cognito and here together, never here alone;
        only a local account (no Cognito identity, e.g. createsuperuser's) is deleted here, by a superuser."""
        return obj is not None and not obj.cognito_sub and request.user.is_superuser

    def has_operate_permission(self, request) -> bool:
        return request.user.has_perm(operators.OPERATE)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/cognito/", wrap(self.cognito_view), name="accounts_user_cognito"),
            path("invite/", wrap(self.invite_view), name="accounts_user_invite"),
            path("reconcile/", wrap(self.reconcile_view), name="accounts_user_reconcile"),
            path("never-signed-in/", wrap(self.pool_users_view), name="accounts_user_pool_users"),
            *super().get_urls(),
        ]

    def cognito_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_views.cognito_page(request, self, pk)

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        return admin_views.invite_page(request, self)

    def reconcile_view(self, request: HttpRequest) -> HttpResponse:
        return admin_views.reconcile_page(request, self)

    def pool_users_view(self, request: HttpRequest) -> HttpResponse:
        return admin_views.pool_users_page(request, self)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "operator_links": [
                (reverse("admin:accounts_user_invite"), "Invite a user"),
                (reverse("admin:accounts_user_reconcile"), "Reconcile with the pool"),
                (reverse("admin:accounts_user_pool_users"), "Pool users who never signed in"),
            ],
        }
        return super().changelist_view(request, extra_context)


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only, for every operator action (also refused and failed ones)."""

    list_display = (
        "at",
        "actor_email",
        "action",
        "detail",
        "target_email",
        "target_sub",
        "succeeded",
        "error",
    )
    list_filter = ("action", "succeeded")
    search_fields = ("actor_email", "target_email", "target_sub")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(operators.OPERATE)

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm(operators.OPERATE)
