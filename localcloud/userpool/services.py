"""User pool behaviour where Cognito is stricter than moto; shared by the JSON API and hosted UI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyotp
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient, UserStatus
from moto.cognitoidp.utils import validate_username_format
from moto.core.exceptions import JsonRESTError

from localcloud import clock, outbox
from localcloud import moto_adapter as moto
from localcloud.userpool import backend as bk
from localcloud.userpool.lockout import LOCKOUT
from localcloud.userpool.models import LocalUserPool, UserState, is_external
from localcloud.userpool.send_limit import CONFIRM_SENDS, RESET_SENDS, SendLimit

CODE_LIFETIME = 24 * 3600  # sign-up confirmation codes: 24 h in Cognito
RESET_CODE_LIFETIME = 3600  # forgot-password codes: 1 h in Cognito
# A challenge session lives the client's AuthSessionValidity (minutes, 3-15; Cognito's default 3).
AUTH_SESSION_MINUTES = 3
AUTH_SESSION_RANGE = range(3, 16)
MAX_CODE_ATTEMPTS = 5

# Attributes Cognito always has, whatever the schema lists.
STANDARD_ATTRIBUTES = {
    "address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name",
    "locale", "middle_name", "name", "nickname", "phone_number", "phone_number_verified",
    "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo",
}  # fmt: skip
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")


def error(error_type: str, message: str) -> JsonRESTError:
    """A Cognito-shaped 400 error (``{"__type", "message"}``)."""
    return JsonRESTError(error_type, message)


# --- client authentication ---------------------------------------------------------------------
def secret_hash(client: CognitoIdpUserPoolClient, username: str) -> str:
    """Base64(HMAC-SHA256(client_secret, username + client_id)), as the SDKs compute it."""
    digest = hmac.new(client.secret.encode(), (username + client.id).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def check_secret_hash(client: CognitoIdpUserPoolClient, usernames: list[str], received: object) -> None:
    """Require a valid SECRET_HASH from a client with a secret (any of the user's names)."""
    if not client.generate_secret:
        if received:
            # A public client has no secret to hash: Cognito refuses one rather than ignore it.
            raise InvalidParameterException(
                f"Client {client.id} is not configured for secret but secret hash was received"
            )
        return
    if not received:
        raise NotAuthorizedError(
            f"Client {client.id} is configured with secret but SECRET_HASH was not received"
        )
    for name in usernames:
        if name and isinstance(received, str):
            if hmac.compare_digest(secret_hash(client, name), received):
                return
    raise NotAuthorizedError(f"Unable to verify secret hash for client {client.id}")


def check_auth_flow(client: CognitoIdpUserPoolClient, flow: str) -> None:
    """Refuse auth flows the client does not enable (ExplicitAuthFlows)."""
    flows = client.extended_config.get("ExplicitAuthFlows") or []
    allowed = {f.replace("ALLOW_", "") for f in flows}
    if "ADMIN_NO_SRP_AUTH" in allowed:
        allowed.add("ADMIN_USER_PASSWORD_AUTH")
    if "ADMIN_USER_PASSWORD_AUTH" in allowed:
        allowed.add("ADMIN_NO_SRP_AUTH")
    if flow == "REFRESH_TOKEN":
        flow = "REFRESH_TOKEN_AUTH"
    if flows and flow not in allowed:
        raise InvalidParameterException(f"{flow} flow not enabled for this client")


# --- password policy and attributes -------------------------------------------------------------
def password_errors(pool: LocalUserPool, password: object) -> list[str]:
    """Cognito's messages for each password-policy rule the password breaks."""
    policy = pool.extended_config.get("Policies", {}).get("PasswordPolicy", {})
    if not isinstance(password, str) or not password:
        return ["Password must not be empty"]
    errors = []
    if len(password) < int(policy.get("MinimumLength", 8)):
        errors.append("Password not long enough")
    if len(password) > 256:
        errors.append("Password is too long")
    if policy.get("RequireUppercase", True) and not re.search(r"[A-Z]", password):
        errors.append("Password must have uppercase characters")
    if policy.get("RequireLowercase", True) and not re.search(r"[a-z]", password):
        errors.append("Password must have lowercase characters")
    if policy.get("RequireNumbers", True) and not re.search(r"[0-9]", password):
        errors.append("Password must have numeric characters")
    if policy.get("RequireSymbols", True) and not any(c in SYMBOLS for c in password):
        errors.append("Password must have symbol characters")
    return errors


def password_rules(pool: LocalUserPool) -> list[dict[str, str]]:
    """The pool's password policy as rules to show up front; `check` names the browser's live test."""
    policy = pool.extended_config.get("Policies", {}).get("PasswordPolicy", {})
    length = int(policy.get("MinimumLength", 8))
    rules = [{"check": f"length:{length}", "text": f"At least {length} characters"}]
    for key, check, text in (
        ("RequireUppercase", "upper", "An uppercase letter (A–Z)"),
        ("RequireLowercase", "lower", "A lowercase letter (a–z)"),
        ("RequireNumbers", "number", "A number (0–9)"),
        ("RequireSymbols", "symbol", "A symbol, such as ! @ # $ % or a space"),
    ):
        if policy.get(key, True):
            rules.append({"check": check, "text": text})
    return rules


def check_password(pool: LocalUserPool, password: object) -> str:
    """Raise InvalidPasswordException with Cognito's wording if the policy is broken."""
    errors = password_errors(pool, password)
    if errors:
        raise error("InvalidPasswordException", "Password did not conform with policy: " + errors[0])
    return str(password)


def schema_names(pool: LocalUserPool) -> set[str]:
    """Every attribute name the pool knows (standard + its custom ones)."""
    return STANDARD_ATTRIBUTES | set(pool.schema_attributes)


def parse_attributes(pool: LocalUserPool, attributes: object) -> dict[str, str]:
    """Validate a [{Name, Value}] list against the schema; returns a flat dict."""
    if attributes is None:
        return {}
    if not isinstance(attributes, list) or not all(
        isinstance(a, dict) and isinstance(a.get("Name"), str) and isinstance(a.get("Value", ""), str)
        for a in attributes
    ):
        raise InvalidParameterException("UserAttributes must be a list of {Name, Value} strings")
    flat = {a["Name"]: a.get("Value", "") for a in attributes}
    unknown = sorted(set(flat) - schema_names(pool) - {"sub"})
    if unknown:
        raise InvalidParameterException(
            "Attributes did not conform to the schema: "
            + ", ".join(f"{n}: Attribute does not exist in the schema." for n in unknown)
        )
    for name, value in flat.items():
        constraint = getattr(pool.schema_attributes.get(name), "string_constraints", None) or {}
        max_length = int(constraint.get("MaxLength", 2048))
        if len(value) > max_length:
            raise InvalidParameterException(
                f"user.{name}: String must be no longer than {max_length} characters"
            )
    return flat


def check_writable(client: CognitoIdpUserPoolClient, names: list[str] | set[str]) -> None:
    """Enforce the client's WriteAttributes (so nobody can set custom:role on themselves)."""
    writable = client.extended_config.get("WriteAttributes")
    if writable is None:
        return
    # email_verified follows email; Cognito never lets a client set it directly either way.
    if any(name not in writable for name in names):
        raise NotAuthorizedError("A client attempted to write unauthorized attribute")


# --- users ---------------------------------------------------------------------------------------
def find_user(pool: LocalUserPool, username: object) -> CognitoIdpUser | None:
    """The user by username, sub or email, or None (never raises)."""
    if not isinstance(username, str) or not username:
        return None
    user = moto.get_user(pool, username)
    if user is None and "@" in username:
        # Email sign-in is case-insensitive on Cognito (UsernameConfiguration default); moto's is not.
        wanted = username.lower()
        user = next(
            (
                u
                for u in pool.users.values()
                if not is_external(u) and str(u.attribute_lookup.get("email", "")).lower() == wanted
            ),
            None,
        )
    return user


def unknown_name_key(username: str) -> str:
    """The lockout key of a name find_user does not know: the names it would take for one user share it.

    find_user matches exactly (moto), an email case-insensitively, and nothing else (no strip): an
    unknown name must be keyed just so, or " x" and "x" would share a count for an unknown name
    but not for an existing one (an existence oracle).
    """
    return username.lower() if "@" in username else username


def user_state(user: CognitoIdpUser) -> UserState:
    """localcloud's own state of a user (codes, TOTP secrets), kept by the user's pool."""
    pool = bk.pool_by_id(moto.user_pool_id(user))
    if pool is None:
        raise NotAuthorizedError("User does not exist.")
    return pool.user_state(user)


def user_email(user: CognitoIdpUser) -> str:
    """The user's email (the outbox recipient)."""
    return str(user.attribute_lookup.get("email", user.username))


def mask(email: str) -> str:
    """Cognito's masked destination, e.g. a***@e***."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if domain else f"{email[:1]}***"


def destination(name: object, user: CognitoIdpUser | None) -> str:
    """The masked destination answered for a code asked for by ``name``.

    The address as typed (case and all) when the name is one, so a real user's answer and the one
    simulated for an unknown name look alike (the stored e-mail's case would tell them apart); the
    user's e-mail otherwise. Used by ForgotPassword, ResendConfirmationCode and the EMAIL_OTP start.
    """
    typed = str(name)
    return mask(typed if "@" in typed or user is None else user_email(user))


def _delivery(user: CognitoIdpUser, name: object = None) -> dict[str, str]:
    """CodeDeliveryDetails for an email code (``name``: as asked for, see destination)."""
    where = destination(name, user) if name is not None else mask(user_email(user))
    return {"Destination": where, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _new_code(user: CognitoIdpUser, purpose: str, lifetime: int) -> str:
    """Store a fresh 6-digit code of a purpose on the user; returns it."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    user_state(user).codes[purpose] = {"code": code, "expires": time.time() + lifetime, "attempts": 0}
    return code


def _email_code(
    user: CognitoIdpUser, purpose: str, lifetime: int, *, what: str, kind: str, name: object = None
) -> dict[str, str]:
    """Store a fresh code, send it to the outbox as Cognito's e-mail would; CodeDeliveryDetails."""
    code = _new_code(user, purpose, lifetime)
    outbox.send(
        recipient=user_email(user),
        subject=f"Your {what}",
        body=f"Your {what} is {code}",
        code=code,
        kind=kind,
    )
    return _delivery(user, name)


def _check_code(user: CognitoIdpUser, purpose: str, code: object) -> None:
    """Verify (and consume) a code; Cognito's CodeMismatch / ExpiredCode otherwise."""
    codes = user_state(user).codes
    entry = codes.get(purpose)
    if entry is None or entry["expires"] < time.time():
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if entry["attempts"] >= MAX_CODE_ATTEMPTS:
        raise error("LimitExceededException", "Attempt limit exceeded, please try after some time.")
    if not isinstance(code, str) or not hmac.compare_digest(entry["code"], code.strip()):
        entry["attempts"] += 1
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del codes[purpose]


def send_signup_code(user: CognitoIdpUser, name: object = None) -> dict[str, str]:
    """Email a sign-up verification code to the user (``name``: as asked for, see destination)."""
    return _email_code(user, "signup", CODE_LIFETIME, what="verification code", kind="signup", name=name)


# RFC 5321 (4.5.3.1): a local part of at most 64 octets; a path of at most 256, so an address of at
# most 254 characters once its angle brackets are counted.
MAX_EMAIL_LOCAL = 64
MAX_EMAIL = 254


def valid_email(value: object) -> bool:
    """A plausible email address (moto's pattern) within RFC 5321's lengths."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not validate_username_format(value, "email"):
        return False
    return len(value.rpartition("@")[0].encode()) <= MAX_EMAIL_LOCAL


def sign_up(
    pool: LocalUserPool,
    client: CognitoIdpUserPoolClient,
    username: object,
    password: object,
    attributes: dict[str, str],
) -> tuple[CognitoIdpUser, dict[str, str]]:
    """Register an UNCONFIRMED user and email the code (SignUp / the hosted /signup page)."""
    if not isinstance(username, str) or not valid_email(username):
        raise InvalidParameterException("Username should be an email.")
    attributes = dict(attributes)
    attributes.pop("email_verified", None)
    check_writable(client, set(attributes))
    attributes["email"] = username
    if find_user(pool, username) is not None:
        raise UsernameExistsException("An account with the given email already exists.")
    for attr in pool.schema_attributes.values():
        if attr.required and not attributes.get(attr.name):
            raise InvalidParameterException(
                f"Attributes did not conform to the schema: {attr.name}: The attribute is required"
            )
    check_password(pool, password)
    user = CognitoIdpUser(
        pool.id, None, str(password), UserStatus.UNCONFIRMED, [
            {"Name": k, "Value": v} for k, v in attributes.items()
        ]
    )  # fmt: skip
    pool.users[user.username] = user
    return user, send_signup_code(user)


def hides_existence(client: CognitoIdpUserPoolClient) -> bool:
    """Whether the client sets PreventUserExistenceErrors=ENABLED (unset on the API means LEGACY)."""
    return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def _simulated_delivery(username: object) -> dict[str, str]:
    """The CodeDeliveryDetails Cognito invents for a user that does not exist."""
    return {"Destination": destination(username, None), "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def resend_code(pool: LocalUserPool, username: object, *, hide_existence: bool = False) -> dict[str, str]:
    """ResendConfirmationCode: a new sign-up code for an unconfirmed user."""
    user = find_user(pool, username)
    if user is None:
        if hide_existence:
            _check_sends(CONFIRM_SENDS, pool, None, username)
            return _simulated_delivery(username)
        raise UserNotFoundError("Username/client id combination not found.")
    # Counted before "already confirmed", so a confirmed user reaches the limit like an unknown name
    # (the hosted page, which hides that error, would otherwise tell them apart on the sixth try).
    _check_sends(CONFIRM_SENDS, pool, user, username)
    if user.status is not UserStatus.UNCONFIRMED:
        raise InvalidParameterException("User is already confirmed.")
    return send_signup_code(user, username)


def confirm_sign_up(
    pool: LocalUserPool, username: object, code: object, *, hide_existence: bool = False
) -> CognitoIdpUser:
    """ConfirmSignUp with the emailed code; marks the email verified."""
    user = find_user(pool, username)
    if hide_existence and (user is None or user.status is not UserStatus.UNCONFIRMED):
        # PreventUserExistenceErrors: unknown and already-confirmed users get a wrong code's answer.
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status is not UserStatus.UNCONFIRMED:
        raise NotAuthorizedError(f"User cannot be confirmed. Current status is {user.status.value}")
    _check_code(user, "signup", code)
    user.status = UserStatus.CONFIRMED
    user.update_attributes([{"Name": "email_verified", "Value": "true"}])
    return user


def _check_reset_sends(pool: LocalUserPool, user: CognitoIdpUser | None, username: object) -> None:
    """Cognito's limit on reset codes per user (unknown names counted alike): send_limit.py."""
    _check_sends(RESET_SENDS, pool, user, username)


def _check_sends(
    limit: SendLimit, pool: LocalUserPool, user: CognitoIdpUser | None, username: object
) -> None:
    """Cognito's limit on codes sent per user (unknown names counted alike): send_limit.py."""
    name = user.username if user is not None else unknown_name_key(str(username)[:MAX_USERNAME])
    if not limit.allow(pool.id, name):
        raise error("LimitExceededException", "Attempt limit exceeded, please try after some time.")


def forgot_password(pool: LocalUserPool, username: object, *, hide_existence: bool = False) -> dict[str, str]:
    """ForgotPassword: email a reset code (a simulated delivery for unknown users when hidden)."""
    user = find_user(pool, username)
    if user is None:
        if hide_existence:
            _check_reset_sends(pool, None, username)
            return _simulated_delivery(username)
        raise UserNotFoundError("Username/client id combination not found.")
    if not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    if is_external(user):
        raise NotAuthorizedError("User password cannot be reset in the current state.")
    _check_reset_sends(pool, user, username)
    if user.attribute_lookup.get("email_verified") != "true" and user.status is not UserStatus.UNCONFIRMED:
        raise InvalidParameterException(
            "Cannot reset password for the user as there is no registered/verified email or phone_number"
        )
    return _email_code(
        user, "reset", RESET_CODE_LIFETIME, what="password reset code", kind="forgot_password", name=username
    )


def confirm_forgot_password(
    pool: LocalUserPool, username: object, code: object, password: object
) -> CognitoIdpUser:
    """ConfirmForgotPassword: check the code and the policy, then set the password."""
    user = find_user(pool, username)
    if user is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    check_password(pool, password)
    _check_code(user, "reset", code)
    user.password = str(password)
    end_user_challenges(pool, user)
    if user.status in (UserStatus.RESET_REQUIRED, UserStatus.FORCE_CHANGE_PASSWORD):
        user.status = UserStatus.CONFIRMED
    return user


def send_temporary_password(user: CognitoIdpUser, password: str) -> None:
    """Email an admin-created user's temporary password (AdminCreateUser's invitation)."""
    outbox.send(
        recipient=user_email(user),
        subject="Your temporary password",
        body=f"Your username is {user_email(user)} and temporary password is {password}.",
        code=password,
        kind="invitation",
    )


# --- sign-in and challenges ------------------------------------------------------------------------
# Cognito's UsernameType: at most 128 characters.
MAX_USERNAME = 128


def authenticate(pool: LocalUserPool, username: object, password: object) -> CognitoIdpUser:
    """Check a username/password; one message for unknown user and wrong password; lockout."""
    if not isinstance(username, str) or len(username) > MAX_USERNAME:
        # Longer than any Cognito username: no such user, and never a lockout key (memory).
        raise NotAuthorizedError("Incorrect username or password.")
    user = find_user(pool, username)
    # Unknown names are counted too, so a lockout does not tell which accounts exist.
    if user is not None and is_external(user):
        # A federated profile has no password: only its provider signs it in (aws/aws-cli#3348).
        raise NotAuthorizedError("User is not authorized to get auth details.")
    key = (pool.id, user.username if user is not None else unknown_name_key(username))
    LOCKOUT.check(key)
    if (
        user is None
        or not isinstance(password, str)
        or not hmac.compare_digest((user.password or "").encode(), password.encode())
    ):
        LOCKOUT.failed(key)
        raise NotAuthorizedError("Incorrect username or password.")
    # The count is not reset here: only a completed sign-in resets it (sign_in_completed), so the
    # password cannot wipe out failed TOTP codes.
    if not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    if user.status is UserStatus.UNCONFIRMED:
        raise UserNotConfirmedException("User is not confirmed.")
    if user.status is UserStatus.RESET_REQUIRED:
        raise error("PasswordResetRequiredException", "Password reset required for the user")
    return user


def mfa_enabled(user: CognitoIdpUser) -> bool:
    """Whether sign-in needs a TOTP code from this user."""
    return bool(user.software_token_mfa_enabled and user_state(user).totp_secret)


def next_challenge(pool: LocalUserPool, user: CognitoIdpUser, *, mfa_done: bool = False) -> str | None:
    """The challenge a just-authenticated user must pass next, or None."""
    if user.status is UserStatus.FORCE_CHANGE_PASSWORD:
        return "NEW_PASSWORD_REQUIRED"
    if mfa_done:
        return None
    if mfa_enabled(user):
        return "SOFTWARE_TOKEN_MFA"
    if pool.mfa_config == "ON":
        return "MFA_SETUP"
    return None


@dataclass
class Challenge:
    """A pending sign-in step (the opaque Session string of the API and hosted UI)."""

    pool_id: str
    client_id: str
    username: str
    name: str
    expires: float
    data: dict[str, Any] = field(default_factory=dict)
    failures: int = 0  # wrong codes so far (check_challenge_code)


CHALLENGES: dict[str, Challenge] = {}
# Sessions answered to the end (tokens or the next step issued) → when: their reuse is Cognito's
# "Invalid session for the user, session can only be used once." (seen on AWS for a reused EMAIL_OTP
# session and a NEW_PASSWORD_REQUIRED answered twice), not "session is expired". Kept EXPIRED_KEPT.
SPENT: dict[str, float] = {}
# A timed-out challenge is kept this long (refused all the while), so the hosted UI can tell "took too
# long" from "never was"; then the next start_challenge drops it.
EXPIRED_KEPT = 15 * 60
# At most this many sessions in each store (pending challenges; spent ones), and how often the pending
# ones are swept for sessions expired more than EXPIRED_KEPT ago: _forget_old_sessions.
DEFAULT_MAX_SESSIONS = 100_000
MAX_SESSIONS = DEFAULT_MAX_SESSIONS
SWEEP_SECONDS = 60.0
_SWEPT = [0.0]  # when CHALLENGES was last swept
# Wrong codes a challenge session takes before it dies (Cognito ends the session after a few).
MAX_CHALLENGE_FAILURES = 5
# The errors that mean "wrong code" in a challenge step (counted; other errors are not guesses).
_WRONG_CODE = frozenset({"CodeMismatchException", "EnableSoftwareTokenMFAException"})


def sign_in_completed(pool: LocalUserPool, user: CognitoIdpUser) -> None:
    """Every factor passed (tokens or a hosted-UI session issued): the lockout count starts again."""
    LOCKOUT.succeeded((pool.id, user.username))


def check_challenge_code(
    session: str,
    challenge: Challenge,
    user: CognitoIdpUser,
    check: Callable[[CognitoIdpUser, object], None],
    code: object,
) -> None:
    """A code answering a sign-in challenge (TOTP, or the first code of an MFA set-up).

    The user's lockout applies (during one, the right code is refused too) and each wrong code
    counts toward it like a wrong password; after MAX_CHALLENGE_FAILURES wrong codes the session
    dies ("Invalid session for the user, session is expired.").
    """
    key = (challenge.pool_id, challenge.username)
    LOCKOUT.check(key)
    try:
        check(user, code)
    except JsonRESTError as exc:
        if exc.error_type in _WRONG_CODE:
            LOCKOUT.failed(key)
            challenge.failures += 1
            if challenge.failures >= MAX_CHALLENGE_FAILURES:
                end_challenge(session)
        raise


def session_seconds(client: CognitoIdpUserPoolClient | None) -> int:
    """How long a challenge session of this client lives: its AuthSessionValidity, in seconds."""
    minutes = client.extended_config.get("AuthSessionValidity") if client is not None else None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes not in AUTH_SESSION_RANGE:
        minutes = AUTH_SESSION_MINUTES  # never set (moto's default is the same) or not a valid value
    return minutes * 60


def start_challenge(pool: LocalUserPool, client_id: str, user: CognitoIdpUser, name: str, **data: Any) -> str:
    """Create a pending challenge, timed by the client's AuthSessionValidity; its session id."""
    now = clock.now()
    _forget_old_sessions(now)
    session = secrets.token_urlsafe(48)
    lifetime = session_seconds(pool.clients.get(client_id))
    CHALLENGES[session] = Challenge(pool.id, client_id, user.username, name, now + lifetime, dict(data))
    return session


def renew_challenge(session: str, challenge: Challenge) -> str:
    """The same pending step under a new session id, with a full lifetime; the old id is dead.

    Cognito creates a session token for each API request in an authentication flow, each living
    the client's AuthSessionValidity (AssociateSoftwareToken and VerifySoftwareToken answer with
    one). The step keeps its state, its wrong codes included: a new id never buys more guesses.
    """
    end_challenge(session)
    renewed = secrets.token_urlsafe(48)
    pool = bk.pool_by_id(challenge.pool_id)
    challenge.expires = clock.now() + session_seconds(pool.clients.get(challenge.client_id) if pool else None)
    CHALLENGES[renewed] = challenge
    return renewed


def _forget_old_sessions(now: float) -> None:
    """Drop sessions expired more than EXPIRED_KEPT ago, and keep each store under MAX_SESSIONS.

    SPENT is in time order, so its old entries go from the front at every call. CHALLENGES is not
    (lifetimes differ per client): it is swept at most every SWEEP_SECONDS, or when full; a full
    store drops its expired sessions first (oldest first), then its oldest live ones, so a flood of
    sign-ins (an EMAIL_OTP start needs no password) can end sessions early but never grow memory.
    """
    while SPENT and next(iter(SPENT.values())) + EXPIRED_KEPT < now:
        del SPENT[next(iter(SPENT))]
    while len(SPENT) >= MAX_SESSIONS:
        del SPENT[next(iter(SPENT))]
    full = len(CHALLENGES) >= MAX_SESSIONS
    if not full and now - _SWEPT[0] < SWEEP_SECONDS:
        return
    _SWEPT[0] = now
    for key in [k for k, c in CHALLENGES.items() if c.expires + EXPIRED_KEPT < now]:
        del CHALLENGES[key]
    if len(CHALLENGES) < MAX_SESSIONS:
        return
    room = max(1, MAX_SESSIONS // 10)  # a full store frees a tenth at once: no scan on every call
    expired = [k for k, c in CHALLENGES.items() if c.expires <= now][:room]
    for key in expired:
        del CHALLENGES[key]
    while len(CHALLENGES) > MAX_SESSIONS - room:
        del CHALLENGES[next(iter(CHALLENGES))]


def configure_sessions(max_sessions: int | None) -> None:
    """Set MAX_SESSIONS (the config's limits.max_challenge_sessions; None: the default)."""
    global MAX_SESSIONS
    MAX_SESSIONS = max(1, max_sessions) if max_sessions is not None else DEFAULT_MAX_SESSIONS


def expired_challenge(session: object) -> Challenge | None:
    """The challenge of a session that timed out (kept EXPIRED_KEPT to say so), else None."""
    challenge = CHALLENGES.get(session) if isinstance(session, str) else None
    return challenge if challenge is not None and challenge.expires <= clock.now() else None


def get_challenge(session: object, client_id: str | None = None) -> Challenge:
    """A live challenge by session; Cognito's 'Invalid session' otherwise."""
    challenge = CHALLENGES.get(session) if isinstance(session, str) else None
    if challenge is None and isinstance(session, str) and session in SPENT:
        raise NotAuthorizedError("Invalid session for the user, session can only be used once.")
    if challenge is None or challenge.expires <= clock.now():
        raise NotAuthorizedError("Invalid session for the user, session is expired.")
    if client_id is not None and challenge.client_id != client_id:
        raise NotAuthorizedError("Invalid session for the user.")
    return challenge


def end_challenge(session: str, *, spent: bool = False) -> None:
    """End a challenge; ``spent``: it was answered (its reuse then says so, as Cognito does)."""
    if CHALLENGES.pop(session, None) is not None and spent:
        SPENT[session] = clock.now()


def end_user_challenges(pool: LocalUserPool, user: CognitoIdpUser) -> None:
    """A password set or reset: every pending sign-in step of the user ends (a session started with
    the old password, e.g. NEW_PASSWORD_REQUIRED after an old temporary one, no longer completes)."""
    for session, challenge in list(CHALLENGES.items()):
        if challenge.pool_id == pool.id and challenge.username == user.username:
            CHALLENGES.pop(session, None)


def set_new_password(pool: LocalUserPool, user: CognitoIdpUser, password: object) -> None:
    """Answer NEW_PASSWORD_REQUIRED."""
    new = check_password(pool, password)
    if user.password == new:
        raise InvalidParameterException("New password must differ from the temporary password.")
    user.password = new
    user.status = UserStatus.CONFIRMED
    end_user_challenges(pool, user)


def check_totp_available(pool: LocalUserPool) -> None:
    """AssociateSoftwareToken needs the pool's SoftwareTokenMfaConfiguration enabled."""
    if not (pool.token_mfa_config or {}).get("Enabled"):
        raise error(
            "SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool"
        )


def new_totp_secret(user: CognitoIdpUser) -> str:
    """AssociateSoftwareToken: a per-user secret, pending until verified."""
    secret = pyotp.random_base32()
    state = user_state(user)
    state.totp_pending_secret = secret
    state.totp_setup_failures = 0
    return secret


def verify_new_totp(user: CognitoIdpUser, code: object) -> None:
    """VerifySoftwareToken: the first code from the authenticator activates the secret.

    At most MAX_CODE_ATTEMPTS wrong codes per secret (then LimitExceededException, as for
    VerifyUserAttribute, until AssociateSoftwareToken hands out a new one). The code accepted
    is used: it cannot sign in again within its 30 s (check_totp).
    """
    state = user_state(user)
    secret = state.totp_pending_secret
    if not secret:
        raise error("InvalidParameterException", "No software token is associated with the user.")
    if state.totp_setup_failures >= MAX_CODE_ATTEMPTS:
        raise error("LimitExceededException", "Attempt limit exceeded, please try after some time.")
    step = _totp_step(secret, code)
    if step is None:
        state.totp_setup_failures += 1
        # The wording AWS sends (aws-samples/aws-amplify-auth-starters#15; reference-2 §3.1).
        raise error("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
    state.totp_secret = secret
    state.totp_pending_secret = None
    state.totp_setup_failures = 0
    state.totp_last_step = max(state.totp_last_step or 0, step)
    user.token_verified = True  # moto's own flag


def _totp_step(secret: str, code: object) -> int | None:
    """The 30-s time step (one early or late allowed, as Cognito) whose code this is, or None."""
    if not isinstance(code, str) or not code.strip().isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // totp.interval
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code.strip()):
            return step
    return None


def check_totp(user: CognitoIdpUser, code: object) -> None:
    """Answer SOFTWARE_TOKEN_MFA with the user's own secret (moto uses one fixed secret).

    A code is taken once: the same code again (a replay, or a second sign-in within its 30 s)
    is refused like a wrong one, with AWS's wording for both (reference-2 §3.1).
    """
    state = user_state(user)
    step = _totp_step(state.totp_secret, code) if state.totp_secret else None
    if step is None or step <= (state.totp_last_step or 0):
        raise CodeMismatchException("Invalid code or auth state for the user.")
    state.totp_last_step = step


def set_mfa_preference(user: CognitoIdpUser, settings: object) -> None:
    """SetUserMFAPreference for TOTP (SMS is not emulated)."""
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise InvalidParameterException("SoftwareTokenMfaSettings must be an object")
    if settings.get("Enabled"):
        if not user_state(user).totp_secret:
            raise InvalidParameterException("User has not verified software token mfa")
        user.software_token_mfa_enabled = True
        if settings.get("PreferredMfa"):
            user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
    elif settings.get("Enabled") is False:
        user.software_token_mfa_enabled = False
        if user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA":
            user.preferred_mfa_setting = ""


def issue_tokens(
    pool: LocalUserPool,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    *,
    scopes: list[str] | None = None,
    nonce: str | None = None,
    auth_time: int | None = None,
    federated: bool = False,
) -> dict[str, Any]:
    """Start an authentication event: refresh + access (+ ID unless scopes lack openid)."""
    sign_in_completed(pool, user)
    refresh, origin_jti = pool.create_refresh_token(
        client.id, user.username, scopes=scopes, auth_time=auth_time, federated=federated
    )
    access, expires_in = pool.create_access_token(client.id, user.username, origin_jti)
    result: dict[str, Any] = {
        "AccessToken": access,
        "ExpiresIn": expires_in,
        "TokenType": "Bearer",
        "RefreshToken": refresh,
    }
    if scopes is None or "openid" in scopes:
        result["IdToken"], _ = pool.create_id_token(client.id, user.username, origin_jti, nonce)
    return result
