"""Identity-pool credentials for the request: the signed-in user's own, or the guest identity.

A user's credentials come from their ID token (GetId once, the identity id then lives on the
profile; GetCredentialsForIdentity each hour) and are kept in the session until
IDENTITY_CREDENTIALS_MARGIN seconds before they expire, so page views and uploads within the hour
make no identity-pool call. Anonymous visitors and the JSON API (which holds access tokens, not ID
tokens) share one guest identity per process (see guest_credentials): a guest identity per
browser session would let any cookieless client make the app create identities, sessions and
identity-pool calls at will, for no gain — every guest has the same read-only role.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from profiles.models import Profile
from project.integrations import identity_pool
from project.integrations.identity_pool import Credentials

logger = logging.getLogger(__name__)

SESSION_CREDENTIALS = "identity_credentials"
GUEST = "guest"
# mozilla-django-oidc's session keys (OIDC_STORE_ACCESS_TOKEN, OIDC_STORE_ID_TOKEN).
ACCESS_TOKEN = "oidc_access_token"  # noqa: S105 - a session key
ID_TOKEN = "oidc_id_token"  # noqa: S105 - a session key


class CredentialsUnavailable(Exception):
    """No credentials can be had now; the message is for the user."""


def _fresh(credentials: Credentials) -> bool:
    return credentials.expiration - time.time() > settings.IDENTITY_CREDENTIALS_MARGIN


def _token_tag(id_token: str) -> str:
    """Which ID token credentials were issued for (not the token itself: a digest)."""
    return hashlib.sha256(id_token.encode()).hexdigest()[:32]


def _cached(request: HttpRequest, owner: Any) -> Credentials | None:
    """The session's credentials if they belong to `owner` (a user pk) and are fresh.

    They must also come from the session's current ID token: the identity pool's role mapping
    chose their IAM role from that token's claims (custom:role), so a new token (a sign-in, a
    refresh after a role change) gets credentials of its own.
    """
    data = request.session.get(SESSION_CREDENTIALS)
    if not isinstance(data, dict) or data.get("owner") != owner:
        return None
    id_token = request.session.get(ID_TOKEN)
    if not isinstance(id_token, str) or data.get("token") != _token_tag(id_token):
        return None
    try:
        credentials = Credentials.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None
    return credentials if _fresh(credentials) else None


def _remember(request: HttpRequest, owner: Any, credentials: Credentials, id_token: str) -> None:
    request.session[SESSION_CREDENTIALS] = {
        **credentials.as_dict(),
        "owner": owner,
        "token": _token_tag(id_token),
    }


def _id_token(request: HttpRequest) -> str:
    id_token = request.session.get(ID_TOKEN)
    if not id_token:
        raise CredentialsUnavailable(
            "Please sign in again (with the sign-in service) to manage your picture."
        )
    return id_token


def user_credentials(*, request: HttpRequest, profile: Profile | None = None) -> Credentials:
    """The signed-in user's identity credentials (cached; renewed transparently)."""
    user = request.user
    cached = _cached(request, user.pk)
    if cached is not None:
        return cached
    id_token = _id_token(request)
    if profile is None:
        profile = Profile.objects.only("identity_id").get(user=user)
    try:
        credentials = _user_credentials(profile=profile, id_token=id_token)
    except identity_pool.LoginRefused as exc:
        logger.info("identity pool refused user %s: %s", user.pk, exc)
        raise CredentialsUnavailable(
            "The sign-in service refused your session. Please sign in again."
        ) from exc
    except identity_pool.IdentityPoolUnavailable as exc:
        logger.warning("identity pool unavailable: %s", exc)
        raise CredentialsUnavailable("The storage service is unavailable. Please try again shortly.") from exc
    _remember(request, user.pk, credentials, id_token)
    return credentials


def _user_credentials(*, profile: Profile, id_token: str) -> Credentials:
    identity_id = profile.identity_id
    if identity_id:
        try:
            return identity_pool.identity_pool().get_credentials(identity_id=identity_id, id_token=id_token)
        except identity_pool.LoginRefused:
            # A stored id the pool no longer knows (pool re-created): ask for it again below.
            # An expired or foreign token fails again at GetId, so nothing is masked.
            logger.info("stored identity id of profile %s refused; asking GetId again", profile.pk)
    identity_id = identity_pool.identity_pool().get_id(id_token=id_token)
    if identity_id != profile.identity_id:
        Profile.objects.filter(pk=profile.pk).update(identity_id=identity_id)
        profile.identity_id = identity_id
    return identity_pool.identity_pool().get_credentials(identity_id=identity_id, id_token=id_token)


def viewer_owner(request: HttpRequest) -> Any:
    """Whose credentials sign what this viewer sees: their own, or a guest's."""
    user = request.user
    if user.is_authenticated and request.session.get(ID_TOKEN):
        return user.pk
    # Anonymous, or a local account with no Cognito identity (createsuperuser): a guest.
    return GUEST


def viewer_credentials(*, request: HttpRequest) -> Credentials | None:
    """Credentials to presign what this viewer sees; None when there are none (placeholders shown)."""
    try:
        if viewer_owner(request) == GUEST:
            return guest_credentials()
        return user_credentials(request=request)
    except (CredentialsUnavailable, ImproperlyConfigured) as exc:
        logger.info("no viewer credentials: %s", exc)
        return None


def guest_credentials() -> Credentials | None:
    """The process-wide guest identity: for anonymous visitors and the JSON API.

    The guest role may read exactly what every visitor may read (protected/ and public/), so
    its URLs reach nothing a signed-out visitor's could not, and the server needs no AWS key of
    its own. Renewed shortly before it expires (same identity id, new credentials).
    """
    try:
        return identity_pool.identity_pool().guest_credentials(margin=settings.IDENTITY_CREDENTIALS_MARGIN)
    except (identity_pool.IdentityPoolError, ImproperlyConfigured) as exc:
        logger.warning("no server guest credentials: %s", exc)
        return None
