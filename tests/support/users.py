"""Users for the app's tests: fresh users in the local pool (over its admin API) and local members."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth import get_user_model

from profiles.models import Profile
from profiles.services import profile_sync_from_claims


class PoolUser(NamedTuple):
    """A confirmed user of the local pool (unpacks as email, password, sub)."""

    email: str
    password: str
    sub: str


class PoolUsers:
    """new_user(groups=(), name=..., role=None) → a fresh confirmed PoolUser; deleted by cleanup()."""

    def __init__(self, idp: Any) -> None:
        self.idp = idp
        self.made: list[str] = []

    def __call__(
        self, groups: tuple[str, ...] = (), name: str = "Test Person", role: str | None = None
    ) -> PoolUser:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        password = "Test-pass-1"
        pool = settings.COGNITO_USER_POOL_ID
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ]
        if role is not None:  # custom:role, as an administrator sets it
            attributes.append({"Name": "custom:role", "Value": role})
        self.idp.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=attributes,
            MessageAction="SUPPRESS",
        )
        self.idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        for group in groups:
            self.idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
        user = self.idp.admin_get_user(UserPoolId=pool, Username=email)
        sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        self.made.append(email)
        return PoolUser(email, password, sub)

    def cleanup(self) -> None:
        """Delete the users made; a test may have deleted one already (the stack is wiped per run anyway)."""
        for email in self.made:
            with contextlib.suppress(ClientError, BotoCoreError):
                self.idp.admin_delete_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)


_seq = itertools.count(1)


def make_member(
    *, name: str = "Member", visibility: str = Profile.Visibility.MEMBERS, staff: bool = False, **fields: Any
) -> tuple[Any, Profile]:
    """A local user with a profile, as after a first sign-in (no Cognito tokens)."""
    n = next(_seq)
    user = get_user_model().objects.create_user(
        username=f"member-{n}", email=f"member-{n}@example.com", name=name, is_staff=staff
    )
    profile = profile_sync_from_claims(user=user, claims={"name": name, "email": user.email})
    Profile.objects.filter(pk=profile.pk).update(visibility=visibility, **fields)
    profile.refresh_from_db()
    return user, profile


def outbox(recipient: str) -> list[dict[str, Any]]:
    """What the local pool 'e-mailed' to `recipient`, newest first (its /_outbox.json)."""
    import requests

    messages = requests.get(f"{settings.COGNITO_DOMAIN}/_outbox.json", timeout=5).json()
    return [m for m in messages if m["recipient"] == recipient]


def pool_user(idp: Any, username: str) -> dict[str, Any] | None:
    """The pool's AdminGetUser answer (attributes as a dict, plus `Groups`), None if it has no such user."""
    pool = settings.COGNITO_USER_POOL_ID
    try:
        answer = idp.admin_get_user(UserPoolId=pool, Username=username)
    except idp.exceptions.UserNotFoundException:
        return None
    answer["Attributes"] = {a["Name"]: a["Value"] for a in answer.pop("UserAttributes", [])}
    groups = idp.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
    answer["Groups"] = sorted(g["GroupName"] for g in groups)
    return answer
