"""The cognito-idp JSON API through boto3 (and raw requests for malformed input)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.localcloud import ALICE, Stack, code_for, exchange, stack_sign_in, submit


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def raw(stack: Stack, operation: str, body: bytes | str, content_type: str = "application/x-amz-json-1.1"):
    return requests.post(
        stack.base + "/",
        data=body,
        headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": content_type,
        },
        timeout=10,
    )


def test_initiate_auth_tokens_verify_and_work_with_get_user(stack: Stack) -> None:
    tokens = stack.api_login(*ALICE)
    id_claims = stack.verify(tokens["IdToken"], "id")
    access = stack.verify(tokens["AccessToken"], "access")
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert id_claims["email"] == ALICE[0]
    assert id_claims["custom:role"] == "member"
    user = stack.idp().get_user(AccessToken=tokens["AccessToken"])
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == ALICE[0]
    assert user["Username"] == id_claims["cognito:username"]


def test_admin_initiate_auth_and_hosted_ui_tokens_share_the_jwks(stack: Stack) -> None:
    admin = stack.idp().admin_initiate_auth(
        UserPoolId=stack.pool_id,
        ClientId=stack.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": ALICE[0],
            "PASSWORD": ALICE[1],
            "SECRET_HASH": stack.secret_hash(ALICE[0]),
        },
    )["AuthenticationResult"]
    code, _ = code_for(stack, *ALICE)
    hosted = exchange(stack, code).json()
    kid = {stack.verify(admin["IdToken"], "id")["sub"], stack.verify(hosted["id_token"], "id")["sub"]}
    assert len(kid) == 1
    # A hosted-UI token with the admin scope is accepted by GetUser too.
    assert stack.idp().get_user(AccessToken=hosted["access_token"])["Username"]


def test_hosted_ui_token_without_admin_scope_is_refused_by_get_user(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE, scope="openid email")
    access = exchange(stack, code).json()["access_token"]
    with pytest.raises(ClientError) as exc:
        stack.idp().get_user(AccessToken=access)
    assert error_code(exc) == "NotAuthorizedException"


def test_secret_hash_is_required_and_checked(stack: Stack) -> None:
    idp = stack.idp()
    params = {"USERNAME": ALICE[0], "PASSWORD": ALICE[1]}
    with pytest.raises(ClientError) as missing:
        idp.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
    assert error_code(missing) == "NotAuthorizedException"
    assert "SECRET_HASH was not received" in str(missing.value)
    with pytest.raises(ClientError) as wrong:
        idp.initiate_auth(
            ClientId=stack.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={**params, "SECRET_HASH": stack.secret_hash("someone-else")},
        )
    assert "Unable to verify secret hash" in str(wrong.value)
    with pytest.raises(ClientError) as signup:
        idp.sign_up(ClientId=stack.client_id, Username="x@example.com", Password="Good-pass-1")
    assert error_code(signup) == "NotAuthorizedException"


def test_wrong_password_and_unknown_user_are_indistinguishable(stack: Stack) -> None:
    messages = set()
    for username in (ALICE[0], "ghost@example.com"):
        with pytest.raises(ClientError) as exc:
            stack.api_login(username, "Wrong-pass-1")
        assert error_code(exc) == "NotAuthorizedException"
        messages.add(exc.value.response["Error"]["Message"])
    assert messages == {"Incorrect username or password."}


def test_update_user_attributes_respects_write_attributes(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": "custom:role", "Value": "admin"}]
        )
    assert error_code(exc) == "NotAuthorizedException"
    with pytest.raises(ClientError) as unknown:
        idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    assert error_code(unknown) == "InvalidParameterException"
    idp.update_user_attributes(
        AccessToken=access,
        UserAttributes=[{"Name": "name", "Value": "Renamed"}, {"Name": "custom:college", "Value": "Other"}],
    )
    user = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["name"] == "Renamed"
    assert attrs["custom:role"] == "student"
    # Admins may set it.
    idp.admin_update_user_attributes(
        UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": "custom:role", "Value": "admin"}]
    )
    fresh = stack.api_login(email, password)
    assert stack.verify(fresh["IdToken"], "id")["custom:role"] == "admin"


def test_sign_up_confirm_with_checked_codes(stack: Stack) -> None:
    idp = stack.idp()
    email = f"signup-{secrets.token_hex(4)}@example.com"
    with pytest.raises(ClientError) as weak:
        idp.sign_up(
            ClientId=stack.client_id, Username=email, Password="weak", SecretHash=stack.secret_hash(email)
        )
    assert error_code(weak) == "InvalidPasswordException"
    result = idp.sign_up(
        ClientId=stack.client_id,
        Username=email,
        Password="Signup-pass-1",
        SecretHash=stack.secret_hash(email),
        UserAttributes=[{"Name": "name", "Value": "New Person"}],
    )
    assert result["UserConfirmed"] is False
    assert result["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    with pytest.raises(ClientError) as unconfirmed:
        stack.api_login(email, "Signup-pass-1")
    assert error_code(unconfirmed) == "UserNotConfirmedException"
    with pytest.raises(ClientError) as duplicate:
        idp.sign_up(
            ClientId=stack.client_id,
            Username=email,
            Password="Signup-pass-1",
            SecretHash=stack.secret_hash(email),
        )
    assert error_code(duplicate) == "UsernameExistsException"
    first_code = stack.latest_code(email)
    idp.resend_confirmation_code(
        ClientId=stack.client_id, Username=email, SecretHash=stack.secret_hash(email)
    )
    code = stack.latest_code(email)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ClientError) as mismatch:
        idp.confirm_sign_up(
            ClientId=stack.client_id,
            Username=email,
            ConfirmationCode=wrong,
            SecretHash=stack.secret_hash(email),
        )
    assert error_code(mismatch) == "CodeMismatchException"
    if first_code != code:
        with pytest.raises(ClientError):
            idp.confirm_sign_up(
                ClientId=stack.client_id,
                Username=email,
                ConfirmationCode=first_code,
                SecretHash=stack.secret_hash(email),
            )
    idp.confirm_sign_up(
        ClientId=stack.client_id, Username=email, ConfirmationCode=code, SecretHash=stack.secret_hash(email)
    )
    claims = stack.verify(stack.api_login(email, "Signup-pass-1")["IdToken"], "id")
    assert claims["email_verified"] is True
    assert claims["name"] == "New Person"


def test_sign_up_cannot_set_custom_role(stack: Stack) -> None:
    email = f"sneaky-{secrets.token_hex(4)}@example.com"
    with pytest.raises(ClientError) as exc:
        stack.idp().sign_up(
            ClientId=stack.client_id,
            Username=email,
            Password="Signup-pass-1",
            SecretHash=stack.secret_hash(email),
            UserAttributes=[{"Name": "custom:role", "Value": "admin"}],
        )
    assert error_code(exc) == "NotAuthorizedException"


def test_forgot_password_with_checked_code(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    idp = stack.idp()
    sent = idp.forgot_password(ClientId=stack.client_id, Username=email, SecretHash=stack.secret_hash(email))
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = stack.latest_code(email)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ClientError) as mismatch:
        idp.confirm_forgot_password(
            ClientId=stack.client_id,
            Username=email,
            ConfirmationCode=wrong,
            Password="Reset-pass-1",
            SecretHash=stack.secret_hash(email),
        )
    assert error_code(mismatch) == "CodeMismatchException"
    idp.confirm_forgot_password(
        ClientId=stack.client_id,
        Username=email,
        ConfirmationCode=code,
        Password="Reset-pass-1",
        SecretHash=stack.secret_hash(email),
    )
    assert stack.api_login(email, "Reset-pass-1")["AccessToken"]
    with pytest.raises(ClientError) as reused:
        idp.confirm_forgot_password(
            ClientId=stack.client_id,
            Username=email,
            ConfirmationCode=code,
            Password="Again-pass-1",
            SecretHash=stack.secret_hash(email),
        )
    assert error_code(reused) == "ExpiredCodeException"


def test_global_sign_out_revokes_access_and_refresh_tokens(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    tokens = stack.api_login(email, password)
    code, _ = code_for(stack, email, password)
    hosted = exchange(stack, code).json()
    idp = stack.idp()
    idp.global_sign_out(AccessToken=tokens["AccessToken"])
    for access in (tokens["AccessToken"], hosted["access_token"]):
        with pytest.raises(ClientError) as exc:
            idp.get_user(AccessToken=access)
        assert error_code(exc) == "NotAuthorizedException"
        # Still a valid JWT: only Cognito's APIs see the sign-out.
        assert stack.verify(access, "access")
    with pytest.raises(ClientError):
        idp.initiate_auth(
            ClientId=stack.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": stack.secret_hash(email)},
        )
    refreshed = requests.post(
        f"{stack.base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": hosted["refresh_token"]},
        auth=(stack.client_id, stack.client_secret),
        timeout=5,
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_admin_user_global_sign_out(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    stack.idp().admin_user_global_sign_out(UserPoolId=stack.pool_id, Username=email)
    with pytest.raises(ClientError):
        stack.idp().get_user(AccessToken=access)


def test_admin_disable_user_revokes_access_and_refresh_tokens_for_good(stack: Stack, new_stack_user) -> None:
    """AdminDisableUser revokes every access token and refresh then fails (reference-2 §3.4);
    enabling the user again does not bring the old tokens back (only a new sign-in does)."""
    email, password = new_stack_user()
    tokens = stack.api_login(email, password)
    code, _ = code_for(stack, email, password)
    hosted = exchange(stack, code).json()
    idp = stack.idp()
    idp.admin_disable_user(UserPoolId=stack.pool_id, Username=email)
    idp.admin_enable_user(UserPoolId=stack.pool_id, Username=email)
    for access in (tokens["AccessToken"], hosted["access_token"]):
        with pytest.raises(ClientError) as exc:
            idp.get_user(AccessToken=access)
        assert error_code(exc) == "NotAuthorizedException"
    with pytest.raises(ClientError) as refresh:
        idp.initiate_auth(
            ClientId=stack.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": stack.secret_hash(email)},
        )
    assert error_code(refresh) == "NotAuthorizedException"
    refreshed = requests.post(
        f"{stack.base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": hosted["refresh_token"]},
        auth=(stack.client_id, stack.client_secret),
        timeout=5,
    )
    assert refreshed.json()["error"] == "invalid_grant"
    # Enabled again: a new sign-in works, and its tokens do.
    assert idp.get_user(AccessToken=stack.api_login(email, password)["AccessToken"])["Username"]


def test_admin_disable_user_of_an_unknown_user_is_user_not_found(stack: Stack) -> None:
    with pytest.raises(ClientError) as exc:
        stack.idp().admin_disable_user(UserPoolId=stack.pool_id, Username="nobody-here@example.com")
    assert error_code(exc) == "UserNotFoundException"


def test_refresh_token_auth_and_revoke_token(stack: Stack) -> None:
    idp = stack.idp()
    tokens = stack.api_login(*ALICE)
    username = stack.verify(tokens["AccessToken"], "access")["username"]
    refreshed = idp.initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": stack.secret_hash(username)},
    )["AuthenticationResult"]
    assert "RefreshToken" not in refreshed
    assert (
        stack.verify(refreshed["IdToken"], "id")["auth_time"]
        == stack.verify(tokens["IdToken"], "id")["auth_time"]
    )
    with pytest.raises(ClientError) as access_revoke:
        idp.revoke_token(
            Token=tokens["AccessToken"], ClientId=stack.client_id, ClientSecret=stack.client_secret
        )
    assert error_code(access_revoke) == "UnsupportedTokenTypeException"
    with pytest.raises(ClientError):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=stack.client_id, ClientSecret="w" * 51)
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=stack.client_id, ClientSecret=stack.client_secret)
    for access in (tokens["AccessToken"], refreshed["AccessToken"]):
        with pytest.raises(ClientError):
            idp.get_user(AccessToken=access)
    with pytest.raises(ClientError) as revoked:
        idp.initiate_auth(
            ClientId=stack.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={
                "REFRESH_TOKEN": tokens["RefreshToken"],
                "SECRET_HASH": stack.secret_hash(username),
            },
        )
    assert "revoked" in str(revoked.value)


def test_srp_is_refused_rather_than_faked(stack: Stack) -> None:
    with pytest.raises(ClientError) as exc:
        stack.idp().initiate_auth(
            ClientId=stack.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": ALICE[0], "SRP_A": "abc", "SECRET_HASH": stack.secret_hash(ALICE[0])},
        )
    assert error_code(exc) == "InvalidParameterException"


def test_totp_mfa_setup_and_challenge_in_api_and_hosted_ui(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    idp = stack.idp()
    access = stack.api_login(email, password)["AccessToken"]
    secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
    totp = pyotp.TOTP(secret)
    with pytest.raises(ClientError):
        idp.verify_software_token(
            AccessToken=access, UserCode="000000" if totp.now() != "000000" else "111111"
        )
    # The previous step's code (one step early is accepted); it is spent, so now() signs in below.
    previous = totp.at(time.time() - totp.interval)
    assert idp.verify_software_token(AccessToken=access, UserCode=previous)["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    challenge = idp.initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password, "SECRET_HASH": stack.secret_hash(email)},
    )
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    username = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
    with pytest.raises(ClientError) as wrong:
        idp.respond_to_auth_challenge(
            ClientId=stack.client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge["Session"],
            ChallengeResponses={
                "USERNAME": username,
                "SOFTWARE_TOKEN_MFA_CODE": "000000" if totp.now() != "000000" else "111111",
                "SECRET_HASH": stack.secret_hash(username),
            },
        )
    assert error_code(wrong) == "CodeMismatchException"
    done = idp.respond_to_auth_challenge(
        ClientId=stack.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": username,
            "SOFTWARE_TOKEN_MFA_CODE": totp.now(),
            "SECRET_HASH": stack.secret_hash(username),
        },
    )
    assert stack.verify(done["AuthenticationResult"]["IdToken"], "id")["email"] == email
    # The hosted UI asks for the code after the password.
    session, page, _ = stack_sign_in(stack, email, password)
    assert page.status_code == HTTPStatus.OK
    assert 'name="code"' in page.text
    bad = submit(session, stack, page, code="000000" if totp.now() != "000000" else "111111")
    assert "That code is not right" in bad.text and "Invalid code received" not in bad.text
    # The API sign-in above took this step's code (taken once): the next step's is accepted too.
    good = submit(session, stack, bad, code=totp.at(time.time() + totp.interval))
    assert good.status_code == HTTPStatus.FOUND, good.text
    assert "code=" in good.headers["Location"]


def test_bad_input_gets_cognito_4xx_shape(stack: Stack) -> None:
    cases = [
        ("GetUser", b"{not json"),
        ("GetUser", b"[1, 2]"),
        ("GetUser", json.dumps({"AccessToken": "garbage"})),
        ("GetUser", json.dumps({"AccessToken": 42})),
        ("GetUser", json.dumps({})),
        ("InitiateAuth", json.dumps({"ClientId": "nope", "AuthFlow": "USER_PASSWORD_AUTH"})),
        ("InitiateAuth", json.dumps({"ClientId": stack.client_id, "AuthFlow": "MADE_UP"})),
        (
            "InitiateAuth",
            json.dumps({"ClientId": stack.client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": 3}),
        ),
        ("ConfirmSignUp", json.dumps({"ClientId": stack.client_id})),
        ("AdminGetUser", json.dumps({"UserPoolId": stack.pool_id})),
        ("AdminGetUser", json.dumps({})),
        ("NoSuchOperation!", json.dumps({})),
    ]
    for operation, body in cases:
        response = raw(stack, operation, body)
        assert 400 <= response.status_code < 500, (operation, body, response.status_code, response.text)
        payload = response.json()
        assert payload["__type"], payload
        assert "Traceback" not in response.text
    huge = raw(stack, "GetUser", json.dumps({"AccessToken": "x" * 400_000}))
    assert huge.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert huge.json()["__type"]


def test_temporary_password_challenge_and_change_password(stack: Stack) -> None:
    idp = stack.idp()
    email = f"invited-{secrets.token_hex(4)}@example.com"
    created = idp.admin_create_user(UserPoolId=stack.pool_id, Username=email)
    assert created["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    temporary = stack.latest_code(email)
    challenge = idp.initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": temporary, "SECRET_HASH": stack.secret_hash(email)},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    username = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
    responses = {"USERNAME": username, "SECRET_HASH": stack.secret_hash(username)}
    with pytest.raises(ClientError) as weak:
        idp.respond_to_auth_challenge(
            ClientId=stack.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge["Session"],
            ChallengeResponses={**responses, "NEW_PASSWORD": "weak"},
        )
    assert error_code(weak) == "InvalidPasswordException"
    done = idp.respond_to_auth_challenge(
        ClientId=stack.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={**responses, "NEW_PASSWORD": "Chosen-pass-1"},
    )
    access = done["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as wrong_previous:
        idp.change_password(
            AccessToken=access, PreviousPassword="Nope-pass-1", ProposedPassword="Other-pass-1"
        )
    assert error_code(wrong_previous) == "NotAuthorizedException"
    idp.change_password(AccessToken=access, PreviousPassword="Chosen-pass-1", ProposedPassword="Other-pass-1")
    # Email sign-in ignores case, as on Cognito.
    assert stack.api_login(email.upper(), "Other-pass-1")["AccessToken"]


# --- required and sign-in attributes cannot be deleted ("user.email: Required attribute cannot be deleted.")
@pytest.mark.parametrize("names", [["email"], ["name", "email"], ["sub"]])
def test_delete_user_attributes_refuses_required_attributes(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]], names: list[str]
) -> None:
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    with pytest.raises(ClientError) as exc:
        stack.idp().delete_user_attributes(AccessToken=access, UserAttributeNames=names)
    assert error_code(exc) == "InvalidParameterException"
    assert "Required attribute cannot be deleted." in exc.value.response["Error"]["Message"]
    # Nothing was deleted, and the user still signs in and is found by email.
    stack.api_login(email, password)
    attributes = stack.idp().admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    assert {"email", "name"} <= {a["Name"] for a in attributes}


def test_delete_user_attributes_still_deletes_optional_ones(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]]
) -> None:
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    stack.idp().delete_user_attributes(AccessToken=access, UserAttributeNames=["name"])
    attributes = stack.idp().admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    assert "name" not in {a["Name"] for a in attributes}


def test_admin_delete_user_attributes_refuses_required_attributes(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]]
) -> None:
    email, password = new_stack_user()
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.admin_delete_user_attributes(
            UserPoolId=stack.pool_id, Username=email, UserAttributeNames=["email"]
        )
    assert error_code(exc) == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"] == "user.email: Required attribute cannot be deleted."
    stack.api_login(email, password)
    idp.admin_delete_user_attributes(UserPoolId=stack.pool_id, Username=email, UserAttributeNames=["name"])
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    assert {a["Name"] for a in attributes} >= {"email"} and "name" not in {a["Name"] for a in attributes}


@pytest.mark.parametrize("value", ["", " "])
def test_update_user_attributes_refuses_emptying_required_attributes(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]], value: str
) -> None:
    # Review D: UpdateUserAttributes [{"Name": "email", "Value": ""}] locked the user out.
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": value}])
    assert error_code(exc) == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"] == "user.email: Required attribute cannot be empty."
    with pytest.raises(ClientError) as exc:
        idp.admin_update_user_attributes(
            UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": "email", "Value": value}]
        )
    assert error_code(exc) == "InvalidParameterException"
    stack.api_login(email, password)  # still signs in
    idp.update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "name", "Value": ""}]
    )  # optional: fine


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "two@@example.com",
        "a b@example.com",
        "ab@example.com ",
        "a\u200b@example.com",
        "a\n@x.io",
        "a" * 65 + "@example.com",  # RFC 5321: a local part of at most 64 octets
        "a@" + "b" * 249 + ".com",  # and an address of at most 254 characters (this one: 255)
    ],
)
def test_update_user_attributes_refuses_implausible_emails(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]], address: str
) -> None:
    email, password = new_stack_user()
    access = stack.api_login(email, password)["AccessToken"]
    idp = stack.idp()
    with pytest.raises(ClientError) as exc:
        idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "email", "Value": address}])
    assert (error_code(exc), exc.value.response["Error"]["Message"]) == (
        "InvalidParameterException", "Invalid email address format.",
    )  # fmt: skip
    with pytest.raises(ClientError) as exc:
        idp.admin_update_user_attributes(
            UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": "email", "Value": address}]
        )
    assert error_code(exc) == "InvalidParameterException"
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    assert {"Name": "email", "Value": email} in attributes


def test_update_user_attributes_accepts_emails_at_the_rfc_5321_limits(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]]
) -> None:
    email, _ = new_stack_user()
    address = "a" * 64 + "@" + "b" * 181 + ".example"  # local part 64, address 254
    assert len(address) == 254
    idp = stack.idp()
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    idp.admin_update_user_attributes(
        UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": "email", "Value": address}]
    )
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=sub)["UserAttributes"]
    assert {"Name": "email", "Value": address} in attributes


# --- sub never changes (users are found by sub); verified flags are booleans -----------------------------
def test_update_user_attributes_refuse_any_change_to_sub(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]]
) -> None:
    # Review E: AdminUpdateUserAttributes sub="x" made the user's sub "x" (one user could take another's).
    email, password = new_stack_user()
    other, _ = new_stack_user()
    idp = stack.idp()

    def sub(name: str) -> str:
        attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=name)["UserAttributes"]
        return next(a["Value"] for a in attributes if a["Name"] == "sub")

    before = sub(email)
    for value in ("x", sub(other), before):
        with pytest.raises(ClientError) as exc:
            idp.admin_update_user_attributes(
                UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": "sub", "Value": value}]
            )
        assert (error_code(exc), exc.value.response["Error"]["Message"]) == (
            "InvalidParameterException", "user.sub: Attribute cannot be updated.",
        )  # fmt: skip
    access = stack.api_login(email, password)["AccessToken"]
    with pytest.raises(ClientError) as exc:
        idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "sub", "Value": "x"}])
    assert error_code(exc) == "InvalidParameterException"
    assert sub(email) == before


@pytest.mark.parametrize("flag", ["email_verified", "phone_number_verified"])
def test_admin_update_user_attributes_takes_only_true_or_false_flags(
    stack: Stack, new_stack_user: Callable[..., tuple[str, str]], flag: str
) -> None:
    email, _ = new_stack_user()
    idp = stack.idp()
    for value in ("yes", "True", "1", ""):
        with pytest.raises(ClientError) as exc:
            idp.admin_update_user_attributes(
                UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": flag, "Value": value}]
            )
        assert error_code(exc) == "InvalidParameterException", value
    for value in ("false", "true"):
        idp.admin_update_user_attributes(
            UserPoolId=stack.pool_id, Username=email, UserAttributes=[{"Name": flag, "Value": value}]
        )
    attributes = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)["UserAttributes"]
    assert {"Name": flag, "Value": "true"} in attributes


def test_admin_reset_user_password_as_aws(stack: Stack, new_stack_user) -> None:
    """RESET_REQUIRED and a code e-mailed; the password no longer signs in. Refused, as AWS (and
    moto) refuse it, for an invited user who never chose a password and without a verified e-mail."""
    idp = stack.idp()
    email, password = new_stack_user()
    idp.admin_reset_user_password(UserPoolId=stack.pool_id, Username=email)
    user = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)
    assert user["UserStatus"] == "RESET_REQUIRED"
    message = next(m for m in stack.outbox() if m["recipient"] == email)
    assert message["kind"] == "admin_reset" and message["code"]
    with pytest.raises(ClientError) as signed_in:
        stack.api_login(email, password)
    assert signed_in.value.response["Error"]["Code"] == "PasswordResetRequiredException"

    invited = f"invited-{secrets.token_hex(4)}@example.com"
    idp.admin_create_user(UserPoolId=stack.pool_id, Username=invited, MessageAction="SUPPRESS")
    with pytest.raises(ClientError) as not_yet:
        idp.admin_reset_user_password(UserPoolId=stack.pool_id, Username=invited)
    assert not_yet.value.response["Error"]["Code"] == "NotAuthorizedException"

    unverified, _ = new_stack_user()
    idp.admin_update_user_attributes(
        UserPoolId=stack.pool_id, Username=unverified,
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )  # fmt: skip
    with pytest.raises(ClientError) as nowhere:
        idp.admin_reset_user_password(UserPoolId=stack.pool_id, Username=unverified)
    assert nowhere.value.response["Error"]["Code"] == "InvalidParameterException"
    assert idp.admin_get_user(UserPoolId=stack.pool_id, Username=unverified)["UserStatus"] == "CONFIRMED"


def test_admin_create_user_resend_sends_a_new_temporary_password_as_aws(stack: Stack, new_stack_user) -> None:
    """MessageAction=RESEND: a new temporary password in the outbox, the old one no longer signs in;
    refused for a user who is not FORCE_CHANGE_PASSWORD (UnsupportedUserStateException) or unknown."""
    idp = stack.idp()
    invited = f"invited-{secrets.token_hex(4)}@example.com"
    idp.admin_create_user(UserPoolId=stack.pool_id, Username=invited)
    first = stack.latest_code(invited)
    again = idp.admin_create_user(UserPoolId=stack.pool_id, Username=invited, MessageAction="RESEND")
    assert again["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    second = stack.latest_code(invited)
    assert second and second != first
    assert [m["kind"] for m in stack.outbox() if m["recipient"] == invited][:2] == ["invitation"] * 2
    with pytest.raises(ClientError) as old:
        stack.api_login(invited, first)
    assert old.value.response["Error"]["Code"] == "NotAuthorizedException"
    challenge = idp.initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": invited, "PASSWORD": second, "SECRET_HASH": stack.secret_hash(invited)},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    confirmed, password = new_stack_user()
    with pytest.raises(ClientError) as refused:
        idp.admin_create_user(UserPoolId=stack.pool_id, Username=confirmed, MessageAction="RESEND")
    assert refused.value.response["Error"]["Code"] == "UnsupportedUserStateException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == HTTPStatus.BAD_REQUEST
    assert "FORCE_CHANGE_PASSWORD" in refused.value.response["Error"]["Message"]
    assert not [m for m in stack.outbox() if m["recipient"] == confirmed]
    assert stack.api_login(confirmed, password)["AccessToken"]  # the password is untouched
    with pytest.raises(ClientError) as unknown:
        nobody = f"nobody-{secrets.token_hex(4)}@example.com"
        idp.admin_create_user(UserPoolId=stack.pool_id, Username=nobody, MessageAction="RESEND")
    assert unknown.value.response["Error"]["Code"] == "UserNotFoundException"


def _new_password_session(stack: Stack, email: str, temporary: str) -> str:
    """AdminInitiateAuth with a temporary password: the NEW_PASSWORD_REQUIRED challenge's session."""
    answer = stack.idp().admin_initiate_auth(
        UserPoolId=stack.pool_id,
        ClientId=stack.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": temporary, "SECRET_HASH": stack.secret_hash(email)},
    )
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    return answer["Session"]


def _answer_new_password(stack: Stack, email: str, session: str) -> dict:
    return stack.idp().admin_respond_to_auth_challenge(
        UserPoolId=stack.pool_id,
        ClientId=stack.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=session,
        ChallengeResponses={
            "USERNAME": email,
            "NEW_PASSWORD": "Chosen-by-old-1",
            "SECRET_HASH": stack.secret_hash(email),
        },
    )


@pytest.mark.parametrize("change", ["resend", "admin_set_user_password", "confirm_forgot_password"])
def test_a_password_change_ends_the_challenges_started_with_the_old_one(stack: Stack, change: str) -> None:
    """A sign-in step begun with the old temporary password (NEW_PASSWORD_REQUIRED) no longer
    completes once the password was set anew: the old password cannot choose the next one."""
    idp = stack.idp()
    email, other = (f"pending-{secrets.token_hex(4)}@example.com" for _ in range(2))
    for name in (email, other):
        idp.admin_create_user(
            UserPoolId=stack.pool_id,
            Username=name,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )
    old = _new_password_session(stack, email, stack.latest_code(email))
    others = _new_password_session(stack, other, stack.latest_code(other))
    if change == "resend":
        idp.admin_create_user(UserPoolId=stack.pool_id, Username=email, MessageAction="RESEND")
    elif change == "admin_set_user_password":
        idp.admin_set_user_password(
            UserPoolId=stack.pool_id, Username=email, Password="Admin-set-1", Permanent=False
        )
    else:
        idp.forgot_password(ClientId=stack.client_id, Username=email, SecretHash=stack.secret_hash(email))
        idp.confirm_forgot_password(
            ClientId=stack.client_id,
            Username=email,
            ConfirmationCode=stack.latest_code(email),
            Password="Reset-pass-1",
            SecretHash=stack.secret_hash(email),
        )
    with pytest.raises(ClientError) as ended:
        _answer_new_password(stack, email, old)
    assert error_code(ended) == "NotAuthorizedException"
    assert "session" in ended.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        stack.api_login(email, "Chosen-by-old-1")
    assert _answer_new_password(stack, other, others)["AuthenticationResult"]  # another user's goes on


def test_an_unknown_group_is_not_found_as_aws_words_it(stack: Stack, new_stack_user) -> None:
    email, _ = new_stack_user()
    idp = stack.idp()
    calls = (
        lambda: idp.admin_add_user_to_group(
            UserPoolId=stack.pool_id, Username=email, GroupName="no-such-group"
        ),
        lambda: idp.admin_remove_user_from_group(
            UserPoolId=stack.pool_id, Username=email, GroupName="no-such-group"
        ),
        lambda: idp.get_group(UserPoolId=stack.pool_id, GroupName="no-such-group"),
        lambda: idp.list_users_in_group(UserPoolId=stack.pool_id, GroupName="no-such-group"),
        lambda: idp.delete_group(UserPoolId=stack.pool_id, GroupName="no-such-group"),
    )
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"
        assert exc.value.response["Error"]["Message"] == "Group not found."
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == HTTPStatus.BAD_REQUEST
    idp.create_group(UserPoolId=stack.pool_id, GroupName="known-group")
    idp.admin_add_user_to_group(UserPoolId=stack.pool_id, Username=email, GroupName="known-group")
    users = idp.list_users_in_group(UserPoolId=stack.pool_id, GroupName="known-group")["Users"]
    assert [u["Username"] for u in users] != []
    with pytest.raises(ClientError) as exc:  # the group exists, the user does not: moto's check stands
        idp.admin_add_user_to_group(
            UserPoolId=stack.pool_id, Username="nobody@example.com", GroupName="known-group"
        )
    assert error_code(exc) == "UserNotFoundException"
    idp.delete_group(UserPoolId=stack.pool_id, GroupName="known-group")
