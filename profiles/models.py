from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper

HANDLE_RE = r"^[a-z0-9](?:[a-z0-9_-]{1,28}[a-z0-9])$"
# Handles that would shadow a page of this site, or pass for its staff.
RESERVED_HANDLES = frozenset(
    {
        "admin", "administrator", "api", "me", "people", "u", "accounts", "oidc", "static", "media",
        "root", "staff", "support", "help", "about", "login", "logout", "signin", "signout", "signup",
        "settings", "security", "system", "null", "none", "undefined", "www", "mail", "profile", "profiles",
    }
)  # fmt: skip


class Profile(models.Model):
    """The full profile of a user, in Postgres; Cognito keeps only identity attributes."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: anyone"
        MEMBERS = "members", "Members: signed-in users"
        PRIVATE = "private", "Private: only me"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # Mirrors Cognito's `name` and `custom:college`; pushed there after a local save.
    display_name = models.CharField("display name", max_length=100)
    handle = models.CharField(
        max_length=30,
        unique=True,
        validators=[RegexValidator(HANDLE_RE, "3–30 lowercase letters, digits, - or _, not at either end.")],
        help_text="Your address on this site: /u/<handle>/",
    )
    college = models.CharField(max_length=100, blank=True)
    # Mirrors `custom:role`, which only administrators may change.
    role = models.CharField(max_length=64, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    location = models.CharField(max_length=100, blank=True)
    website = models.URLField(max_length=200, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS)
    # The user's identity-pool identity (`<region>:<uuid>`), from GetId at first need: the
    # per-user S3 prefix protected/<identity_id>/ that the IAM role policy grants them.
    identity_id = models.CharField(max_length=64, blank=True, editable=False)
    # Stem of the current avatar's S3 keys (protected/<identity_id>/avatars/<random>), to which
    # "-512.webp" and "-128.webp" are appended; empty when there is none.
    avatar_key = models.CharField(max_length=200, blank=True, editable=False)
    # Optimistic concurrency: an edit based on an older version is refused, never lost silently.
    version = models.PositiveIntegerField(default=1)
    # Set when Cognito could not take the latest name/college; retried until it does.
    sync_pending = models.BooleanField(default=False)
    sync_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by a moderator (profiles.moderation): a hidden profile is gone from the directory and its
    # public page for everyone but its owner (who sees why) and moderators.
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_reason = models.CharField(max_length=500, blank=True, editable=False)
    # When a moderator last acted on this profile: /me/ reads the log only for profiles that have one.
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            # Directory search: Django's icontains is UPPER(col) LIKE UPPER('%term%'); trigram
            # indexes on the same expressions serve it for any substring.
            GinIndex(OpClass(Upper("display_name"), name="gin_trgm_ops"), name="profile_name_trgm"),
            GinIndex(OpClass(Upper("handle"), name="gin_trgm_ops"), name="profile_handle_trgm"),
            GinIndex(OpClass(Upper("college"), name="gin_trgm_ops"), name="profile_college_trgm"),
            models.Index(Lower("display_name"), "id", name="profile_name_order"),
            models.Index(
                fields=["sync_pending"], name="profile_sync_pending", condition=models.Q(sync_pending=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} (@{self.handle})"


class Moderation(models.Model):
    """One moderator action on a profile: who, whom, what, when and why (kept, never edited)."""

    class Action(models.TextChoices):
        REMOVE_AVATAR = "remove_avatar", "Picture removed"
        HIDE = "hide", "Profile hidden"
        UNHIDE = "unhide", "Profile shown again"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="moderations")
    # The moderator; the row outlives their account (SET_NULL), their e-mail and role stay in it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="moderations_made"
    )
    actor_email = models.EmailField("moderator's e-mail")
    actor_role = models.CharField("moderator's role", max_length=64)
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = models.CharField(max_length=500)
    # For a removed picture: the key stem it had (the objects are deleted).
    avatar_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["profile", "-created_at"], name="moderation_profile_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.profile_id} by {self.actor_email}"
