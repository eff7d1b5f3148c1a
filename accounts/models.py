from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

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

    def __str__(self) -> str:
        # The name is cleaned at sign-in; the address is kept as verified (project.text.shown).
        return self.name or text.shown(self.email) or self.username

    def get_short_name(self) -> str:
        # The name is cleaned at sign-in; the address is kept as verified (project.text.shown).
        return self.name or text.shown(self.email) or self.username
