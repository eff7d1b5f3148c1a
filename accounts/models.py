from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from project import text


class User(AbstractUser):
    """A person who signs in through Cognito; keyed by the user pool's `sub`, never by email."""

    # Null only for local accounts made with createsuperuser (break-glass; no Cognito identity).
    cognito_sub = models.CharField(
        "Cognito sub", max_length=64, unique=True, null=True, blank=True, editable=False
    )
    cognito_username = models.CharField("Cognito username", max_length=128, blank=True, editable=False)
    name = models.CharField(max_length=255, blank=True)
    # An address the user set in Cognito but has not verified yet (`email_verified: false`).
    # `email` keeps the last verified one: only that is shown to others, listed or trusted.
    pending_email = models.EmailField("e-mail pending verification", blank=True, editable=False)
    # Reconciliation with the pool (accounts/reconcile.py): when a complete ListUsers pass last
    # saw this sub, and since when it has been missing from the pool (deleted there).
    pool_seen_at = models.DateTimeField("last seen in the user pool", null=True, blank=True, editable=False)
    pool_missing_since = models.DateTimeField(
        "missing from the user pool since", null=True, blank=True, editable=False
    )

    class Meta(AbstractUser.Meta):
        permissions = [
            ("operate_user", "Can disable, enable, sign out and reset users in Cognito"),
            ("manage_user", "Can set roles and groups, invite and delete users in Cognito"),
        ]

    def __str__(self) -> str:
        # The name is cleaned at sign-in; the address is kept as verified (project.text.shown).
        return self.name or text.shown(self.email) or self.username

    def get_short_name(self) -> str:
        # The name is cleaned at sign-in; the address is kept as verified (project.text.shown).
        return self.name or text.shown(self.email) or self.username


class OperatorAction(models.Model):
    """The audit trail of the operator console: who did what to whom in Cognito, and how it went.

    Names are copied, not only linked: the trail outlives deleted accounts, and it names the
    operator by e-mail (what a person recognises), not by a database id or a sub.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField("operator", max_length=254)
    target = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="operator_actions"
    )
    target_email = models.CharField("user", max_length=254, blank=True)
    target_sub = models.CharField("user's sub", max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=32)
    detail = models.CharField(max_length=255, blank=True)
    succeeded = models.BooleanField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        outcome = "done" if self.succeeded else "failed"
        return f"{self.actor_email}: {self.action} {self.target_email or self.target_sub} ({outcome})"


class UserSession(models.Model):
    """An index of who is signed in where: Django's session table has no user column.

    One row per signed-in Django session, deleted with it (ORM cascade: sign-out, cycled keys,
    `clearsessions`, and `accounts.sessions.user_sessions_end`), so "this user's sessions" is one
    indexed query however many sessions the site holds. Sessions are the database backend's
    (settings.SESSION_ENGINE), which this index depends on.
    """

    session = models.OneToOneField(
        "sessions.Session", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="signed_in_sessions")
    created = models.DateTimeField("signed in at", default=timezone.now)
    last_seen = models.DateTimeField()
    user_agent = models.CharField(max_length=512, blank=True)
    # Approximate on purpose (IPv4 /24, IPv6 /48): enough to recognise a place, not to track a person.
    ip_prefix = models.CharField("approximate IP address", max_length=64, blank=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"session of {self.user_id} since {self.created:%Y-%m-%d %H:%M}"

    @property
    def session_key(self) -> str:
        return self.session_id
