"""The account page's side effects: MFA, password, sessions, e-mail, deletion, export.

Every call to Cognito here is a self-service call with the signed-in user's own access token
(scope `aws.cognito.signin.user.admin`), so one user can only ever act on their own account.
Cognito's error types become sentences for the person in front of the screen (ActionFailed);
its own messages only reach the logs.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest

from accounts import services, sessions
from accounts.signals import AccountDeletionBlocked, user_data_requested, user_deleting
from project.integrations import cognito

logger = logging.getLogger(__name__)

# Session keys.
STATE = "account_state"  # GetUser's answer, as AccountState.as_dict(), with when it was read
TOTP_SETUP = "account_totp_setup"  # {"id", "secret"}: the set-up in progress (server-side only)
TOTP_VERIFIED = "account_totp_verified"  # verified at Cognito, not switched on yet

# What a failed call means to the user, by Cognito error type; `None` key = anything else.
SESSION_ENDED = "Your session with the sign-in service has ended. Please sign out and sign in again."
UNAVAILABLE = "The sign-in service cannot be reached just now. Nothing was changed; please try again."
TOO_MANY = "Too many attempts. Please wait a few minutes, then try again."


class ActionFailed(Exception):
    """An account action did not happen; `message` is for the user, `field` the form field it concerns."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _token_ended(exc: cognito.CognitoRefused) -> bool:
    """NotAuthorizedException about the token itself (revoked, expired, user gone), not a password."""
    return exc.code == "NotAuthorizedException" and (
        "token" in exc.message.lower() or "does not exist" in exc.message.lower()
    )


def _call(operation: str, *, sentences: dict[str, tuple[str, str | None]], **kwargs: Any) -> dict[str, Any]:
    """A self-service call; every failure becomes ActionFailed with a sentence (and field)."""
    try:
        return cognito.user_pool().account_call(operation, **kwargs)
    except cognito.CognitoUnavailable as exc:
        logger.warning("%s failed, Cognito unavailable: %s", operation, exc)
        raise ActionFailed(UNAVAILABLE) from exc
    except cognito.CognitoRefused as exc:
        logger.info("%s refused: %s", operation, exc)
        if _token_ended(exc):
            raise ActionFailed(SESSION_ENDED) from exc
        if exc.code not in sentences and exc.code in (
            "LimitExceededException",
            "TooManyRequestsException",
            "TooManyFailedAttemptsException",
        ):
            raise ActionFailed(TOO_MANY) from exc
        message, field = sentences.get(exc.code) or sentences.get(
            "", ("That did not work. Please try again.", None)
        )
        raise ActionFailed(message, field) from exc


def _access_token(session: SessionBase) -> str:
    token = session.get(services.ACCESS_TOKEN)
    if not token:
        raise ActionFailed(SESSION_ENDED)
    return token


# --- State read from Cognito (GetUser), cached in the session ------------------------------------


@dataclass
class AccountState:
    """What the account page shows of the user as Cognito has it."""

    email: str
    email_verified: bool
    mfa_enabled: bool
    mfa_preferred: bool
    read_at: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def account_state(*, session: SessionBase) -> AccountState:
    """GetUser, at most every ACCOUNT_STATE_SECONDS per session, and again after each change here.

    Only the account page reads it: every other page makes no Cognito call. ActionFailed when
    Cognito cannot be asked (the page then says so instead of guessing).
    """
    cached = session.get(STATE)
    if isinstance(cached, dict) and time.time() - cached.get("read_at", 0) < settings.ACCOUNT_STATE_SECONDS:
        try:
            return AccountState(**cached)
        except TypeError:
            pass
    answer = _call("get_user", sentences={}, AccessToken=_access_token(session))
    attributes = {a["Name"]: a["Value"] for a in answer.get("UserAttributes", [])}
    state = AccountState(
        email=attributes.get("email", ""),
        email_verified=attributes.get("email_verified", "").lower() == "true",
        mfa_enabled="SOFTWARE_TOKEN_MFA" in (answer.get("UserMFASettingList") or []),
        mfa_preferred=answer.get("PreferredMfaSetting") == "SOFTWARE_TOKEN_MFA",
        read_at=time.time(),
    )
    session[STATE] = state.as_dict()
    return state


def account_state_forget(*, session: SessionBase) -> None:
    session.pop(STATE, None)


# --- Re-authentication ---------------------------------------------------------------------------


# The sign-ins that prove presence: the user pool's own (password, then the authenticator code
# when one is on), or a provider's for an account that provider made (it has nothing else). A
# provider linked to a password account does not: Cognito never asks federated sign-ins for the
# code (reference-2 §1.4), so it would let anyone holding the Google account past the second factor.
_PROVING_METHODS = (services.SIGNED_IN_WITH_PASSWORD, services.SIGNED_IN_WITH_OWN_PROVIDER)


def recently_signed_in(*, session: SessionBase) -> bool:
    """Whether the user proved presence at the hosted UI within ACCOUNT_REAUTH_SECONDS (`auth_time`),
    by a sign-in of _PROVING_METHODS (a session that does not say how, from before it was recorded,
    does not count: signing in again records it)."""
    auth_time = session.get(services.AUTH_TIME)
    return (
        isinstance(auth_time, int)
        and time.time() - auth_time <= settings.ACCOUNT_REAUTH_SECONDS
        and session.get(services.SIGN_IN_METHOD) in _PROVING_METHODS
    )


def has_password(*, session: SessionBase, username: str) -> bool:
    """Whether the signed-in user has the user pool's own sign-in (a password), or only a provider.

    From the sign-in's method; a session that does not record it goes by the username's form: a
    provider-made account is `<ProviderName>_<id>` (native ones here are UUIDs: email is the
    pool's username attribute).
    """
    method = session.get(services.SIGN_IN_METHOD)
    if method:
        return method != services.SIGNED_IN_WITH_OWN_PROVIDER
    prefix, underscore, _ = username.partition("_")
    providers = {name.lower() for name in settings.COGNITO_IDENTITY_PROVIDERS}
    return not (underscore and prefix.lower() in providers)


def signed_in_through_linked_provider(*, session: SessionBase) -> bool:
    return session.get(services.SIGN_IN_METHOD) == services.SIGNED_IN_WITH_LINKED_PROVIDER


SIGN_IN_AGAIN = "Please confirm it is you: sign in again, then repeat this."


def require_recent_sign_in(*, session: SessionBase) -> None:
    if not recently_signed_in(session=session):
        raise ActionFailed(SIGN_IN_AGAIN)


# --- Authenticator app (TOTP) --------------------------------------------------------------------


@dataclass
class TotpSetup:
    """A set-up in progress: what the page shows (never sent anywhere but this user's page)."""

    id: str
    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _totp_setup(setup_id: str, secret: str, email: str) -> TotpSetup:
    issuer = settings.ACCOUNT_TOTP_ISSUER
    label = quote(f"{issuer}:{email}", safe="@:")
    uri = f"otpauth://totp/{label}?{urlencode({'secret': secret, 'issuer': issuer})}"
    return TotpSetup(setup_id, secret, uri, segno.make(uri, error="m").svg_inline(scale=4, title="QR code"))


def mfa_setup_current(*, session: SessionBase, email: str) -> TotpSetup | None:
    data = session.get(TOTP_SETUP)
    if not isinstance(data, dict):
        return None
    return _totp_setup(data["id"], data["secret"], email)


PROVIDER_HANDLES_MFA = (
    "You sign in through your provider, which handles two-step sign-in: switch it on in that "
    "account. An authenticator app here would never be asked for."
)


def _require_own_sign_in(session: SessionBase) -> None:
    """Refuse an authenticator app to an account that only a provider signs in: Cognito never asks
    federated sign-ins for a code, so it would only pretend to protect the account."""
    if session.get(services.SIGN_IN_METHOD) == services.SIGNED_IN_WITH_OWN_PROVIDER:
        raise ActionFailed(PROVIDER_HANDLES_MFA)


def mfa_setup_start(*, session: SessionBase, email: str) -> TotpSetup:
    """AssociateSoftwareToken: a new secret, pending at Cognito until a code verifies it.

    Only right after a fresh sign-in, whether MFA is on or off: a stale (stolen, forgotten) session
    that switched on an app of its own would lock the owner out, and one that replaced the owner's
    app would take over the second factor. The cached state is forgotten so the page reads Cognito.
    """
    require_recent_sign_in(session=session)
    _require_own_sign_in(session)
    account_state_forget(session=session)
    answer = _call(
        "associate_software_token",
        sentences={
            "SoftwareTokenMFANotFoundException": ("Authenticator apps are not enabled for this site.", None)
        },
        AccessToken=_access_token(session),
    )
    setup_id = secrets.token_urlsafe(12)
    session[TOTP_SETUP] = {"id": setup_id, "secret": answer["SecretCode"]}
    session.pop(TOTP_VERIFIED, None)
    return _totp_setup(setup_id, answer["SecretCode"], email)


WRONG_TOTP = "That code does not match. Enter the 6-digit code your app shows now for this account."


def mfa_setup_finish(*, session: SessionBase, setup_id: str, code: str, device_name: str) -> None:
    """VerifySoftwareToken with the app's code, then SetUserMFAPreference enabled + preferred.

    A wrong code keeps the set-up going (same secret). A form from an older set-up (another tab
    started a newer one, which replaced its secret at Cognito) is refused with a sentence saying so.
    """
    require_recent_sign_in(session=session)  # again: the sign-in may have grown old since the start
    _require_own_sign_in(session)
    current = session.get(TOTP_SETUP)
    if not isinstance(current, dict):
        raise ActionFailed("This set-up has ended. Please start again.")
    if current["id"] != setup_id:
        raise ActionFailed(
            "A newer set-up was started (in another tab or window), which replaced this one. "
            "Scan the QR code shown now and enter its code.",
            "code",
        )
    _call(
        "verify_software_token",
        sentences={
            "EnableSoftwareTokenMFAException": (WRONG_TOTP, "code"),
            "CodeMismatchException": (WRONG_TOTP, "code"),
            "InvalidParameterException": ("This set-up has ended. Please start again.", None),
            "LimitExceededException": (
                "Too many wrong codes for this key. Use “Start again with a new key” below.",
                "code",
            ),
        },
        AccessToken=_access_token(session),
        UserCode=code,
        FriendlyDeviceName=device_name or "Authenticator app",
    )
    session.pop(TOTP_SETUP, None)
    session[TOTP_VERIFIED] = True  # if switching on fails now, the page offers to finish it
    mfa_switch_on(session=session)


def mfa_switch_on(*, session: SessionBase) -> None:
    """SetUserMFAPreference: TOTP enabled and preferred (after a verified set-up, fresh sign-in only:
    a stale session must not switch back on an app the owner removed)."""
    require_recent_sign_in(session=session)
    _require_own_sign_in(session)
    account_state_forget(session=session)
    _call(
        "set_user_mfa_preference",
        sentences={"InvalidParameterException": ("Set up the authenticator app first.", None)},
        AccessToken=_access_token(session),
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    session.pop(TOTP_VERIFIED, None)


def mfa_disable(*, session: SessionBase) -> None:
    """SetUserMFAPreference disabled: only right after a fresh sign-in (which asked for a code)."""
    require_recent_sign_in(session=session)
    account_state_forget(session=session)
    _call(
        "set_user_mfa_preference",
        sentences={},
        AccessToken=_access_token(session),
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )


# --- Password ------------------------------------------------------------------------------------


def password_rules() -> list[str]:
    """The pool's password rules as sentences (DescribeUserPool, cached); [] if unknown."""
    try:
        policy = cognito.user_pool().password_policy()
    except cognito.CognitoError as exc:
        logger.warning("password policy unavailable: %s", exc)
        return []
    rules = [f"At least {int(policy.get('MinimumLength') or 8)} characters"]
    for key, text in (
        ("RequireLowercase", "a lower-case letter"),
        ("RequireUppercase", "an upper-case letter"),
        ("RequireNumbers", "a digit"),
        ("RequireSymbols", "a symbol such as ! or #"),
    ):
        if policy.get(key):
            rules.append(f"at least {text}")
    return rules


def password_change(*, request: HttpRequest, current: str, new: str) -> int:
    """ChangePassword; then every other session of the user ends. Returns how many ended."""
    _call(
        "change_password",
        sentences={
            "NotAuthorizedException": ("Your current password is not right.", "current_password"),
            # Cognito's attempt limit (wrong current passwords count like wrong sign-ins).
            "LimitExceededException": (
                "Too many wrong passwords. Please wait a few minutes, then try again.",
                "current_password",
            ),
            "InvalidPasswordException": ("The new password does not meet the rules above.", "new_password1"),
            "PasswordHistoryPolicyViolationException": (
                "You have used this password recently. Please choose another.",
                "new_password1",
            ),
            "InvalidParameterException": ("The new password does not meet the rules above.", "new_password1"),
            "PasswordResetRequiredException": ("Please reset your password from the sign-in page.", None),
        },
        AccessToken=_access_token(request.session),
        PreviousPassword=current,
        ProposedPassword=new,
    )
    return sessions.user_sessions_end(user=request.user, keep_session_key=request.session.session_key)


# --- Sessions ------------------------------------------------------------------------------------


def sign_out_everywhere(*, request: HttpRequest) -> int:
    """GlobalSignOut (every refresh token of the user dies at Cognito), then every local session.

    If Cognito cannot be reached nothing is ended, so the user can try again (still signed in).
    The caller signs this browser out and sends it to Cognito's /logout.
    """
    _call("global_sign_out", sentences={}, AccessToken=_access_token(request.session))
    return sessions.user_sessions_end(
        user=request.user, keep_session_key=request.session.session_key, revoke_tokens=False
    )


# --- E-mail --------------------------------------------------------------------------------------

EMAIL_CODE_SENTENCES = {
    "CodeMismatchException": ("That code is not right. Use the code in the newest e-mail.", "code"),
    "ExpiredCodeException": (
        "That code has expired or was replaced by a newer one. Send a new code.",
        "code",
    ),
    "AliasExistsException": (
        "Another account now uses that address. Cancel this change and choose another address.",
        None,
    ),
}


def email_change_start(*, request: HttpRequest, new_email: str) -> None:
    """UpdateUserAttributes(email): Cognito keeps the old address until the code arrives back."""
    require_recent_sign_in(session=request.session)
    user = request.user
    answer = _call(
        "update_user_attributes",
        sentences={
            "AliasExistsException": ("Another account already uses that address.", "email"),
            "InvalidParameterException": ("The sign-in service does not accept that address.", "email"),
            "CodeDeliveryFailureException": ("A code could not be sent to that address.", "email"),
        },
        AccessToken=_access_token(request.session),
        UserAttributes=[{"Name": "email", "Value": new_email}],
    )
    account_state_forget(session=request.session)
    if not answer.get("CodeDeliveryDetailsList"):
        # A pool that changes the address at once (no AttributesRequireVerificationBeforeUpdate)
        # still sends a code; one that sent none has nothing for us to wait for.
        logger.warning("UpdateUserAttributes(email) sent no code for user %s", user.pk)
    user.pending_email = new_email
    user.save(update_fields=["pending_email"])


def email_change_resend(*, request: HttpRequest) -> None:
    """GetUserAttributeVerificationCode: a new code to the pending address (the old one dies)."""
    _call(
        "get_user_attribute_verification_code",
        sentences=EMAIL_CODE_SENTENCES,
        AccessToken=_access_token(request.session),
        AttributeName="email",
    )


def email_change_verify(*, request: HttpRequest, code: str) -> None:
    """VerifyUserAttribute: the new address becomes the account's; the tokens are renewed to say so."""
    user = request.user
    _call(
        "verify_user_attribute",
        sentences=EMAIL_CODE_SENTENCES,
        AccessToken=_access_token(request.session),
        AttributeName="email",
        Code=code,
    )
    account_state_forget(session=request.session)
    user.email, user.pending_email = user.pending_email or user.email, ""
    user.save(update_fields=["email", "pending_email"])
    try:  # the ID token in the session still names the old address until renewed
        services.session_refresh_tokens(session=request.session, user=user)
    except (services.SessionEnded, cognito.CognitoError) as exc:
        logger.info("tokens not renewed after an e-mail change: %s", exc)


def email_change_cancel(*, request: HttpRequest) -> None:
    """Set the address back to the one in use: Cognito forgets the pending one."""
    user = request.user
    _call(
        "update_user_attributes",
        sentences={},
        AccessToken=_access_token(request.session),
        UserAttributes=[{"Name": "email", "Value": user.email}],
    )
    account_state_forget(session=request.session)
    user.pending_email = ""
    user.save(update_fields=["pending_email"])


# --- Delete and export ---------------------------------------------------------------------------


def account_delete(*, request: HttpRequest) -> None:
    """Delete the account: other apps' parts (avatars), then Cognito's user, then the local rows.

    Order and retries: `user_deleting` receivers go first and are idempotent; if one cannot do its
    part (AccountDeletionBlocked) nothing else happens. If Cognito's DeleteUser then fails, the
    user is still signed in with their account (minus what receivers removed, e.g. the picture)
    and deleting again retries from the start. Only after Cognito has deleted the user are the
    local user (its profile, by cascade) and every session of it deleted, in one transaction.
    """
    require_recent_sign_in(session=request.session)
    user = request.user
    try:
        user_deleting.send(sender=type(user), user=user, request=request)
    except AccountDeletionBlocked as exc:
        raise ActionFailed(f"Your account was not deleted: {exc} Please try again.") from exc
    try:
        _call("delete_user", sentences={}, AccessToken=_access_token(request.session))
    except ActionFailed as exc:
        if exc.message != SESSION_ENDED or not _gone_at_cognito(user):
            raise
        logger.info("user %s was already deleted at Cognito: finishing locally", user.pk)
    with transaction.atomic():
        sessions.user_sessions_end(user=user, revoke_tokens=False)
        user.delete()


def _gone_at_cognito(user: Any) -> bool:
    """Whether an earlier attempt's DeleteUser went through (the token is refused then)."""
    try:
        cognito.user_pool().admin_get_user(username=user.cognito_username or user.cognito_sub)
    except cognito.UserNotFound:
        return True
    except cognito.CognitoError:
        return False
    return False


def account_export(*, request: HttpRequest) -> dict[str, Any]:
    """The user's data as one JSON-serialisable object (GDPR Art. 20): account, sessions, and
    each app's section (`user_data_requested`: the profile and avatar URLs)."""
    user = request.user
    data: dict[str, Any] = {
        "account": {
            "sub": user.cognito_sub,
            "username": user.cognito_username,
            "email": user.email,
            "email_pending_verification": user.pending_email or None,
            "name": user.name,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "joined": user.date_joined.isoformat(),
            "last_sign_in": user.last_login.isoformat() if user.last_login else None,
        },
        "sessions": [
            {
                "signed_in_at": row.created.isoformat(),
                "last_seen": row.last_seen.isoformat(),
                "browser": row.user_agent,
                "approximate_ip": row.ip_prefix,
            }
            for row in user.signed_in_sessions.all()
        ],
    }
    for _receiver, section in user_data_requested.send(sender=type(user), user=user, request=request):
        if isinstance(section, tuple) and len(section) == 2:
            data[str(section[0])] = section[1]
    return data
