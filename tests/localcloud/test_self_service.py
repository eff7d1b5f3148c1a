"""The self-service calls an account page makes, as Cognito answers them (reference-2 §3), over HTTP."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.support.localcloud import Stack, answer_totp, code_for, exchange, mfa_user, password_auth


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return error["Code"], error["Message"]


def signed_in(stack: Stack, new_stack_user: Callable) -> tuple[str, str, str]:
    email, password = new_stack_user()
    return email, password, stack.api_login(email, password)["AccessToken"]


def attributes(stack: Stack, access: str) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in stack.idp().get_user(AccessToken=access)["UserAttributes"]}


def other(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# --- TOTP -------------------------------------------------------------------------------------------
def test_totp_set_up_verify_and_preference_as_cognito_answers(stack: Stack, new_stack_user) -> None:
    _, _, access = signed_in(stack, new_stack_user)
    idp = stack.idp()
    before = idp.get_user(AccessToken=access)
    assert "UserMFASettingList" not in before and "PreferredMfaSetting" not in before

    with pytest.raises(ClientError) as exc:  # nothing verified yet
        idp.set_user_mfa_preference(
            AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    assert error_of(exc)[0] == "InvalidParameterException"
    secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
    assert len(secret) >= 16 and secret.isalnum()
    totp = pyotp.TOTP(secret)
    with pytest.raises(ClientError) as exc:
        idp.verify_software_token(AccessToken=access, UserCode=other(totp.now()), FriendlyDeviceName="Pixel")
    assert error_of(exc) == (
        "EnableSoftwareTokenMFAException",
        "Code mismatch and fail enable Software Token MFA",
    )
    # A wrong code does not end the set-up: the same secret's next code still works.
    answer = idp.verify_software_token(AccessToken=access, UserCode=totp.now(), FriendlyDeviceName="Pixel")
    assert answer["Status"] == "SUCCESS" and "Session" not in answer
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )

    after = idp.get_user(AccessToken=access)
    assert after["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert after["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": False})
    off = idp.get_user(AccessToken=access)
    assert "UserMFASettingList" not in off and "PreferredMfaSetting" not in off


def test_a_second_set_up_replaces_the_first_ones_secret(stack: Stack, new_stack_user) -> None:
    """Two tabs: the first tab's secret no longer verifies once the second one asked for its own."""
    _, _, access = signed_in(stack, new_stack_user)
    idp = stack.idp()
    first = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    second = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    assert first.secret != second.secret
    with pytest.raises(ClientError) as exc:
        idp.verify_software_token(AccessToken=access, UserCode=first.now())
    assert error_of(exc)[0] == "EnableSoftwareTokenMFAException"
    assert idp.verify_software_token(AccessToken=access, UserCode=second.now())["Status"] == "SUCCESS"


def test_a_sign_in_code_is_taken_once(stack: Stack, new_stack_user) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    code = totp.now()
    done = answer_totp(stack, password_auth(stack, email, password), code)
    assert done["AuthenticationResult"]["AccessToken"]

    with pytest.raises(ClientError) as exc:  # the same code again: a replay
        answer_totp(stack, password_auth(stack, email, password), code)
    assert error_of(exc) == ("CodeMismatchException", "Invalid code or auth state for the user.")
    with pytest.raises(ClientError) as exc:  # a wrong code reads the same
        answer_totp(stack, password_auth(stack, email, password), other(totp.now()))
    assert error_of(exc) == ("CodeMismatchException", "Invalid code or auth state for the user.")
    later = totp.at(time.time() + totp.interval)  # the next step's code is accepted (one step late)
    assert answer_totp(stack, password_auth(stack, email, password), later)["AuthenticationResult"]
    with pytest.raises(ClientError):  # and after it, the current step's is older: refused too
        answer_totp(stack, password_auth(stack, email, password), totp.now())


def test_another_users_token_sets_up_only_its_own_user(stack: Stack, new_stack_user) -> None:
    victim_email, victim_password, victim_totp = mfa_user(stack, new_stack_user)
    _, _, attacker = signed_in(stack, new_stack_user)
    idp = stack.idp()
    secret = idp.associate_software_token(AccessToken=attacker)["SecretCode"]
    idp.verify_software_token(AccessToken=attacker, UserCode=pyotp.TOTP(secret).now())
    idp.set_user_mfa_preference(AccessToken=attacker, SoftwareTokenMfaSettings={"Enabled": False})
    # The victim's factor is untouched: their own authenticator still signs in.
    challenge = password_auth(stack, victim_email, victim_password)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert answer_totp(stack, challenge, victim_totp.now())["AuthenticationResult"]


def test_totp_calls_need_the_pool_to_allow_totp(private_stack: Callable) -> None:
    running = private_stack(user_pool={"SoftwareTokenMfaConfiguration": {"Enabled": False}})
    access = running.api_login("alice@example.com", "Alice-pass-1")["AccessToken"]
    with pytest.raises(ClientError) as exc:
        running.idp().associate_software_token(AccessToken=access)
    assert error_of(exc) == (
        "SoftwareTokenMFANotFoundException",
        "Software Token MFA has not been enabled by the userPool",
    )


# --- e-mail change ----------------------------------------------------------------------------------
def test_a_new_address_waits_for_its_code_and_the_old_one_keeps_working(stack: Stack, new_stack_user) -> None:
    email, password, access = signed_in(stack, new_stack_user)
    new = f"new-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()

    answer = idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": new}])

    assert answer["CodeDeliveryDetailsList"] == [
        {"Destination": f"{new[0]}***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    assert attributes(stack, access)["email"] == email  # unchanged until verified
    assert attributes(stack, access)["email_verified"] == "true"
    assert stack.api_login(email, password)["AccessToken"]  # the old address still signs in
    with pytest.raises(ClientError) as exc:
        stack.api_login(new, password)
    assert error_of(exc)[0] == "NotAuthorizedException"
    code = stack.latest_code(new)

    with pytest.raises(ClientError) as exc:
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=other(code))
    assert error_of(exc) == ("CodeMismatchException", "Invalid verification code provided, please try again.")
    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)

    assert attributes(stack, access)["email"] == new
    assert attributes(stack, access)["email_verified"] == "true"
    assert stack.verify(stack.api_login(new, password)["IdToken"], "id")["email"] == new
    with pytest.raises(ClientError):
        stack.api_login(email, password)
    with pytest.raises(ClientError) as exc:  # a code is used once
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    assert error_of(exc)[0] == "ExpiredCodeException"


def test_resend_sends_a_new_code_to_the_pending_address_and_the_old_code_dies(
    stack: Stack, new_stack_user
) -> None:
    _, _, access = signed_in(stack, new_stack_user)
    new = f"new-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": new}])
    first = stack.latest_code(new)
    answer = idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    assert answer["CodeDeliveryDetails"]["Destination"] == f"{new[0]}***@e***"
    second = stack.latest_code(new)
    assert second != first  # random 6-digit codes: equal once in a million
    with pytest.raises(ClientError) as exc:
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=first)
    assert error_of(exc)[0] == "CodeMismatchException"
    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=second)
    assert attributes(stack, access)["email"] == new


def test_changing_back_cancels_the_pending_address(stack: Stack, new_stack_user) -> None:
    email, password, access = signed_in(stack, new_stack_user)
    new = f"new-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": new}])
    code = stack.latest_code(new)
    answer = idp.update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "email", "Value": email}]
    )
    assert "CodeDeliveryDetailsList" not in answer
    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    assert attributes(stack, access)["email"] == email  # nothing was pending any more


def test_an_address_taken_meanwhile_is_refused_at_verification(stack: Stack, new_stack_user) -> None:
    _, _, access = signed_in(stack, new_stack_user)
    new = f"new-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": new}])
    code = stack.latest_code(new)
    idp.admin_create_user(
        UserPoolId=stack.pool_id, Username=new, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": new}, {"Name": "email_verified", "Value": "true"}],
    )  # fmt: skip
    with pytest.raises(ClientError) as exc:
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    assert error_of(exc)[0] == "AliasExistsException"
    with pytest.raises(ClientError) as exc:  # and someone's address cannot be asked for at all
        idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": new}])
    assert error_of(exc)[0] == "AliasExistsException"


def test_a_pool_without_verification_before_update_changes_the_address_at_once(
    private_stack: Callable,
) -> None:
    running = private_stack(user_pool={"UserAttributeUpdateSettings": {}})
    access = running.api_login("alice@example.com", "Alice-pass-1")["AccessToken"]
    running.idp().update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "email", "Value": "alice2@example.com"}]
    )
    assert attributes(running, access)["email"] == "alice2@example.com"
    assert attributes(running, access)["email_verified"] == "false"
    code = running.latest_code("alice2@example.com")
    running.idp().verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    assert attributes(running, access)["email_verified"] == "true"


def test_self_service_calls_need_the_admin_scope(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    code, _ = code_for(stack, email, password, scope="openid email")
    access = exchange(stack, code).json()["access_token"]
    idp = stack.idp()
    calls = [
        lambda: idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email"),
        lambda: idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code="123456"),
        lambda: idp.associate_software_token(AccessToken=access),
        lambda: idp.delete_user(AccessToken=access),
        lambda: idp.global_sign_out(AccessToken=access),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0] == "NotAuthorizedException"
    assert stack.api_login(email, password)["AccessToken"]  # nothing happened to the user


# --- DeleteUser -------------------------------------------------------------------------------------
def test_delete_user_removes_the_user_and_the_address_can_sign_up_again(stack: Stack, new_stack_user) -> None:
    email, password, access = signed_in(stack, new_stack_user)
    idp = stack.idp()
    old_sub = attributes(stack, access)["sub"]

    assert idp.delete_user(AccessToken=access)["ResponseMetadata"]["HTTPStatusCode"] == 200

    with pytest.raises(ClientError) as exc:  # its tokens are dead
        idp.get_user(AccessToken=access)
    assert error_of(exc)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as exc:
        stack.api_login(email, password)
    assert error_of(exc)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as exc:
        idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)
    assert error_of(exc)[0] == "UserNotFoundException"
    again = idp.sign_up(
        ClientId=stack.client_id, Username=email, Password=password, SecretHash=stack.secret_hash(email),
        UserAttributes=[{"Name": "email", "Value": email}],
    )  # fmt: skip
    assert again["UserSub"] != old_sub
