"""Account security as Cognito has it: no MFA re-enrolment with the password, no enumeration."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qs, quote, urlsplit

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.localcloud import ADMIN as ADMIN_LOGIN
from tests.support.localcloud import ALICE as ALICE_LOGIN
from tests.support.localcloud import (
    Stack,
    answer_totp,
    authorize_params,
    form_of,
    mfa_user,
    password_auth,
    stack_sign_in,
    submit,
)
from tests.support.waiting import wait_until


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return error["Code"], error["Message"]


def wrong_code(totp: pyotp.TOTP) -> str:
    return "000000" if totp.now() != "000000" else "111111"


def assert_cannot_enrol_with(stack: Stack, session: str) -> None:
    """AssociateSoftwareToken / VerifySoftwareToken refuse a Session that is not MFA_SETUP's."""
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.associate_software_token(Session=session)
    assert error_of(exc) == ("NotAuthorizedException", "Invalid session for the user.")
    attacker = pyotp.TOTP(pyotp.random_base32())
    with pytest.raises(ClientError) as exc:
        idp.verify_software_token(Session=session, UserCode=attacker.now())
    assert error_of(exc)[0] == "NotAuthorizedException"


# --- finding 4: MFA bypass with the password alone ------------------------------------------------------
def test_an_mfa_challenge_session_cannot_register_a_new_totp_secret(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    challenge = password_auth(stack, email, password)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert_cannot_enrol_with(stack, challenge["Session"])
    # The victim's own authenticator still completes the same sign-in.
    done = answer_totp(stack, challenge, totp.now())
    assert stack.verify(done["AuthenticationResult"]["IdToken"], "id")["email"] == email


def test_the_hosted_mfa_page_session_cannot_register_a_new_totp_secret(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    browser, page, _ = stack_sign_in(stack, email, password)
    assert page.status_code == HTTPStatus.OK and 'name="code"' in page.text
    _, hidden = form_of(page.text)
    assert_cannot_enrol_with(stack, hidden["session"])
    done = submit(browser, stack, page, code=totp.now())
    assert done.status_code == HTTPStatus.FOUND, done.text
    assert "code=" in done.headers["Location"]


def test_mfa_setup_still_enrols_through_its_own_session(private_stack: Callable) -> None:
    running = private_stack(user_pool={"MfaConfiguration": "ON"})
    email, password = "alice@example.com", "Alice-pass-1"
    idp = running.idp()
    challenge = password_auth(running, email, password)
    assert challenge["ChallengeName"] == "MFA_SETUP"
    username = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
    respond = {
        "ClientId": running.client_id,
        "ChallengeName": "MFA_SETUP",
        "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": username, "SECRET_HASH": running.secret_hash(username)},
    }
    with pytest.raises(ClientError) as exc:  # nothing verified in this challenge yet
        idp.respond_to_auth_challenge(**respond)
    assert error_of(exc)[0] == "InvalidParameterException"
    associated = idp.associate_software_token(Session=challenge["Session"])
    totp = pyotp.TOTP(associated["SecretCode"])
    with pytest.raises(ClientError):  # a wrong code: no new session, the one given still stands
        idp.verify_software_token(Session=associated["Session"], UserCode=wrong_code(totp))
    verified = idp.verify_software_token(Session=associated["Session"], UserCode=totp.now())
    assert verified["Status"] == "SUCCESS"
    done = idp.respond_to_auth_challenge(**{**respond, "Session": verified["Session"]})
    assert done["AuthenticationResult"]["AccessToken"]
    # From now on the password leads to the TOTP prompt, whose session cannot re-enrol.
    again = password_auth(running, email, password)
    assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert_cannot_enrol_with(running, again["Session"])


# --- finding 8: account enumeration (the client sets PreventUserExistenceErrors=ENABLED) -------------------
def confirm_page_answer(stack: Stack, username: str) -> tuple[int, str]:
    """(status, error text) of the hosted /confirm page for a username and a wrong code."""
    browser = requests.Session()
    page = browser.get(f"{stack.base}/confirm", params={**authorize_params(stack), "username": username},
                       timeout=5)  # fmt: skip
    assert page.status_code == HTTPStatus.OK
    answer = submit(browser, stack, page, code="000000")
    error = re.search(r'id="error"[^>]*>(.*?)<', answer.text, re.S)
    return answer.status_code, error.group(1).strip() if error else ""


def unconfirmed_user(stack: Stack) -> str:
    email = f"unconfirmed-{secrets.token_hex(4)}@example.com"
    stack.idp().sign_up(
        ClientId=stack.client_id, Username=email, Password="Unconf-pass-1",
        SecretHash=stack.secret_hash(email), UserAttributes=[{"Name": "name", "Value": "U"}],
    )  # fmt: skip
    if stack.latest_code(email) == "000000":
        stack.idp().resend_confirmation_code(ClientId=stack.client_id, Username=email,
                                             SecretHash=stack.secret_hash(email))  # fmt: skip
    return email


def test_the_confirm_page_answers_alike_for_unknown_confirmed_and_unconfirmed(
    stack: Stack, new_stack_user: Callable
) -> None:
    confirmed, _ = new_stack_user()
    answers = {
        "unknown": confirm_page_answer(stack, f"nobody-{secrets.token_hex(4)}@example.com"),
        "confirmed": confirm_page_answer(stack, confirmed),
        "unconfirmed": confirm_page_answer(stack, unconfirmed_user(stack)),
    }
    assert answers["unknown"] == answers["confirmed"] == answers["unconfirmed"], answers
    assert answers["unknown"] == (
        HTTPStatus.BAD_REQUEST,
        "Invalid verification code provided, please try again.",
    )


def test_confirm_sign_up_api_answers_alike(stack: Stack, new_stack_user: Callable) -> None:
    confirmed, _ = new_stack_user()
    errors = {}
    for who, email in (("unknown", f"nobody-{secrets.token_hex(4)}@example.com"), ("confirmed", confirmed),
                       ("unconfirmed", unconfirmed_user(stack))):  # fmt: skip
        with pytest.raises(ClientError) as exc:
            stack.idp().confirm_sign_up(ClientId=stack.client_id, Username=email, ConfirmationCode="000000",
                                        SecretHash=stack.secret_hash(email))  # fmt: skip
        errors[who] = error_of(exc)
    assert errors["unknown"] == errors["confirmed"] == errors["unconfirmed"], errors
    assert errors["unknown"][0] == "CodeMismatchException"


def test_resend_and_forgot_password_api_simulate_a_delivery_for_unknown_users(stack: Stack) -> None:
    email = f"nobody-{secrets.token_hex(4)}@example.com"
    idp = stack.idp()
    for call in (idp.resend_confirmation_code, idp.forgot_password):
        delivery = call(ClientId=stack.client_id, Username=email, SecretHash=stack.secret_hash(email))
        assert delivery["CodeDeliveryDetails"] == {
            "Destination": "n***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"
        }  # fmt: skip
    assert all(m["recipient"] != email for m in stack.outbox())


def test_the_resend_and_forgot_pages_answer_alike(stack: Stack, new_stack_user: Callable) -> None:
    confirmed, _ = new_stack_user()
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    params = authorize_params(stack)
    answers = []
    for email in (unknown, confirmed):
        browser = requests.Session()
        page = browser.get(f"{stack.base}/forgotPassword", params=params, timeout=5)
        answer = submit(browser, stack, page, username=email)
        answers.append((answer.status_code, answer.headers["Location"].replace(quote(email), "<u>")))
    assert answers[0] == answers[1], answers
    answers = []
    for email in (unknown, confirmed, unconfirmed_user(stack)):
        browser = requests.Session()
        page = browser.get(f"{stack.base}/confirm", params={**params, "username": email}, timeout=5)
        action = re.findall(r'<form method="post" action="([^"]+)"', page.text)[1].replace("&amp;", "&")
        form = {"_csrf": browser.cookies["XSRF-TOKEN"], "username": email}
        answer = browser.post(stack.base + action, data=form, allow_redirects=False, timeout=5)
        answers.append((answer.status_code, answer.headers["Location"].replace(quote(email), "<u>")))
    assert answers[0] == answers[1] == answers[2], answers


# --- TOTP guessing: a challenge dies after 5 wrong codes, which count toward the lockout -----------------
EXPIRED = ("NotAuthorizedException", "Invalid session for the user, session is expired.")


def test_an_mfa_challenge_dies_after_five_wrong_codes(stack: Stack, new_stack_user: Callable) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    challenge = password_auth(stack, email, password)
    for _ in range(5):
        with pytest.raises(ClientError) as exc:
            answer_totp(stack, challenge, wrong_code(totp))
        assert error_of(exc)[0] == "CodeMismatchException"
    with pytest.raises(ClientError) as exc:  # the right code no longer helps on this session
        answer_totp(stack, challenge, totp.now())
    assert error_of(exc) == EXPIRED


def test_the_hosted_mfa_step_dies_after_five_wrong_codes(stack: Stack, new_stack_user: Callable) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    browser, page, _ = stack_sign_in(stack, email, password)
    for _ in range(5):
        page = submit(browser, stack, page, code=wrong_code(totp))
        assert page.status_code == HTTPStatus.BAD_REQUEST and 'name="code"' in page.text
    done = submit(browser, stack, page, code=totp.now())
    assert done.status_code == HTTPStatus.BAD_REQUEST, done.headers.get("Location")
    assert "Your session has expired. Please sign in again." in done.text


def test_mfa_setup_codes_are_limited_per_session(private_stack: Callable) -> None:
    running = private_stack(user_pool={"MfaConfiguration": "ON"})
    idp = running.idp()
    # The API's set-up (alice).
    challenge = password_auth(running, *ALICE_LOGIN)
    assert challenge["ChallengeName"] == "MFA_SETUP"
    associated = idp.associate_software_token(Session=challenge["Session"])
    totp, session = pyotp.TOTP(associated["SecretCode"]), associated["Session"]
    for attempt in range(5):
        with pytest.raises(ClientError) as exc:
            idp.verify_software_token(Session=session, UserCode=wrong_code(totp))
        assert error_of(exc)[0] == "EnableSoftwareTokenMFAException"
        if attempt == 2:  # a new session (and secret) from AssociateSoftwareToken buys no more tries
            associated = idp.associate_software_token(Session=session)
            totp, session = pyotp.TOTP(associated["SecretCode"]), associated["Session"]
    with pytest.raises(ClientError) as exc:
        idp.verify_software_token(Session=session, UserCode=totp.now())
    assert error_of(exc) == EXPIRED
    # The hosted page's set-up (admin).
    browser, page, _ = stack_sign_in(running, *ADMIN_LOGIN)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret, page.text
    setup = pyotp.TOTP(secret.group(1))
    for _ in range(5):
        page = submit(browser, running, page, code=wrong_code(setup))
        assert page.status_code == HTTPStatus.BAD_REQUEST
    done = submit(browser, running, page, code=setup.now())
    assert "Your session has expired. Please sign in again." in done.text


# --- ChangePassword: wrong previous passwords are attempt-limited, sharing the sign-in lockout ----------
LIMIT = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
WRONG = ("NotAuthorizedException", "Incorrect username or password.")


def test_wrong_previous_passwords_lock_change_password_and_sign_in(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, password = new_stack_user()
    idp = stack.idp()
    access = stack.api_login(email, password)["AccessToken"]
    answers: list[tuple[str, str]] = []

    def change(previous: str) -> tuple[str, str] | None:
        try:
            idp.change_password(
                AccessToken=access, PreviousPassword=previous, ProposedPassword="Other-pass-1"
            )
        except ClientError as exc:
            answers.append((exc.response["Error"]["Code"], exc.response["Error"]["Message"]))
            return answers[-1]
        return None

    # Eight wrong passwords counted (each later one once the lockout before it ended): the lockout
    # is then 2^3 = 8 s, long enough to observe on a slow machine.
    for attempt in range(8):
        wait_until(lambda n=attempt: change(f"Wrong-pass-{n}") == WRONG, timeout=30, what="a counted attempt")
    assert set(answers) == {WRONG, LIMIT}  # attempts during a lockout were refused as such
    assert change(password) == LIMIT  # locked: the right password is refused too
    with pytest.raises(ClientError) as exc:  # the same count as the sign-in's
        password_auth(stack, email, password)
    assert error_of(exc) == ("NotAuthorizedException", "Password attempts exceeded")


# --- VerifySoftwareToken with an access token: 5 wrong codes per set-up; its code is spent -----------
def test_verify_software_token_takes_five_wrong_codes_per_secret(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, password = new_stack_user()
    idp = stack.idp()
    access = stack.api_login(email, password)["AccessToken"]
    totp = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    for _ in range(5):
        with pytest.raises(ClientError) as exc:
            idp.verify_software_token(AccessToken=access, UserCode=wrong_code(totp))
        assert error_of(exc)[0] == "EnableSoftwareTokenMFAException"
    with pytest.raises(ClientError) as exc:  # the right code no longer helps for this secret
        idp.verify_software_token(AccessToken=access, UserCode=totp.now())
    assert error_of(exc) == LIMIT
    fresh = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])  # a new set-up
    assert idp.verify_software_token(AccessToken=access, UserCode=fresh.now())["Status"] == "SUCCESS"


def test_the_code_that_set_the_app_up_cannot_sign_in(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    idp = stack.idp()
    access = stack.api_login(email, password)["AccessToken"]
    totp = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    code = totp.now()
    idp.verify_software_token(AccessToken=access, UserCode=code)
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    challenge = password_auth(stack, email, password)
    with pytest.raises(ClientError) as exc:  # a replay of the set-up code (or one seen over a shoulder)
        answer_totp(stack, challenge, code)
    assert error_of(exc) == ("CodeMismatchException", "Invalid code or auth state for the user.")
    done = answer_totp(stack, challenge, totp.at(time.time() + totp.interval))
    assert stack.verify(done["AuthenticationResult"]["IdToken"], "id")["email"] == email


# --- ResendConfirmationCode is limited too (aws/aws-sdk-net#2011: LimitExceededException) ----------------
def test_confirmation_codes_are_limited_per_user_like_reset_codes(stack: Stack) -> None:
    idp = stack.idp()
    email = f"resend-{secrets.token_hex(4)}@example.com"
    idp.sign_up(
        ClientId=stack.client_id, Username=email, Password="Unconf-pass-1",
        SecretHash=stack.secret_hash(email), UserAttributes=[{"Name": "name", "Value": "U"}],
    )  # fmt: skip
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    for name in (email, unknown):  # unknown names are counted alike: the limit reveals no account
        for _ in range(5):
            idp.resend_confirmation_code(
                ClientId=stack.client_id, Username=name, SecretHash=stack.secret_hash(name)
            )
        sent = len([m for m in stack.outbox() if m["recipient"] == name])
        with pytest.raises(ClientError) as exc:
            idp.resend_confirmation_code(
                ClientId=stack.client_id, Username=name, SecretHash=stack.secret_hash(name)
            )
        assert error_of(exc) == LIMIT
        assert len([m for m in stack.outbox() if m["recipient"] == name]) == sent  # no sixth mail
    # The hosted confirm page says so instead of claiming a new code was sent.
    session = requests.Session()
    page = session.get(
        f"{stack.base}/confirm", params={**authorize_params(stack), "username": email}, timeout=5
    )
    action, hidden = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)[1]
    assert action.startswith("/resendcode")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', hidden))
    response = session.post(stack.base + action.replace("&amp;", "&"), data=fields, timeout=5)
    assert response.status_code == HTTPStatus.OK and "/confirm" in response.url
    assert "Too many codes were asked for" in response.text
    assert "A new code has been sent." not in response.text


# --- A challenge session answered once: its reuse is Cognito's "can only be used once" ------------------
def test_a_reused_mfa_session_can_only_be_used_once(stack: Stack, new_stack_user: Callable) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    challenge = password_auth(stack, email, password)
    assert "AuthenticationResult" in answer_totp(stack, challenge, totp.now())
    with pytest.raises(ClientError) as exc:  # the same session again (the code is spent too)
        answer_totp(stack, challenge, totp.now())
    assert error_of(exc) == (
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    )
    with pytest.raises(ClientError) as exc:  # a session that never was stays "expired"
        answer_totp(stack, {**challenge, "Session": "x" * 64}, totp.now())
    assert error_of(exc) == EXPIRED


# --- The hosted page's resend: confirmed, unconfirmed and unknown names reach the limit alike -----------
def resend_notices(stack: Stack, email: str, times: int = 6) -> list[str]:
    """The notice of each POST /resendcode for a name (after GET /confirm for the CSRF token)."""
    browser = requests.Session()
    params = {**authorize_params(stack), "username": email}
    page = browser.get(f"{stack.base}/confirm", params=params, timeout=5)
    action = re.findall(r'<form method="post" action="([^"]+)"', page.text)[1].replace("&amp;", "&")
    notices = []
    for _ in range(times):
        form = {"_csrf": browser.cookies["XSRF-TOKEN"], "username": email}
        answer = browser.post(stack.base + action, data=form, allow_redirects=False, timeout=5)
        notices.append(parse_qs(urlsplit(answer.headers["Location"]).query)["notice"][0])
    return notices


def test_the_resend_page_limits_confirmed_unconfirmed_and_unknown_names_alike(
    stack: Stack, new_stack_user: Callable
) -> None:
    confirmed, _ = new_stack_user()
    answers = {
        "confirmed": resend_notices(stack, confirmed),
        "unconfirmed": resend_notices(stack, unconfirmed_user(stack)),
        "unknown": resend_notices(stack, f"nobody-{secrets.token_hex(4)}@example.com"),
    }
    # unconfirmed_user may have asked once already: compare the sixth and later answers only
    assert answers["confirmed"] == answers["unknown"] == ["resent"] * 5 + ["limit"], answers
    assert answers["unconfirmed"][-1] == "limit", answers
    # The API counts a confirmed user too (it still says "already confirmed", as Cognito does).
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.resend_confirmation_code(ClientId=stack.client_id, Username=confirmed,
                                     SecretHash=stack.secret_hash(confirmed))  # fmt: skip
    assert error_of(exc) == LIMIT


# --- The masked destination: a real user's and an unknown name's look alike ------------------------------
def test_the_masked_destination_does_not_tell_a_real_user_from_an_unknown_name(
    stack: Stack, new_stack_user: Callable
) -> None:
    real, _ = new_stack_user()
    pending = unconfirmed_user(stack)
    idp = stack.idp()
    asked = {
        "real": real.upper(),  # stored in lower case: its mask must not show that
        "pending": pending.upper(),
        "unknown": f"GHOST-{secrets.token_hex(4)}@example.com".upper(),
    }
    for call in (idp.forgot_password, idp.resend_confirmation_code):
        for who, name in asked.items():
            if (who, call) == ("real", idp.resend_confirmation_code):
                continue  # a confirmed user's resend is an error, not a delivery
            details = call(ClientId=stack.client_id, Username=name, SecretHash=stack.secret_hash(name))
            assert details["CodeDeliveryDetails"]["Destination"] == f"{name[0]}***@E***", (who, details)


# --- A full send-limit table drops its oldest record: unknown names cannot lock real users out ----------
def test_a_flood_of_unknown_names_does_not_refuse_a_real_users_code(private_stack: Callable) -> None:
    small = private_stack(limits={"max_send_records": 3})
    idp = small.idp()
    for i in range(5):  # more unknown names than the table holds, each asking once
        name = f"flood-{i}-{secrets.token_hex(3)}@example.com"
        idp.forgot_password(ClientId=small.client_id, Username=name, SecretHash=small.secret_hash(name))
    email = ALICE_LOGIN[0]
    idp.forgot_password(ClientId=small.client_id, Username=email, SecretHash=small.secret_hash(email))
    assert small.latest_code(email)
    # A name still in the table keeps its count: the limit itself holds.
    for _ in range(4):
        idp.forgot_password(ClientId=small.client_id, Username=email, SecretHash=small.secret_hash(email))
    with pytest.raises(ClientError) as exc:
        idp.forgot_password(ClientId=small.client_id, Username=email, SecretHash=small.secret_hash(email))
    assert error_of(exc) == LIMIT
