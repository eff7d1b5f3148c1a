"""Account side effects: users from Cognito claims, tokens in the session, refresh, sign-out."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import IntegrityError, transaction

from accounts.models import DISABLED, MISSING
from accounts.selectors import user_linked_providers
from accounts.signals import user_signed_in
from project import text
from project.integrations import cognito

logger = logging.getLogger(__name__)

# Session keys. The access and ID token names are mozilla-django-oidc's own.
ACCESS_TOKEN = "oidc_access_token"
ID_TOKEN = "oidc_id_token"
REFRESH_TOKEN = "cognito_refresh_token"
EXPIRES_AT = "cognito_tokens_expire_at"
# When the user last proved presence at the hosted UI (the ID token's `auth_time`, kept by refreshes).
AUTH_TIME = "cognito_auth_time"
# How that sign-in was made, as its ID token says (sign_in_method): one of the three below.
SIGN_IN_METHOD = "cognito_sign_in_method"
TOKEN_KEYS = (ACCESS_TOKEN, ID_TOKEN, REFRESH_TOKEN, EXPIRES_AT, AUTH_TIME, SIGN_IN_METHOD)

# The user pool's own sign-in (password, then the authenticator code if the user has one on).
SIGNED_IN_WITH_PASSWORD = "password"
# Through an external provider, into the account that provider made (`Google_…`: no password).
SIGNED_IN_WITH_OWN_PROVIDER = "provider"
# Through an external provider linked to a password account: Cognito asks no second factor then.
SIGNED_IN_WITH_LINKED_PROVIDER = "linked-provider"


# --- Users -----------------------------------------------------------------------------------


def _email_verified(claims: dict[str, Any]) -> bool:
    """The ID token says a boolean; GetUser's attributes say "true"/"false"."""
    verified = claims.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def _groups_from_claims(claims: dict[str, Any]) -> list[str]:
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        return []
    return sorted({g for g in groups if isinstance(g, str) and 0 < len(g) <= 150})


def user_create_from_claims(*, claims: dict[str, Any], access_token: str | None = None):
    """The local user for a Cognito identity seen for the first time.

    Two first requests of one person can race (parallel API calls with a new token): both saw no
    user, the unique sub lets one insert through, and the other takes that row rather than a 500.
    """
    return user_get_or_create_from_claims(claims=claims, access_token=access_token)[0]


def user_get_or_create_from_claims(*, claims: dict[str, Any], access_token: str | None = None):
    """(user, created): as user_create_from_claims, saying whether this call made the row (an
    operator's import) or found it made meanwhile (a sign-in, another import: the unique sub)."""
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction outlives the clash
            return _user_create(claims=claims, access_token=access_token), True
    except IntegrityError:
        user = get_user_model().objects.filter(cognito_sub=claims["sub"]).first()
        if user is None:  # a clash on something else than this person's row
            raise
        return user, False


def _user_create(*, claims: dict[str, Any], access_token: str | None):
    User = get_user_model()
    user = User(
        username=claims["sub"],  # the sub is unique and immutable; the email is neither
        cognito_sub=claims["sub"],
    )
    user.set_unusable_password()  # passwords live in Cognito only
    return user_update_from_claims(user=user, claims=claims, access_token=access_token)


@transaction.atomic
def user_update_from_claims(*, user, claims: dict[str, Any], access_token: str | None = None):
    """Refresh email, name, groups and staff status from verified claims (each sign-in)."""
    email = str(claims.get("email") or "")[:254]
    if _email_verified(claims):
        if email != user.email:  # a new verified address: any change that was waiting is done
            user.email, user.pending_email = email, ""
        # The same verified address: a change made on the account page, still waiting for its
        # code, stays pending (the pool keeps the old address until then).
    else:
        # Anyone can type any address into Cognito (UpdateUserAttributes): until it is verified
        # it is the user's wish, not a fact. Keep the last verified address as the e-mail.
        user.pending_email = "" if email == user.email else email
    # Cognito takes any characters in a name: the ones our pages refuse are dropped, not the sign-in.
    user.name = text.clean_name(str(claims.get("name") or ""), 255)
    user.cognito_username = str(claims.get("cognito:username") or claims.get("username") or "")[:128]
    groups = _groups_from_claims(claims)
    user.is_staff = settings.COGNITO_STAFF_GROUP in groups
    # Superuser only when a setting names a group for it; never from a claim alone.
    superuser_group = settings.COGNITO_SUPERUSER_GROUP
    user.is_superuser = bool(superuser_group) and superuser_group in groups
    user.save()
    # Django groups mirror the Cognito groups exactly: leaving a group in Cognito removes it here.
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    # Other apps take in what they keep of the claims (profiles: name, college, role).
    user_signed_in.send(sender=type(user), user=user, claims=claims, access_token=access_token)
    return user


def user_let_in_by_cognito(*, user) -> None:
    """Cognito has just signed this user in, so it has them, enabled: a local flag that said
    otherwise (missing from the pool, disabled there) is stale and goes. Saved with the claims."""
    user.pool_missing_since = None
    if not user.is_active and user.deactivated_as in (MISSING, DISABLED):
        user.is_active, user.deactivated_as = True, ""


# --- Linked identity providers -------------------------------------------------------------


class UnlinkRefused(Exception):
    """The provider is not linked, or unlinking it would leave no way to sign in."""


def user_unlink_provider(*, user, provider_name: str) -> None:
    """Unlink an external provider from the user's Cognito account (AdminDisableProviderForUser).

    Decided on the pool's current state, never on what a form says: only a linked, non-primary
    identity of a password account goes, so the user can always still sign in.
    """
    linked = next((p for p in user_linked_providers(user=user) if p.provider_name == provider_name), None)
    if linked is None or not linked.can_unlink:
        raise UnlinkRefused(provider_name)
    cognito.user_pool().admin_disable_provider_for_user(
        provider_name=linked.provider_name, provider_user_id=linked.provider_user_id
    )


# --- Tokens in the session -------------------------------------------------------------------


def sign_in_method(*, id_claims: dict[str, Any]) -> str:
    """How the person signed in, as the ID token says: an `identities` claim only for a sign-in
    through an external provider (reference §2); the account is that provider's own when its
    username is `<providerName>_<userId>` of one of them (reference-2 §1.4, compared ignoring case)."""
    identities = id_claims.get("identities")
    if not identities:
        return SIGNED_IN_WITH_PASSWORD
    username = str(id_claims.get("cognito:username") or "").lower()
    for entry in identities if isinstance(identities, list) else []:
        if (
            isinstance(entry, dict)
            and f"{entry.get('providerName')}_{entry.get('userId')}".lower() == username
        ):
            return SIGNED_IN_WITH_OWN_PROVIDER
    return SIGNED_IN_WITH_LINKED_PROVIDER


def session_values_for_tokens(*, tokens: dict[str, Any], id_claims: dict[str, Any]) -> dict[str, Any]:
    """What the session keeps of a token response (server-side only)."""
    values = {
        ACCESS_TOKEN: tokens["access_token"],
        ID_TOKEN: tokens["id_token"],
        EXPIRES_AT: cognito.token_expiry(tokens, id_claims),
        # A refresh keeps the sign-in's method as it keeps its auth_time (the same sign-in event).
        SIGN_IN_METHOD: sign_in_method(id_claims=id_claims),
    }
    if isinstance(id_claims.get("auth_time"), int):
        values[AUTH_TIME] = id_claims["auth_time"]
    # A refresh grant returns no new refresh token (unless rotation is on): keep the one we have.
    if tokens.get("refresh_token"):
        values[REFRESH_TOKEN] = tokens["refresh_token"]
    return values


def session_store_tokens(*, session: SessionBase, tokens: dict[str, Any], id_claims: dict[str, Any]) -> None:
    session.update(session_values_for_tokens(tokens=tokens, id_claims=id_claims))


def session_tokens_need_refresh(*, session: SessionBase) -> bool:
    expires_at = session.get(EXPIRES_AT)
    if expires_at is None or REFRESH_TOKEN not in session:
        return False
    return expires_at - time.time() < settings.COGNITO_REFRESH_MARGIN


class SessionEnded(Exception):
    """The refresh token no longer works: the user must sign in again."""


def session_refresh_tokens(*, session: SessionBase, user) -> None:
    """Renew the access and ID tokens with the refresh token; raise SessionEnded if refused.

    Cognito unreachable is not an ended session: the caller keeps the old tokens and retries.
    """
    refresh_token = session[REFRESH_TOKEN]
    try:
        tokens = cognito.user_pool().refresh(refresh_token)
    except cognito.TokenRejected as exc:
        raise SessionEnded(str(exc)) from exc
    try:
        claims = cognito.user_pool().verify_token(tokens.get("id_token", ""), token_use="id")
    except cognito.InvalidToken as exc:
        logger.warning("refreshed ID token refused: %s", exc)
        raise SessionEnded(str(exc)) from exc
    if claims["sub"] != user.cognito_sub:
        raise SessionEnded("refreshed tokens belong to another user")
    session_store_tokens(session=session, tokens=tokens, id_claims=claims)
    # Groups may have changed in Cognito since sign-in: mirror them now.
    user_update_from_claims(user=user, claims=claims)


def user_disabled_in_pool(*, user) -> bool:
    """After Cognito refused a refresh: was it because the user is disabled there? Then mirror it.

    The token endpoint only says `invalid_grant`; one admin read tells a disabled account (which
    gets its own page) from an ended session. Unknown (Cognito unreachable) counts as not disabled.
    """
    if not user.cognito_sub:
        return False
    try:
        state = cognito.user_pool().admin_get_user(username=user.cognito_username or user.cognito_sub)
    except cognito.CognitoError as exc:
        logger.info("could not tell whether user %s is disabled: %s", user.pk, exc)
        return False
    if state.get("Enabled", True):
        return False
    get_user_model().objects.filter(pk=user.pk).update(is_active=False, deactivated_as=DISABLED)
    return True


def sign_out(*, refresh_token: str | None) -> None:
    """Revoke the refresh token (and its access tokens) at Cognito; best effort."""
    if not refresh_token:
        return
    try:
        cognito.user_pool().revoke(refresh_token)
    except cognito.CognitoError as exc:
        # The local session is gone either way; the token dies with its own expiry.
        logger.warning("could not revoke the refresh token at sign-out: %s", exc)


# --- Sessions ended by an operator ------------------------------------------------------------

# Why a session ended, for the person whose browser still holds its cookie.
ENDED_DISABLED = "disabled"
ENDED_SIGNED_OUT = "signed_out"


def _ended_key(session_key: str) -> str:
    # A digest: the cache never holds a usable session key.
    return "accounts:ended:" + hashlib.sha256(session_key.encode()).hexdigest()


def session_mark_ended(*, session_key: str, reason: str) -> None:
    """Remember, for the cookie's lifetime, why this session is about to be ended."""
    cache.set(_ended_key(session_key), reason, settings.SESSION_COOKIE_AGE)


def session_end_reason(*, session: SessionBase, cookie: str | None) -> str | None:
    """Why this anonymous request's session ended, if an operator ended it; the session is flushed.

    Two cases: the session still names a user whose account is now disabled (the backend no
    longer signs them in), or the cookie names a session an operator deleted.
    """
    user_id = session.get(SESSION_KEY)
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id).only("is_active").first()
        session.flush()
        return ENDED_DISABLED if user is not None and not user.is_active else ENDED_SIGNED_OUT
    if cookie and session.session_key is None:
        key = _ended_key(cookie)
        reason = cache.get(key)
        if reason is not None:
            cache.delete(key)
        return reason
    return None
