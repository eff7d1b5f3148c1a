"""Choice-based sign-in (``AuthFlow: USER_AUTH``) with one-time e-mail codes (``EMAIL_OTP``).

moto has no USER_AUTH; this is Cognito's wire flow (../shared/cognito-reference-2.md §4.2):
InitiateAuth ``USER_AUTH`` → ``SELECT_CHALLENGE`` (``AvailableChallenges``), or straight to the
factor named by ``AuthParameters.PREFERRED_CHALLENGE``; ``SELECT_CHALLENGE`` answered with
``ANSWER: EMAIL_OTP`` → ``EMAIL_OTP`` (a code in the outbox) answered with ``EMAIL_OTP_CODE``; or
``ANSWER: PASSWORD`` with ``PASSWORD`` (one step). Needs ``EMAIL_OTP`` in the pool's
``Policies.SignInPolicy.AllowedFirstAuthFactors`` and ``ALLOW_USER_AUTH`` on the client.

Security: a code is single use, lives ``code_seconds`` (at most the session's 3 minutes), and only
the newest code of a user works; every wrong code counts toward the password lockout (lockout.py)
and a session dies after 5 of them. With ``PreventUserExistenceErrors: ENABLED`` a name that cannot
receive a code (unknown, disabled, unconfirmed, no verified e-mail) gets the same answers as a real
user — a session, a masked destination, "wrong code" — and nothing is sent.
"""

from __future__ import annotations

import hmac
import secrets
import time
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

from localcloud import outbox
from localcloud.userpool import services as sv
from localcloud.userpool.lockout import LOCKOUT
from localcloud.userpool.models import LocalUserPool

# The first factors localcloud can check (PASSWORD_SRP, SMS_OTP and WEB_AUTHN are not emulated).
FACTORS = ("PASSWORD", "EMAIL_OTP")
CHALLENGES = frozenset({"SELECT_CHALLENGE", "EMAIL_OTP"})
# How long an e-mailed sign-in code is valid; never longer than its session (sv.CHALLENGE_LIFETIME).
CODE_SECONDS = sv.CHALLENGE_LIFETIME
_settings = {"code_seconds": CODE_SECONDS}

# Tokens, or the next challenge, once a first factor has passed (api._after_first_factor).
AfterFirstFactor = Callable[[LocalUserPool, CognitoIdpUserPoolClient, CognitoIdpUser], dict[str, Any]]


def configure(code_seconds: int | None) -> None:
    """Set the code lifetime from the config (tests shorten it; 0 makes every code expired)."""
    _settings["code_seconds"] = min(CODE_SECONDS, CODE_SECONDS if code_seconds is None else int(code_seconds))


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
    problem: Exception | None = None
    if user is None:
        problem = UserNotFoundError("User does not exist.")
    elif not user.enabled:
        problem = NotAuthorizedError("User is disabled.")
    elif user.status is UserStatus.UNCONFIRMED:
        problem = UserNotConfirmedException("User is not confirmed.")
    elif user.status is UserStatus.RESET_REQUIRED:
        problem = sv.error("PasswordResetRequiredException", "Password reset required for the user")
    elif user.attribute_lookup.get("email_verified") != "true":
        # A code proves control of an address only if the address was ever proven to be theirs.
        problem = InvalidParameterException("The user has no verified email to send a code to.")
    if problem is None:
        return user
    if hide:
        return None
    raise problem


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
    session = _start(pool, client, name, sv.find_user(pool, name), "SELECT_CHALLENGE")
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
    # The address as typed (case and all), so a real user's answer and a simulated one look alike.
    destination = sv.mask(name if "@" in name or user is None else sv.user_email(user))
    _forget_older_codes(pool, _lockout_name(pool, name))
    session = _start(
        pool, client, name, user, "EMAIL_OTP",
        code=code if user is not None else None, code_expires=time.time() + _settings["code_seconds"],
        destination=destination,
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
    names = [typed, *([user.username, sv.user_email(user)] if user is not None else [])]
    sv.check_secret_hash(client, names, responses.get("SECRET_HASH"))
    _check_username(pool, responses.get("USERNAME"), typed, user)
    if name != challenge.name:
        raise InvalidParameterException(f"Unexpected challenge {name}; expected {challenge.name}")
    if name == "SELECT_CHALLENGE":
        answer = responses.get("ANSWER", "")
        if answer not in first_factors(pool):
            raise InvalidParameterException(f"ANSWER must be one of {', '.join(first_factors(pool))}")
        sv.end_challenge(session)
        return _factor(pool, client, typed, answer, responses, after)
    code = responses.get("EMAIL_OTP_CODE")
    return after(pool, client, verify_code(pool, session, challenge, code))


def verify_code(pool: LocalUserPool, session: str, challenge: sv.Challenge, code: object) -> CognitoIdpUser:
    """Check an EMAIL_OTP session's code (lockout, 5 tries, expiry, single use); its user."""
    user = pool.user(challenge.username) if challenge.data.get("known") else None
    sv.check_challenge_code(session, challenge, user, _code_check(session, challenge), code)  # type: ignore[arg-type]
    sv.end_challenge(session)
    if user is None:  # a simulated session has no code: the check above always refuses
        raise NotAuthorizedError("Invalid session for the user.")
    if not user.enabled:  # disabled since the code was sent
        raise NotAuthorizedError("User is disabled.")
    return user


def _check_username(pool: LocalUserPool, given: object, typed: str, user: CognitoIdpUser | None) -> None:
    """ChallengeResponses.USERNAME is required and must name the session's user."""
    if not isinstance(given, str) or not given:
        raise InvalidParameterException("Missing required parameter USERNAME")
    same = given == typed or (user is not None and sv.find_user(pool, given) is user)
    if not same:
        raise NotAuthorizedError("Invalid session for the user.")


def _code_check(session: str, challenge: sv.Challenge) -> Callable[[object, object], None]:
    """The EMAIL_OTP_CODE check for check_challenge_code: expired, then wrong (counted), else passes."""

    def check(_user: object, code: object) -> None:
        if time.time() >= float(challenge.data.get("code_expires", 0)):
            sv.end_challenge(session)
            raise ExpiredCodeException("Invalid code provided, please request a code again.")
        expected = challenge.data.get("code")
        if not expected or not isinstance(code, str) or not hmac.compare_digest(expected, code.strip()):
            raise CodeMismatchException("Invalid code received for user")

    return check
