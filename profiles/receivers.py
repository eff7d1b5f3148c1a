"""Profiles' reactions to what the sign-in side announces (connected in ProfilesConfig.ready)."""

from __future__ import annotations

from typing import Any

from profiles import services


def profile_take_claims(
    sender: Any, *, user: Any, claims: dict[str, Any], access_token: str | None = None, **kwargs: Any
) -> None:
    """A user signed in: create the profile or take in what changed in Cognito.

    With a fresh access token (a sign-in), an edit Cognito did not take yet is pushed again now.
    """
    profile = services.profile_sync_from_claims(user=user, claims=claims)
    if access_token and profile.sync_pending:
        services.profile_push_to_cognito(profile=profile, access_token=access_token)
