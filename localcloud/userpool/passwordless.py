"""Choice-based sign-in (``AuthFlow: USER_AUTH``) with one-time e-mail codes (``EMAIL_OTP``).

moto has no USER_AUTH; this is Cognito's wire flow (../shared/cognito-reference-2.md §4.2):
InitiateAuth ``USER_AUTH`` → ``SELECT_CHALLENGE`` (``AvailableChallenges``), or straight to the
factor named by ``AuthParameters.PREFERRED_CHALLENGE``; ``SELECT_CHALLENGE`` answered with
``ANSWER: EMAIL_OTP`` → ``EMAIL_OTP`` (a code in the outbox) answered with ``EMAIL_OTP_CODE``; or
``ANSWER: PASSWORD`` with ``PASSWORD`` (one step). Needs ``EMAIL_OTP`` in the pool's
``Policies.SignInPolicy.AllowedFirstAuthFactors`` and ``ALLOW_USER_AUTH`` on the client.

Security: a code is single use, lives as long as its session (the client's ``AuthSessionValidity``;
``passwordless.code_seconds`` may shorten it), and only
the newest code of a user works; every wrong code counts toward the password lockout (lockout.py)
and a session dies after 5 of them. With ``PreventUserExistenceErrors: ENABLED`` a name that cannot
receive a code (unknown, disabled, unconfirmed, no verified e-mail) gets the same answers as a real
user — a session, a masked destination, "wrong code" — and nothing is sent.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    UserNotConfirmedException,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient, UserStatus

from localcloud import clock, outbox
from localcloud.userpool import services as sv
from localcloud.userpool.lockout import LOCKOUT
from localcloud.userpool.models import LocalUserPool, is_external

# The first factors localcloud can check (PASSWORD_SRP, SMS_OTP and WEB_AUTHN are not emulated).
FACTORS = ("PASSWORD", "EMAIL_OTP")
CHALLENGES = frozenset({"SELECT_CHALLENGE", "EMAIL_OTP"})
# How long an e-mailed sign-in code is valid (None: as long as its session); never longer than it.
_settings: dict[str, int | None] = {"code_seconds": None}

# Tokens, or the next challenge, once a first factor has passed (api._after_first_factor).
AfterFirstFactor = Callable[[LocalUserPool, CognitoIdpUserPoolClient, CognitoIdpUser], dict[str, Any]]


def configure(code_seconds: int | None) -> None:
    """Set the code lifetime from the config (None: its session's; tests shorten it, 0 = always expired)."""
    _settings["code_seconds"] = None if code_seconds is None else max(0, int(code_seconds))


def code_seconds(client: CognitoIdpUserPoolClient) -> int:
    """How long a code sent in a session of this client is valid: the session's lifetime or less."""
    session = sv.session_seconds(client)
    configured = _settings["code_seconds"]
    return session if configured is None else min(session, configured)


def first_factors(pool: LocalUserPool) -> list[str]:
    """The pool's AllowedFirstAuthFactors that localcloud emulates (Cognito's default: PASSWORD)."""
    policy = (pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    allowed = policy.get("AllowedFirstAuthFactors") or ["PASSWORD"]
    return [f for f in FACTORS if f in allowed]


def user_auth_allowed(client: CognitoIdpUserPoolClient) -> bool:
    """Whether the client lists ALLOW_USER_AUTH."""
    return "ALLOW_USER_AUTH" in (client.extended_config.get("ExplicitAuthFlows") or [])


def offered(pool: LocalUserPool, client: CognitoIdpUserPoolClient) -> bool:
    """Whether e-mail code sign-in is open to this client (the hosted page's "Email me a code")."""
    return "EMAIL_OTP" in first_factors(pool) and user_auth_allowed(client)


def _check_client(pool: LocalUserPool, client: CognitoIdpUserPoolClient) -> None:
    """USER_AUTH needs ALLOW_USER_AUTH on the client (Cognito's wording for a flow it does not enable)."""
    if not user_auth_allowed(client):
        raise InvalidParameterException("USER_AUTH flow not enabled for this client")


# --- who may receive a code -------------------------------------------------------------------------
def _recipient(pool: LocalUserPool, name: str, *, hide: bool) -> CognitoIdpUser | None:
    """The user a code may be sent to, or None (hidden existence: the session is simulated)."""
    user = sv.find_user(pool, name)
    problem = UserNotFoundError("User does not exist.") if user is None else _refusal(user)
    if problem is None:
        return user
    if hide:
        return None
    raise problem


def _refusal(user: CognitoIdpUser) -> Exception | None:
    """Why a code may not be sent to, or sign in, this user; None if it may."""
    if not user.enabled:
        return NotAuthorizedError("User is disabled.")
    if is_external(user):  # federated users have no SDK sign-in (reference-2 §1.2, §1.4)
        return NotAuthorizedError("User is not authorized to get auth details.")
    if user.status is UserStatus.UNCONFIRMED:
        return UserNotConfirmedException("User is not confirmed.")
    if user.status is UserStatus.RESET_REQUIRED:
        return sv.error("PasswordResetRequiredException", "Password reset required for the user")
    if user.attribute_lookup.get("email_verified") != "true":
        # A code proves control of an address only if the address was ever proven to be theirs.
        return InvalidParameterException("The user has no verified email to send a code to.")
    return None


def _check_length(name: str) -> None:
    """Longer than any Cognito username: nobody's, and never a lockout key (as for passwords)."""
    if len(name) > sv.MAX_USERNAME:
        raise NotAuthorizedError("Incorrect username or password.")


def _lockout_name(pool: LocalUserPool, name: str) -> str:
    """The name the lockout counts this sign-in under (the same as a password attempt's)."""
    user = sv.find_user(pool, name)
    return user.username if user is not None else sv.unknown_name_key(name)


# --- InitiateAuth / AdminInitiateAuth ---------------------------------------------------------------
def initiate(
    pool: LocalUserPool, client: CognitoIdpUserPoolClient, auth: dict[str, str], after: AfterFirstFactor
) -> dict[str, Any]:
    """AuthFlow USER_AUTH: SELECT_CHALLENGE, or the PREFERRED_CHALLENGE's first step."""
    _check_client(pool, client)
    name = auth.get("USERNAME", "")
    if not name:
        raise InvalidParameterException("Missing required parameter USERNAME")
    _check_length(name)
    sv.check_secret_hash(client, [name], auth.get("SECRET_HASH"))
    available = first_factors(pool)
    preferred = auth.get("PREFERRED_CHALLENGE")
    if preferred:
        if preferred not in available:
            raise InvalidParameterException(f"The preferred challenge {preferred} is not available.")
        return _factor(pool, client, name, preferred, auth, after)
    # Hiding existence, a user who cannot receive a code (disabled, unconfirmed, ...) gets a simulated
    # session like an unknown name's: a "known" session would answer the USERNAME check differently.
    hide = sv.hides_existence(client)
    user = _recipient(pool, name, hide=True) if hide else sv.find_user(pool, name)
    session = _start(pool, client, name, user, "SELECT_CHALLENGE")
    return {
        "ChallengeName": "SELECT_CHALLENGE",
        "Session": session,
        "ChallengeParameters": {},
        "AvailableChallenges": available,
    }


def _start(
    pool: LocalUserPool, client: CognitoIdpUserPoolClient, name: str, user: CognitoIdpUser | None, step: str,
    **data: Any,
) -> str:  # fmt: skip
    """A challenge session for a user, or a simulated one (keyed by the name the lockout counts)."""
    holder = user if user is not None else _Nobody(_lockout_name(pool, name))
    return sv.start_challenge(pool, client.id, holder, step, typed=name, known=user is not None, **data)  # type: ignore[arg-type]


class _Nobody:
    """Stands for a name no user has, so a simulated session looks like a real one."""

    def __init__(self, username: str) -> None:
        self.username = username


def _factor(
    pool: LocalUserPool,
    client: CognitoIdpUserPoolClient,
    name: str,
    factor: str,
    responses: dict[str, str],
    after: AfterFirstFactor,
) -> dict[str, Any]:
    """Go on with a chosen first factor: PASSWORD checks it now, EMAIL_OTP sends a code."""
    if factor == "PASSWORD":
        user = sv.authenticate(pool, name, responses.get("PASSWORD"))
        return after(pool, client, user)
    return send_code(pool, client, name)


def send_code(pool: LocalUserPool, client: CognitoIdpUserPoolClient, name: str) -> dict[str, Any]:
    """Start an EMAIL_OTP challenge: a fresh code to the outbox (nothing for a hidden non-user)."""
    _check_length(name)
    LOCKOUT.check((pool.id, _lockout_name(pool, name)))
    user = _recipient(pool, name, hide=sv.hides_existence(client))
    code = f"{secrets.randbelow(1_000_000):06d}"
    destination = sv.destination(name, user)  # alike for a real user and a simulated one
    _forget_older_codes(pool, _lockout_name(pool, name))
    session = _start(
        pool, client, name, user, "EMAIL_OTP",
        code=code if user is not None else None, code_expires=clock.now() + code_seconds(client),
        destination=destination, sent_to=sv.user_email(user) if user is not None else None,
    )  # fmt: skip
    if user is not None:
        outbox.send(
            recipient=sv.user_email(user),
            subject="Your sign-in code",
            body=f"Your sign-in code is {code}",
            code=code,
            kind="email_otp",
        )
    return {
        "ChallengeName": "EMAIL_OTP",
        "Session": session,
        "ChallengeParameters": {
            "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
            "CODE_DELIVERY_DESTINATION": destination,
        },
    }


def _forget_older_codes(pool: LocalUserPool, username: str) -> None:
    """Only the newest code of a user works: end their earlier EMAIL_OTP sessions."""
    for session, challenge in list(sv.CHALLENGES.items()):
        if challenge.pool_id == pool.id and challenge.username == username and challenge.name == "EMAIL_OTP":
            sv.end_challenge(session)


# --- RespondToAuthChallenge / AdminRespondToAuthChallenge ---------------------------------------------
def respond(
    pool: LocalUserPool,
    client: CognitoIdpUserPoolClient,
    name: str,
    session: str,
    challenge: sv.Challenge,
    responses: dict[str, str],
    after: AfterFirstFactor,
) -> dict[str, Any]:
    """Answer SELECT_CHALLENGE or EMAIL_OTP."""
    typed = str(challenge.data.get("typed", ""))
    user = pool.user(challenge.username) if challenge.data.get("known") else None
    given = _check_username(pool, responses.get("USERNAME"), typed, user)
    # The hash may be over the typed name, its lower-case e-mail form, or the USERNAME answered (it
    # names the session's user): a real user's session and a simulated one take the same hashes
    # (no existence oracle for the secret's holder), bar a stored e-mail's exact mixed case.
    typed_key = sv.unknown_name_key(typed)
    names = [typed, typed_key, given, *([user.username, sv.user_email(user)] if user is not None else [])]
    sv.check_secret_hash(client, names, responses.get("SECRET_HASH"))
    if name != challenge.name:
        raise InvalidParameterException(f"Unexpected challenge {name}; expected {challenge.name}")
    if name == "SELECT_CHALLENGE":
        answer = responses.get("ANSWER", "")
        if answer not in first_factors(pool):
            raise InvalidParameterException(f"ANSWER must be one of {', '.join(first_factors(pool))}")
        sv.end_challenge(session, spent=True)
        return _factor(pool, client, typed, answer, responses, after)
    code = responses.get("EMAIL_OTP_CODE")
    return after(pool, client, verify_code(pool, session, challenge, code))


def verify_code(pool: LocalUserPool, session: str, challenge: sv.Challenge, code: object) -> CognitoIdpUser:
    """Check an EMAIL_OTP session's code (lockout, 5 tries, expiry, single use); its user."""
    user = pool.user(challenge.username) if challenge.data.get("known") else None
    sv.check_challenge_code(session, challenge, user, _code_check(session, challenge), code)  # type: ignore[arg-type]
    sv.end_challenge(session, spent=True)
    if user is None:  # a simulated session has no code: the check above always refuses
        raise NotAuthorizedError("Invalid session for the user.")
    # Since the code was sent the user may have been disabled, reset (AdminResetUserPassword), lost
    # their verified e-mail or changed it: the rules that let a code be sent must still hold.
    problem = _refusal(user)
    if problem is None and sv.user_email(user) != challenge.data.get("sent_to"):
        problem = NotAuthorizedError("Invalid session for the user.")
    if problem is not None:
        raise problem
    return user


def _check_username(pool: LocalUserPool, given: object, typed: str, user: CognitoIdpUser | None) -> str:
    """ChallengeResponses.USERNAME is required and must name the session's user; the name given.

    A simulated session accepts the names find_user would take for one user (an e-mail in any
    case), as a real user's does: otherwise "alice@x" after "Alice@x" tells who exists.
    """
    if not isinstance(given, str) or not given:
        raise InvalidParameterException("Missing required parameter USERNAME")
    if user is not None:
        same = given == typed or sv.find_user(pool, given) is user
    else:
        same = sv.unknown_name_key(given) == sv.unknown_name_key(typed)
    if not same:
        raise NotAuthorizedError("Invalid session for the user.")
    return given


def _code_check(session: str, challenge: sv.Challenge) -> Callable[[object, object], None]:
    """The EMAIL_OTP_CODE check for check_challenge_code: expired, then wrong (counted), else passes."""

    def check(_user: object, code: object) -> None:
        if clock.now() >= float(challenge.data.get("code_expires", 0)):
            sv.end_challenge(session)
            raise ExpiredCodeException("Invalid code provided, please request a code again.")
        expected = challenge.data.get("code")
        if not expected or not isinstance(code, str) or not hmac.compare_digest(expected, code.strip()):
            raise CodeMismatchException("Invalid code received for user")

    return check
