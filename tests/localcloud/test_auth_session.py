"""Sign-in challenge sessions live the app client's AuthSessionValidity (minutes, 3-15, default 3).

Every Session localcloud hands out (InitiateAuth / AdminInitiateAuth challenges, USER_AUTH's
SELECT_CHALLENGE and EMAIL_OTP, the hosted UI's MFA / new-password / e-mailed-code steps) ends that
long after it was issued: the API answers NotAuthorizedException "Invalid session for the user,
session is expired.", the hosted pages say the sign-in took too long and keep the e-mail. Time is
moved with the fault switch's AdvanceClock (localcloud/clock.py), never slept: forward only, so a
test ends its own sessions early and can revive nobody's.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.localcloud import (
    ADMIN,
    ALICE,
    Stack,
    authorize_params,
    fault_request,
    form_of,
    mfa_user,
    signed_json_call,
    stack_sign_in,
    submit,
)

EXPIRED = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
USED_ONCE = ("NotAuthorizedException", "Invalid session for the user, session can only be used once.")
NOT_YOURS = ("NotAuthorizedException", "Invalid session for the user.")
# How far either side of a session's end the tests look (real time passes between the calls).
MARGIN = 15
TOOK_TOO_LONG = "Your sign-in took too long"
FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]


def outcome(call: Callable[[], Any]) -> tuple[str, str]:
    """(error code, message) of a refused call; ("OK", "") when it succeeded."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"]), str(exc.response["Error"]["Message"])
    return "OK", ""


def range_error(value: int, bound: str) -> tuple[str, str]:
    """AWS's answer to an AuthSessionValidity out of 3-15."""
    return (
        "InvalidParameterException",
        f"1 validation error detected: Value '{value}' at 'authSessionValidity' failed to satisfy "
        f"constraint: Member must have value {bound}",
    )


def raw_idp_call(stack: Stack, operation: str, params: dict[str, Any]) -> requests.Response:
    """A signed cognito-idp call with any JSON body (boto3 never sends a null)."""
    keys = (stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"])
    target = f"AWSCognitoIdentityProviderService.{operation}"
    return signed_json_call(stack.base, target, params, keys, service="cognito-idp")


@pytest.fixture
def new_client(stack: Stack) -> Iterator[Callable[..., dict[str, Any]]]:
    """new_client(**CreateUserPoolClient parameters) → a public client of the stack's pool (deleted after)."""
    idp, made = stack.idp(), []

    def make(**params: Any) -> dict[str, Any]:
        client = idp.create_user_pool_client(
            UserPoolId=stack.pool_id, ClientName=f"session-{secrets.token_hex(4)}", GenerateSecret=False,
            ExplicitAuthFlows=FLOWS, **params,
        )["UserPoolClient"]  # fmt: skip
        made.append(client["ClientId"])
        return dict(client)

    yield make
    for client_id in made:
        idp.delete_user_pool_client(UserPoolId=stack.pool_id, ClientId=client_id)


@pytest.fixture
def clock(stack: Stack) -> Callable[[float], float]:
    """clock(seconds): move the stack's challenge clock forward (AdvanceClock); the total offset."""
    return stack.faults().advance_clock


# --- the client setting --------------------------------------------------------------------------------
def test_clients_take_check_and_return_auth_session_validity(stack: Stack, new_client: Callable) -> None:
    idp, unchecked = stack.idp(), stack.idp(validate=False)
    assert new_client()["AuthSessionValidity"] == 3  # Cognito's default
    client = new_client(AuthSessionValidity=7)
    assert client["AuthSessionValidity"] == 7
    ids = {"UserPoolId": stack.pool_id, "ClientId": client["ClientId"]}
    assert idp.describe_user_pool_client(**ids)["UserPoolClient"]["AuthSessionValidity"] == 7
    updated = idp.update_user_pool_client(**ids, AuthSessionValidity=15, ExplicitAuthFlows=FLOWS)
    assert updated["UserPoolClient"]["AuthSessionValidity"] == 15
    # Out of 3-15: AWS's InvalidParameterException and wording (boto3 checks the minimum itself,
    # so the unchecked client sends what another SDK or a raw call could).
    for value, bound in ((2, "greater than or equal to 3"), (0, "greater than or equal to 3"),
                         (16, "less than or equal to 15"), (1440, "less than or equal to 15")):  # fmt: skip
        create = lambda v=value: unchecked.create_user_pool_client(  # noqa: E731
            UserPoolId=stack.pool_id, ClientName="never-made", AuthSessionValidity=v
        )
        assert outcome(create) == range_error(value, bound)
        assert outcome(lambda v=value: unchecked.update_user_pool_client(**ids, AuthSessionValidity=v)) == (
            range_error(value, bound)
        )
    for wrong_type in ("5", True, 5.5):
        code, _ = outcome(
            lambda v=wrong_type: unchecked.update_user_pool_client(**ids, AuthSessionValidity=v)
        )
        assert code == "SerializationException", wrong_type
    assert idp.describe_user_pool_client(**ids)["UserPoolClient"]["AuthSessionValidity"] == 15
    # As on AWS, an update that leaves it out puts it back to the default.
    reset = idp.update_user_pool_client(**ids, ExplicitAuthFlows=FLOWS)["UserPoolClient"]
    assert reset["AuthSessionValidity"] == 3
    names = [c["ClientName"] for c in idp.list_user_pool_clients(UserPoolId=stack.pool_id)["UserPoolClients"]]
    assert "never-made" not in names
    # The seeded clients state it (localcloud/config.json, as infra/template.yaml).
    for client_id in (stack.client_id, stack.spa_client_id):
        seeded = idp.describe_user_pool_client(UserPoolId=stack.pool_id, ClientId=client_id)
        assert seeded["UserPoolClient"]["AuthSessionValidity"] == 3


def test_a_json_null_session_validity_is_the_default(stack: Stack, new_client: Callable) -> None:
    """AWS reads a JSON null as a member left out: 3 minutes, on create and on update alike."""
    client = new_client(AuthSessionValidity=7)
    ids = {"UserPoolId": stack.pool_id, "ClientId": client["ClientId"]}
    name = f"null-{secrets.token_hex(4)}"
    made = raw_idp_call(
        stack,
        "CreateUserPoolClient",
        {"UserPoolId": stack.pool_id, "ClientName": name, "AuthSessionValidity": None},
    )
    assert made.status_code == HTTPStatus.OK, made.text
    created = made.json()["UserPoolClient"]
    assert created["AuthSessionValidity"] == 3
    stack.idp().delete_user_pool_client(UserPoolId=stack.pool_id, ClientId=created["ClientId"])
    updated = raw_idp_call(stack, "UpdateUserPoolClient", {**ids, "AuthSessionValidity": None})
    assert updated.status_code == HTTPStatus.OK, updated.text
    assert updated.json()["UserPoolClient"]["AuthSessionValidity"] == 3
    described = stack.idp().describe_user_pool_client(**ids)["UserPoolClient"]
    assert described["AuthSessionValidity"] == 3


# --- the API's sessions ----------------------------------------------------------------------------------
def _invited(stack: Stack) -> tuple[str, str]:
    """A user with a temporary password (NEW_PASSWORD_REQUIRED at sign-in): (email, temporary password)."""
    email = f"invited-{secrets.token_hex(4)}@example.com"
    stack.idp().admin_create_user(UserPoolId=stack.pool_id, Username=email)
    return email, stack.latest_code(email)


def _challenge(stack: Stack, kind: str, client_id: str, new_stack_user: Callable) -> dict[str, Any]:
    """A challenge of `kind` for a fresh user through a public client, with a `probe` and an `answer`.

    probe(session) makes a wrong answer that a live session refuses as wrong (not as expired) and
    that does not end it; answer(session) is the right one.
    """
    idp = stack.idp()

    def respond(session: str, **responses: str) -> Any:
        return idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=kind, Session=session,
            ChallengeResponses={"USERNAME": email, **responses},
        )  # fmt: skip

    if kind == "NEW_PASSWORD_REQUIRED":
        email, temporary = _invited(stack)
        started = idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": temporary},
        )  # fmt: skip
        probe = lambda s: respond(s, NEW_PASSWORD="weak")  # noqa: E731
        answer = lambda s: respond(s, NEW_PASSWORD="Chosen-pass-1")  # noqa: E731
        wrong = "InvalidPasswordException"
    elif kind == "SOFTWARE_TOKEN_MFA":
        email, password, totp = mfa_user(stack, new_stack_user)
        started = idp.admin_initiate_auth(
            UserPoolId=stack.pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )  # fmt: skip
        probe = lambda s: respond(s, SOFTWARE_TOKEN_MFA_CODE=_wrong(totp))  # noqa: E731
        answer = lambda s: respond(s, SOFTWARE_TOKEN_MFA_CODE=totp.now())  # noqa: E731
        wrong = "CodeMismatchException"
    else:  # USER_AUTH: SELECT_CHALLENGE, or EMAIL_OTP (a code sent)
        email, password = new_stack_user()
        preferred = {"PREFERRED_CHALLENGE": "EMAIL_OTP"} if kind == "EMAIL_OTP" else {}
        started = idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": email, **preferred}
        )
        if kind == "EMAIL_OTP":
            code = stack.sign_in_codes(email)[0]
            probe = lambda s: respond(s, EMAIL_OTP_CODE=str((int(code) + 1) % 1_000_000).zfill(6))  # noqa: E731
            answer = lambda s: respond(s, EMAIL_OTP_CODE=code)  # noqa: E731
            wrong = "CodeMismatchException"
        else:
            probe = lambda s: respond(s, ANSWER="WEB_AUTHN")  # noqa: E731
            answer = lambda s: respond(s, ANSWER="PASSWORD", PASSWORD=password)  # noqa: E731
            wrong = "InvalidParameterException"
    assert started["ChallengeName"] == kind
    return {"session": started["Session"], "probe": probe, "answer": answer, "wrong": wrong, "email": email}


def _wrong(totp: pyotp.TOTP) -> str:
    """A code the authenticator does not show (now or a step either side)."""
    near = {totp.at(time.time() + step * totp.interval) for step in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


KINDS = ["NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA", "SELECT_CHALLENGE", "EMAIL_OTP"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_api_session_lives_exactly_the_clients_validity(
    stack: Stack, new_client: Callable, new_stack_user: Callable, clock: Callable, kind: str
) -> None:
    client_id = new_client(AuthSessionValidity=7)["ClientId"]
    challenge = _challenge(stack, kind, client_id, new_stack_user)
    session = challenge["session"]
    # Past Cognito's default 3 minutes, short of this client's 7: still the step's own answers.
    clock(7 * 60 - MARGIN)
    assert outcome(lambda: challenge["probe"](session))[0] == challenge["wrong"]
    # Past the 7 minutes: the right answer is refused as AWS refuses it, and stays refused.
    clock(2 * MARGIN)
    assert outcome(lambda: challenge["answer"](session)) == EXPIRED
    assert outcome(lambda: challenge["answer"](session)) == EXPIRED


@pytest.mark.parametrize("minutes", [None, 15])
def test_the_default_and_the_longest_validity_are_honoured(
    stack: Stack, new_client: Callable, clock: Callable, minutes: int | None
) -> None:
    client_id = new_client(**({"AuthSessionValidity": minutes} if minutes else {}))["ClientId"]
    seconds = (minutes or 3) * 60
    idp = stack.idp()
    email, temporary = _invited(stack)

    def new_password(session: str, password: str) -> Any:
        return idp.admin_respond_to_auth_challenge(
            UserPoolId=stack.pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session, ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": password},
        )  # fmt: skip

    def start() -> str:
        return str(idp.admin_initiate_auth(
            UserPoolId=stack.pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": temporary},
        )["Session"])  # fmt: skip

    late = start()
    clock(seconds - MARGIN)
    on_time = start()
    assert outcome(lambda: new_password(late, "weak"))[0] == "InvalidPasswordException"
    clock(2 * MARGIN)
    assert outcome(lambda: new_password(late, "Chosen-pass-1")) == EXPIRED
    # A session issued later has its own full lifetime.
    assert outcome(lambda: new_password(on_time, "Chosen-pass-1")) == ("OK", "")


def test_a_session_is_bound_to_its_client_and_its_user(
    stack: Stack, new_client: Callable, new_stack_user: Callable
) -> None:
    client_id = new_client(AuthSessionValidity=5)["ClientId"]
    other_client = new_client(AuthSessionValidity=5)["ClientId"]
    idp = stack.idp()
    email, temporary = _invited(stack)
    other_user, _ = new_stack_user()
    session = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": temporary},
    )["Session"]

    def respond(client: str, responses: dict[str, str], admin: bool = False, pool: str = "") -> Any:
        call = idp.admin_respond_to_auth_challenge if admin else idp.respond_to_auth_challenge
        extra = {"UserPoolId": pool or stack.pool_id} if admin else {}
        return call(
            ClientId=client, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
            ChallengeResponses={**responses, "NEW_PASSWORD": "Chosen-pass-1"}, **extra,
        )  # fmt: skip

    mine = {"USERNAME": email}
    # Another client of the same pool (public, or the confidential web client with a valid hash).
    assert outcome(lambda: respond(other_client, mine)) == NOT_YOURS
    web = {**mine, "SECRET_HASH": stack.secret_hash(email)}
    assert outcome(lambda: respond(stack.client_id, web)) == NOT_YOURS
    assert outcome(lambda: respond(stack.client_id, web, admin=True)) == NOT_YOURS
    # Another user, by name or in another case of their e-mail; no user at all.
    assert outcome(lambda: respond(client_id, {"USERNAME": other_user})) == NOT_YOURS
    assert outcome(lambda: respond(client_id, {"USERNAME": other_user.upper()})) == NOT_YOURS
    assert outcome(lambda: respond(client_id, {"USERNAME": "nobody@example.com"})) == NOT_YOURS
    assert outcome(lambda: respond(client_id, {})) == (
        "InvalidParameterException",
        "Missing required parameter USERNAME",
    )
    # AdminRespondToAuthChallenge names the pool too: another pool's id is refused.
    assert outcome(lambda: respond(client_id, mine, admin=True, pool="us-east-1_AAAAAAAAA"))[0] == (
        "ResourceNotFoundException"
    )
    # None of that used the session up: its own user, in any case of the e-mail, completes it.
    done = respond(client_id, {"USERNAME": email.upper()})
    assert done["AuthenticationResult"]["AccessToken"]


# --- the hosted UI's steps -------------------------------------------------------------------------------
def _login_field(page: requests.Response) -> str:
    """The value the sign-in page's e-mail field is filled with."""
    match = re.search(r'<input id="signInFormUsername"[^>]* value="([^"]*)"', page.text)
    assert match, page.text
    return match.group(1)


def test_the_hosted_mfa_step_ends_with_the_session_and_keeps_the_email(
    stack: Stack, new_stack_user: Callable, clock: Callable
) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    # The web client's 3 minutes (the seed's AuthSessionValidity): in time, the code signs in.
    browser, page, _ = stack_sign_in(stack, email, password)
    assert 'name="code"' in page.text
    clock(3 * 60 - MARGIN)
    assert submit(browser, stack, page, code=totp.now()).status_code == HTTPStatus.FOUND
    # Too late: the sign-in page again, saying why, with the e-mail filled in; no code issued.
    browser, page, _ = stack_sign_in(stack, email, password)
    clock(3 * 60 + MARGIN)
    late = submit(browser, stack, page, code=totp.at(time.time() + totp.interval))
    # Refused as every hosted form refuses (400), as /passwordless's code step does too.
    assert late.status_code == HTTPStatus.BAD_REQUEST, late.headers.get("Location")
    assert TOOK_TOO_LONG in late.text and "within 3 minutes" in late.text
    assert 'name="password"' in late.text and _login_field(late) == email
    # Starting again works.
    again = submit(browser, stack, late, username=email, password=password)
    assert 'name="code"' in again.text
    done = submit(browser, stack, again, code=totp.at(time.time() + totp.interval))
    assert done.status_code == HTTPStatus.FOUND and "code=" in done.headers["Location"]


def test_the_hosted_new_password_step_ends_with_the_session(stack: Stack, clock: Callable) -> None:
    email, temporary = _invited(stack)
    browser, page, _ = stack_sign_in(stack, email, temporary)
    assert 'name="password2"' in page.text
    clock(3 * 60 + MARGIN)
    late = submit(browser, stack, page, password="Chosen-pass-1", password2="Chosen-pass-1")
    assert late.status_code == HTTPStatus.BAD_REQUEST
    assert TOOK_TOO_LONG in late.text and _login_field(late) == email
    # The temporary password still stands: nothing was changed by the late answer.
    again = submit(browser, stack, late, username=email, password=temporary)
    assert 'name="password2"' in again.text


def test_the_hosted_email_code_step_ends_with_the_session(stack: Stack, clock: Callable) -> None:
    email = ALICE[0]
    browser = requests.Session()
    ask = browser.get(f"{stack.base}/passwordless", params=authorize_params(stack), timeout=5)
    assert ask.status_code == HTTPStatus.OK
    page = submit(browser, stack, ask, username=email)
    code = stack.sign_in_codes(email)[0]
    clock(3 * 60 + MARGIN)
    late = submit(browser, stack, page, code=code)
    assert late.status_code == HTTPStatus.BAD_REQUEST
    assert TOOK_TOO_LONG in late.text and f'value="{email}"' in late.text
    assert "code=" not in late.headers.get("Location", "")


def test_a_step_whose_session_never_was_says_so_plainly(stack: Stack) -> None:
    browser = requests.Session()
    login = browser.get(f"{stack.base}/login", params=authorize_params(stack), timeout=5)
    assert login.status_code == HTTPStatus.OK
    action, hidden = form_of(login.text)
    fields = {**hidden, "step": "mfa", "session": "made-up", "code": "123456", "username": ALICE[0]}
    made_up = browser.post(stack.base + action, data=fields, allow_redirects=False, timeout=5)
    assert made_up.status_code == HTTPStatus.BAD_REQUEST
    assert "Your session has expired. Please sign in again." in made_up.text
    assert TOOK_TOO_LONG not in made_up.text and _login_field(made_up) == ALICE[0]


# --- the clock itself ------------------------------------------------------------------------------------
def test_advance_clock_is_the_operators_and_only_goes_forward(stack: Stack) -> None:
    keys = (stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"])
    unsigned = fault_request(stack.base, "AdvanceClock", {"Seconds": 60}, None)
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    forged = fault_request(stack.base, "AdvanceClock", {"Seconds": 60}, (keys[0], "x" * 40))
    assert forged.json()["__type"] == "InvalidSignatureException"
    for params in ({"Seconds": -1}, {"Seconds": 86401}, {"Seconds": "60"}, {}, {"Seconds": 1, "Back": True}):
        refused = fault_request(stack.base, "AdvanceClock", params, keys)
        assert refused.status_code == HTTPStatus.BAD_REQUEST, params
        assert refused.json()["__type"] == "InvalidParameterException", params
    before = fault_request(stack.base, "AdvanceClock", {"Seconds": 0}, keys).json()["OffsetSeconds"]
    after = fault_request(stack.base, "AdvanceClock", {"Seconds": 1.5}, keys).json()["OffsetSeconds"]
    assert after == before + 1.5
    # ClearFaults leaves it where it is.
    stack.faults().clear()
    assert fault_request(stack.base, "AdvanceClock", {"Seconds": 0}, keys).json()["OffsetSeconds"] == after


def test_each_mfa_set_up_call_hands_out_a_new_session_with_a_full_lifetime(
    private_stack: Callable[..., Stack],
) -> None:
    """MFA ON: the password leads to MFA_SETUP. As on AWS, AssociateSoftwareToken and
    VerifySoftwareToken each answer with a new Session that lives the client's AuthSessionValidity
    from then on, and the one they were given is dead; the hosted set-up page has the same lifetime."""
    running = private_stack(user_pool={"MfaConfiguration": "ON"}, extra=("--faults",))
    clock, idp = running.faults().advance_clock, running.idp()
    email, password = ALICE

    def sign_in() -> str:
        auth = {"USERNAME": email, "PASSWORD": password, "SECRET_HASH": running.secret_hash(email)}
        started = idp.initiate_auth(
            ClientId=running.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth
        )
        assert started["ChallengeName"] == "MFA_SETUP"
        return str(started["Session"])

    username = email  # the seed's users are named by their e-mail

    def respond(session: str) -> Any:
        return idp.respond_to_auth_challenge(
            ClientId=running.client_id, ChallengeName="MFA_SETUP", Session=session,
            ChallengeResponses={"USERNAME": username, "SECRET_HASH": running.secret_hash(username)},
        )  # fmt: skip

    # A new session lives the web client's 3 minutes, no longer.
    associated = idp.associate_software_token(Session=sign_in())
    clock(3 * 60 + MARGIN)
    late = pyotp.TOTP(associated["SecretCode"]).now()
    assert outcome(lambda: idp.verify_software_token(Session=associated["Session"], UserCode=late)) == EXPIRED
    # Each call comes just short of 3 minutes after the last: the whole set-up takes longer than
    # one session lives, and every step is on time.
    first = sign_in()
    clock(3 * 60 - MARGIN)
    associated = idp.associate_software_token(Session=first)
    second, totp = associated["Session"], pyotp.TOTP(associated["SecretCode"])
    assert second != first
    assert outcome(lambda: idp.associate_software_token(Session=first)) == EXPIRED
    clock(3 * 60 - MARGIN)
    verified = idp.verify_software_token(Session=second, UserCode=totp.now())
    third = verified["Session"]
    assert verified["Status"] == "SUCCESS" and third not in (first, second)
    for dead in (first, second):
        assert outcome(lambda s=dead: idp.verify_software_token(Session=s, UserCode=totp.now())) == EXPIRED
        assert outcome(lambda s=dead: respond(s)) == EXPIRED
    clock(3 * 60 - MARGIN)
    assert respond(third)["AuthenticationResult"]["AccessToken"]
    assert outcome(lambda: respond(third)) == USED_ONCE  # used up
    # The hosted set-up page (the admin user has no TOTP either).
    admin_email, admin_password = ADMIN
    browser, page, _ = stack_sign_in(running, admin_email, admin_password)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret, page.text
    clock(3 * 60 + MARGIN)
    late = submit(browser, running, page, code=pyotp.TOTP(secret.group(1)).now())
    assert late.status_code == HTTPStatus.BAD_REQUEST
    assert TOOK_TOO_LONG in late.text and _login_field(late) == admin_email
