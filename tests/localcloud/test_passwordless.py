"""One-time e-mail code sign-in: InitiateAuth USER_AUTH → SELECT_CHALLENGE / EMAIL_OTP → tokens.

Every refusal Cognito makes (cognito-reference-2.md §4): the client without ALLOW_USER_AUTH, a
factor the pool does not allow, wrong, expired and reused codes, older codes, five wrong codes,
the lockout, SECRET_HASH, and PreventUserExistenceErrors (no code, same answers, for non-users).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.localcloud import ALICE, Stack, mfa_user

EXCEEDED = "Password attempts exceeded"


def auth(stack: Stack, email: str, client_id: str | None = None, **params: str) -> dict[str, Any]:
    """InitiateAuth USER_AUTH (SECRET_HASH added for the web client)."""
    client_id = client_id or stack.client_id
    parameters = {"USERNAME": email, **params}
    if client_id == stack.client_id:
        parameters["SECRET_HASH"] = stack.secret_hash(email)
    return stack.idp().initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters=parameters)


def respond(stack: Stack, name: str, session: str, email: str, **answers: str) -> dict[str, Any]:
    """RespondToAuthChallenge for the web client."""
    responses = {"USERNAME": email, "SECRET_HASH": stack.secret_hash(email), **answers}
    return stack.idp().respond_to_auth_challenge(
        ClientId=stack.client_id, ChallengeName=name, Session=session, ChallengeResponses=responses
    )


def email_otp(stack: Stack, email: str) -> str:
    """An EMAIL_OTP session for email (through PREFERRED_CHALLENGE)."""
    result = auth(stack, email, PREFERRED_CHALLENGE="EMAIL_OTP")
    assert result["ChallengeName"] == "EMAIL_OTP"
    return str(result["Session"])


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """(code, message) a boto3 call fails with."""
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def wrong(code: str) -> str:
    """A six-digit code that is not code."""
    return "000000" if code != "000000" else "111111"


# --- the happy paths ------------------------------------------------------------------------------
def test_select_challenge_then_an_emailed_code_signs_in(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    first = auth(stack, email)
    assert first["ChallengeName"] == "SELECT_CHALLENGE"
    assert first["AvailableChallenges"] == ["PASSWORD", "EMAIL_OTP"]
    assert stack.sign_in_codes(email) == []  # nothing is sent before the user picks the factor

    second = respond(stack, "SELECT_CHALLENGE", first["Session"], email, ANSWER="EMAIL_OTP")
    assert second["ChallengeName"] == "EMAIL_OTP"
    assert second["ChallengeParameters"] == {
        "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
        "CODE_DELIVERY_DESTINATION": f"{email[0]}***@e***",
    }
    assert second["Session"] != first["Session"]
    [code] = stack.sign_in_codes(email)

    tokens = respond(stack, "EMAIL_OTP", second["Session"], email, EMAIL_OTP_CODE=code)[
        "AuthenticationResult"
    ]
    assert stack.verify(tokens["IdToken"], "id")["email"] == email
    assert stack.verify(tokens["AccessToken"], "access")["username"]
    assert tokens["RefreshToken"]


def test_preferred_challenge_goes_straight_to_the_factor(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    assert "AuthenticationResult" in respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)

    # PASSWORD with the password: tokens at once; a wrong one is the usual answer.
    result = auth(stack, email, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=password)
    assert stack.verify(result["AuthenticationResult"]["AccessToken"], "access")
    assert error_of(lambda: auth(stack, email, PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Wrong-pass-1")) == (
        "NotAuthorizedException",
        "Incorrect username or password.",
    )
    # And as the answer to SELECT_CHALLENGE, in one step.
    session = auth(stack, email)["Session"]
    result = respond(stack, "SELECT_CHALLENGE", session, email, ANSWER="PASSWORD", PASSWORD=password)
    assert "AccessToken" in result["AuthenticationResult"]


def test_the_public_client_signs_in_with_a_code_and_no_secret(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    result = auth(stack, email, client_id=stack.spa_client_id, PREFERRED_CHALLENGE="EMAIL_OTP")
    code = stack.sign_in_codes(email)[0]
    tokens = stack.idp().respond_to_auth_challenge(
        ClientId=stack.spa_client_id, ChallengeName="EMAIL_OTP", Session=result["Session"],
        ChallengeResponses={"USERNAME": email, "EMAIL_OTP_CODE": code},
    )["AuthenticationResult"]  # fmt: skip
    assert stack.verify(tokens["IdToken"], "id", client_id=stack.spa_client_id)["email"] == email
    assert stack.verify(tokens["AccessToken"], "access", client_id=stack.spa_client_id)["scope"]


def test_a_user_with_totp_still_needs_the_authenticator_after_the_code(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, _, totp = mfa_user(stack, new_stack_user)
    session = email_otp(stack, email)
    result = respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=stack.sign_in_codes(email)[0])
    assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    tokens = respond(
        stack, "SOFTWARE_TOKEN_MFA", result["Session"], email, SOFTWARE_TOKEN_MFA_CODE=totp.now()
    )
    assert "AccessToken" in tokens["AuthenticationResult"]


# --- codes: wrong, expired, reused, replaced, five tries ------------------------------------------
def test_a_wrong_code_is_refused_and_the_right_one_still_works(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, _ = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=wrong(code)))[0] == (
        "CodeMismatchException"
    )
    assert "AuthenticationResult" in respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)


def test_a_code_is_single_use(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)
    # Cognito's answer to a reused session (seen on AWS for EMAIL_OTP), not "session is expired".
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)) == (
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    )
    # Nor does it open a new session: that one has its own code.
    again = email_otp(stack, email)
    if stack.sign_in_codes(email)[0] != code:  # (one chance in a million that it is the same)
        assert error_of(lambda: respond(stack, "EMAIL_OTP", again, email, EMAIL_OTP_CODE=code))[0] == (
            "CodeMismatchException"
        )


def test_only_the_newest_code_works(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    old_session = email_otp(stack, email)
    old_code = stack.sign_in_codes(email)[0]
    new_session = email_otp(stack, email)
    new_code = stack.sign_in_codes(email)[0]
    assert error_of(lambda: respond(stack, "EMAIL_OTP", old_session, email, EMAIL_OTP_CODE=old_code)) == (
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    )
    assert "AuthenticationResult" in respond(stack, "EMAIL_OTP", new_session, email, EMAIL_OTP_CODE=new_code)


def test_five_wrong_codes_end_the_session(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    for _ in range(5):
        assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=wrong(code)))[
            0
        ] == ("CodeMismatchException")
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code))[0] == (
        "NotAuthorizedException"
    )


def test_wrong_codes_count_toward_the_password_lockout(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    for _ in range(4):
        error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=wrong(code)))
    before_fifth = time.monotonic()
    error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=wrong(code)))
    outcomes = (
        error_of(lambda: auth(stack, email, PREFERRED_CHALLENGE="EMAIL_OTP")),
        error_of(lambda: auth(stack, email, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=password)),
    )
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    # During the lockout no code is sent and the right password is refused too.
    assert outcomes == (("NotAuthorizedException", EXCEEDED), ("NotAuthorizedException", EXCEEDED))
    assert len(stack.sign_in_codes(email)) == 1


def test_an_expired_code_is_refused(private_stack: Callable[..., Stack]) -> None:
    stack = private_stack(passwordless={"code_seconds": 0})
    email = ALICE[0]
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)) == (
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    )
    # And the session is over: asking again with the same code does not get further.
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code))[0] == (
        "NotAuthorizedException"
    )


# --- what the pool and the client allow -----------------------------------------------------------
def test_a_client_without_allow_user_auth_is_refused(stack: Stack) -> None:
    client = stack.idp().create_user_pool_client(
        UserPoolId=stack.pool_id, ClientName="no-user-auth", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]  # fmt: skip
    assert error_of(lambda: auth(stack, ALICE[0], client_id=client["ClientId"])) == (
        "InvalidParameterException",
        "USER_AUTH flow not enabled for this client",
    )


def test_a_pool_that_allows_only_passwords_offers_no_code(private_stack: Callable[..., Stack]) -> None:
    policies = {
        "PasswordPolicy": {"MinimumLength": 8},
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]},
    }
    stack = private_stack(user_pool={"Policies": policies})
    email = ALICE[0]
    first = auth(stack, email)
    assert first["AvailableChallenges"] == ["PASSWORD"]
    assert (
        error_of(lambda: auth(stack, email, PREFERRED_CHALLENGE="EMAIL_OTP"))[0]
        == "InvalidParameterException"
    )
    assert (
        error_of(lambda: respond(stack, "SELECT_CHALLENGE", first["Session"], email, ANSWER="EMAIL_OTP"))[0]
        == "InvalidParameterException"
    )
    assert stack.sign_in_codes(email) == []


def test_secret_hash_is_required_of_the_web_client_and_refused_from_the_public_one(stack: Stack) -> None:
    email = ALICE[0]
    idp = stack.idp()
    assert (
        error_of(
            lambda: idp.initiate_auth(
                ClientId=stack.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": email}
            )
        )[0]
        == "NotAuthorizedException"
    )
    assert error_of(
        lambda: idp.initiate_auth(
            ClientId=stack.spa_client_id,
            AuthFlow="USER_AUTH",
            AuthParameters={"USERNAME": email, "SECRET_HASH": stack.secret_hash(email)},
        )  # fmt: skip
    ) == (
        "InvalidParameterException",
        f"Client {stack.spa_client_id} is not configured for secret but secret hash was received",
    )


def test_the_answer_must_name_the_sessions_user(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    session = email_otp(stack, email)
    code = stack.sign_in_codes(email)[0]
    other = ALICE[0]
    assert error_of(
        lambda: stack.idp().respond_to_auth_challenge(
            ClientId=stack.client_id,
            ChallengeName="EMAIL_OTP",
            Session=session,
            ChallengeResponses={
                "USERNAME": other,
                "EMAIL_OTP_CODE": code,
                "SECRET_HASH": stack.secret_hash(email),
            },
        )  # fmt: skip
    ) == ("NotAuthorizedException", "Invalid session for the user.")


# --- PreventUserExistenceErrors -------------------------------------------------------------------
def test_non_users_get_a_real_users_answers_and_no_code(stack: Stack, new_stack_user: Callable) -> None:
    unverified, _ = new_stack_user()
    stack.idp().admin_update_user_attributes(
        UserPoolId=stack.pool_id,
        Username=unverified,
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    disabled, _ = new_stack_user()
    stack.idp().admin_disable_user(UserPoolId=stack.pool_id, Username=disabled)
    real, _ = new_stack_user()
    # Typed in capitals, a real user's masked destination is that of an unknown address so typed.
    for typed in (real.upper(), "NOBODY-OTP@EXAMPLE.COM"):
        result = auth(stack, typed, PREFERRED_CHALLENGE="EMAIL_OTP")
        assert result["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"{typed[0]}***@E***", typed
    for email in ("nobody-otp@example.com", unverified, disabled):
        first = auth(stack, email)
        assert first["AvailableChallenges"] == ["PASSWORD", "EMAIL_OTP"], email
        second = respond(stack, "SELECT_CHALLENGE", first["Session"], email, ANSWER="EMAIL_OTP")
        assert second["ChallengeName"] == "EMAIL_OTP"
        assert second["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"{email[0]}***@e***"
        assert stack.sign_in_codes(email) == [], email
        session = second["Session"]
        for guess in ("000000", "123456"):
            assert error_of(
                lambda s=session, e=email, g=guess: respond(stack, "EMAIL_OTP", s, e, EMAIL_OTP_CODE=g)
            ) == (
                "CodeMismatchException",
                "Invalid code received for user",
            ), email


def test_without_prevent_user_existence_errors_unknown_users_are_told(stack: Stack) -> None:
    client = stack.idp().create_user_pool_client(
        UserPoolId=stack.pool_id, ClientName="legacy-errors", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="LEGACY",
    )["UserPoolClient"]  # fmt: skip
    assert error_of(
        lambda: auth(
            stack, "nobody-legacy@example.com", client_id=client["ClientId"], PREFERRED_CHALLENGE="EMAIL_OTP"
        )
    ) == ("UserNotFoundException", "User does not exist.")


def test_the_admin_calls_run_the_same_flow(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    idp = stack.idp()
    first = idp.admin_initiate_auth(
        UserPoolId=stack.pool_id, ClientId=stack.client_id, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": email, "SECRET_HASH": stack.secret_hash(email)},
    )  # fmt: skip
    assert first["ChallengeName"] == "SELECT_CHALLENGE"
    second = idp.admin_respond_to_auth_challenge(
        UserPoolId=stack.pool_id, ClientId=stack.client_id, ChallengeName="SELECT_CHALLENGE",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": email, "ANSWER": "EMAIL_OTP",
                            "SECRET_HASH": stack.secret_hash(email)},
    )  # fmt: skip
    tokens = idp.admin_respond_to_auth_challenge(
        UserPoolId=stack.pool_id, ClientId=stack.client_id, ChallengeName="EMAIL_OTP",
        Session=second["Session"],
        ChallengeResponses={"USERNAME": email, "EMAIL_OTP_CODE": stack.sign_in_codes(email)[0],
                            "SECRET_HASH": stack.secret_hash(email)},
    )  # fmt: skip
    assert "AccessToken" in tokens["AuthenticationResult"]


def test_a_session_of_another_client_or_step_is_refused(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    session = auth(stack, email, client_id=stack.spa_client_id, PREFERRED_CHALLENGE="EMAIL_OTP")["Session"]
    code = stack.sign_in_codes(email)[0]
    # The web client cannot finish the SPA client's sign-in.
    assert error_of(lambda: respond(stack, "EMAIL_OTP", session, email, EMAIL_OTP_CODE=code)) == (
        "NotAuthorizedException",
        "Invalid session for the user.",
    )
    # Nor can the code answer a challenge of another name.
    web_session = email_otp(stack, email)
    assert (
        error_of(
            lambda: respond(stack, "SOFTWARE_TOKEN_MFA", web_session, email, SOFTWARE_TOKEN_MFA_CODE="123456")
        )[0]
        == "InvalidParameterException"
    )


def outcome(call: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    """(HTTP status, error code or ChallengeName, message) of call(*args, **kwargs)."""
    try:
        result = call(*args, **kwargs)
    except ClientError as exc:
        error = exc.response["Error"]
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]
    return result["ResponseMetadata"]["HTTPStatusCode"], str(result.get("ChallengeName", "")), ""


def answer(
    stack: Stack, client_id: str, name: str, previous: dict[str, Any], username: str, **more: str
) -> Any:
    """RespondToAuthChallenge as `client_id` (SECRET_HASH over the USERNAME for the web client)."""
    responses = {"USERNAME": username, **more}
    if client_id == stack.client_id:
        responses["SECRET_HASH"] = stack.secret_hash(username)
    return stack.idp().respond_to_auth_challenge(
        ClientId=client_id, ChallengeName=name, Session=previous["Session"], ChallengeResponses=responses
    )


def test_an_answer_in_another_case_tells_nobody_who_exists(stack: Stack, new_stack_user: Callable) -> None:
    """Typed "X@EXAMPLE.COM", answered "x@example.com": a real user's answers are an unknown name's."""
    real, _ = new_stack_user()
    disabled, _ = new_stack_user()
    stack.idp().admin_disable_user(UserPoolId=stack.pool_id, Username=disabled)
    unknown = f"nobody-{real}"
    for client in (stack.client_id, stack.spa_client_id):
        select, wrong_code = {}, {}
        for email in (real, disabled, unknown):
            typed, given = email.upper(), email.lower()
            first = auth(stack, typed, client_id=client)
            select[email] = outcome(
                answer, stack, client, "SELECT_CHALLENGE", first, given, ANSWER="EMAIL_OTP"
            )
            started = auth(stack, typed, client_id=client, PREFERRED_CHALLENGE="EMAIL_OTP")
            wrong_code[email] = outcome(
                answer, stack, client, "EMAIL_OTP", started, given, EMAIL_OTP_CODE="000000"
            )
        assert select[real] == select[disabled] == select[unknown] == (200, "EMAIL_OTP", ""), select
        assert wrong_code[real] == wrong_code[disabled] == wrong_code[unknown], wrong_code
        assert wrong_code[real] == (400, "CodeMismatchException", "Invalid code received for user")
    # The web client's SECRET_HASH over the lower-case address, USERNAME as typed: alike too.
    hashed = {}
    for email in (real, unknown):
        first = auth(stack, email.upper())
        responses = {
            "USERNAME": email.upper(),
            "ANSWER": "EMAIL_OTP",
            "SECRET_HASH": stack.secret_hash(email),
        }
        hashed[email] = outcome(
            stack.idp().respond_to_auth_challenge, ClientId=stack.client_id, ChallengeName="SELECT_CHALLENGE",
            Session=first["Session"], ChallengeResponses=responses,
        )  # fmt: skip
    assert hashed[real] == hashed[unknown] == (200, "EMAIL_OTP", ""), hashed


def test_a_disabled_user_is_not_told_apart_by_another_of_their_names(
    stack: Stack, new_stack_user: Callable
) -> None:
    """SELECT_CHALLENGE answered with the user's sub: a user who cannot get a code is an unknown name."""
    disabled, _ = new_stack_user()
    idp = stack.idp()
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=disabled)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    idp.admin_disable_user(UserPoolId=stack.pool_id, Username=disabled)
    seen = {}
    for email, other_name in (
        (disabled, sub),
        (f"nobody-{disabled}", "0f8fad5b-d9cb-469f-a165-70867728950e"),
    ):
        first = auth(stack, email, client_id=stack.spa_client_id)
        seen[email] = outcome(
            answer, stack, stack.spa_client_id, "SELECT_CHALLENGE", first, other_name, ANSWER="EMAIL_OTP"
        )
    assert set(seen.values()) == {(400, "NotAuthorizedException", "Invalid session for the user.")}, seen


def test_a_code_sent_before_the_account_changed_no_longer_signs_in(
    stack: Stack, new_stack_user: Callable
) -> None:
    """A reset, an unverified or a changed e-mail since the code was sent: the right code is refused."""
    idp = stack.idp()
    changes: dict[str, Callable[[str], Any]] = {
        "reset": lambda email: idp.admin_reset_user_password(UserPoolId=stack.pool_id, Username=email),
        "unverified": lambda email: idp.admin_update_user_attributes(
            UserPoolId=stack.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "false"}],
        ),
        "new address": lambda email: idp.admin_update_user_attributes(
            UserPoolId=stack.pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": f"moved-{email}"},
                {"Name": "email_verified", "Value": "true"},
            ],
        ),  # fmt: skip
        "disabled": lambda email: idp.admin_disable_user(UserPoolId=stack.pool_id, Username=email),
    }
    expected = {
        "reset": ("PasswordResetRequiredException", "Password reset required for the user"),
        "unverified": ("InvalidParameterException", "The user has no verified email to send a code to."),
        "new address": ("NotAuthorizedException", "Invalid session for the user."),
        "disabled": ("NotAuthorizedException", "User is disabled."),
    }
    for change, apply in changes.items():
        email, _ = new_stack_user()
        session = email_otp(stack, email)
        [code] = stack.sign_in_codes(email)
        apply(email)
        assert (
            error_of(lambda s=session, e=email, c=code: respond(stack, "EMAIL_OTP", s, e, EMAIL_OTP_CODE=c))
            == (expected[change])
        ), change
        # The session is used up: the code cannot be tried again once the account is back.
        assert error_of(
            lambda s=session, e=email, c=code: respond(stack, "EMAIL_OTP", s, e, EMAIL_OTP_CODE=c)
        )[1].startswith("Invalid session for the user"), change


def test_the_session_store_is_capped(private_stack: Callable[..., Stack]) -> None:
    # An EMAIL_OTP start needs no password (unknown names get a simulated session too): a flood of
    # them must not grow memory. A full store drops its oldest sessions (expired ones first).
    small = private_stack(limits={"max_challenge_sessions": 3})
    email = ALICE[0]
    oldest = email_otp(small, email)
    code = small.sign_in_codes(email)[0]
    for i in range(3):
        email_otp(small, f"flood-{i}-{secrets.token_hex(3)}@example.com")
    assert error_of(lambda: respond(small, "EMAIL_OTP", oldest, email, EMAIL_OTP_CODE=code)) == (
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    )
    newest = email_otp(small, email)
    done = respond(small, "EMAIL_OTP", newest, email, EMAIL_OTP_CODE=small.sign_in_codes(email)[0])
    assert "AuthenticationResult" in done
