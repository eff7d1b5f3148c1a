"""SigV4 on Cognito's admin and management calls: only the operator's keys may make them."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from collections.abc import Callable
from typing import Any

import boto3
import botocore.auth
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from localcloud.iam import UNSIGNED_OPERATIONS
from tests.support.localcloud import ALICE, Stack

IDP = "AWSCognitoIdentityProviderService."
IDENTITY = "AWSCognitoIdentityService."
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)


def call(
    stack: Stack,
    operation: str,
    params: dict[str, Any],
    *,
    credentials: Credentials | None = None,
    service: str = "cognito-idp",
    prefix: str = IDP,
) -> requests.Response:
    """POST one JSON 1.1 call, signed with credentials for service (unsigned without them)."""
    body = json.dumps(params).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": prefix + operation}
    if credentials is not None:
        request = AWSRequest(method="POST", url=stack.base + "/", data=body, headers=headers)
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
    return requests.post(stack.base + "/", data=body, headers=headers, timeout=5)


def operator(stack: Stack) -> Credentials:
    return Credentials(stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"])


def refused(response: requests.Response, error_type: str, message: str | None = None) -> str:
    """Assert a 400 with AWS's error type (and exact message); returns the message."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["__type"] == error_type, body
    assert response.headers["x-amzn-ErrorType"].startswith(error_type)
    if message is not None:
        assert body["message"] == message
    return str(body["message"])


def groups_of(stack: Stack, username: str) -> list[str]:
    groups = stack.idp().admin_list_groups_for_user(UserPoolId=stack.pool_id, Username=username)
    return [g["GroupName"] for g in groups["Groups"]]


def role_of(stack: Stack, username: str) -> str | None:
    user = stack.idp().admin_get_user(UserPoolId=stack.pool_id, Username=username)
    return next((a["Value"] for a in user["UserAttributes"] if a["Name"] == "custom:role"), None)


# --- the findings: unsigned admin calls ---------------------------------------------------------------
def test_unsigned_admin_add_user_to_group_is_refused(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    params = {"UserPoolId": stack.pool_id, "Username": email, "GroupName": "admin"}
    refused(call(stack, "AdminAddUserToGroup", params), "MissingAuthenticationTokenException",
            "Missing Authentication Token")  # fmt: skip
    assert groups_of(stack, email) == []


def test_unsigned_admin_update_user_attributes_cannot_grant_a_role(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, _ = new_stack_user()
    params = {
        "UserPoolId": stack.pool_id,
        "Username": email,
        "UserAttributes": [{"Name": "custom:role", "Value": "admin"}],
    }
    refused(call(stack, "AdminUpdateUserAttributes", params), "MissingAuthenticationTokenException")
    assert role_of(stack, email) == "student"


@pytest.mark.parametrize(
    ("operation", "prefix", "params"),
    [
        ("ListUsers", IDP, {"UserPoolId": "{pool}"}),
        ("AdminGetUser", IDP, {"UserPoolId": "{pool}", "Username": "alice@example.com"}),
        ("AdminCreateUser", IDP, {"UserPoolId": "{pool}", "Username": "mallory@example.com"}),
        ("AdminInitiateAuth", IDP, {"UserPoolId": "{pool}", "ClientId": "x", "AuthFlow": "X"}),
        ("DescribeUserPoolClient", IDP, {"UserPoolId": "{pool}", "ClientId": "x"}),
        ("CreateUserPool", IDP, {"PoolName": "mallory"}),
        ("NoSuchOperation", IDP, {}),
        ("ListIdentities", IDENTITY, {"IdentityPoolId": "{identity}", "MaxResults": 10}),
        ("DescribeIdentityPool", IDENTITY, {"IdentityPoolId": "{identity}"}),
        ("ListIdentityPools", IDENTITY, {"MaxResults": 10}),
    ],
)  # fmt: skip
def test_unsigned_management_calls_are_refused(
    stack: Stack, operation: str, prefix: str, params: dict[str, str]
) -> None:
    params = {
        k: v.format(pool=stack.pool_id, identity=stack.identity_pool_id) if isinstance(v, str) else v
        for k, v in params.items()
    }
    refused(call(stack, operation, params, prefix=prefix), "MissingAuthenticationTokenException",
            "Missing Authentication Token")  # fmt: skip


# --- wrong credentials -----------------------------------------------------------------------------------
def test_unknown_access_key_is_unrecognized(stack: Stack) -> None:
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id},
                    credentials=Credentials("AKIAIOSFODNN7EXAMPLE", "x" * 40))  # fmt: skip
    refused(response, "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_the_old_published_dummy_key_is_unrecognized(stack: Stack) -> None:
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id},
                    credentials=Credentials("localcloud", "localcloud-not-a-secret"))  # fmt: skip
    refused(response, "UnrecognizedClientException")
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=stack.s3_base,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud-not-a-secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=stack.bucket)
    assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_wrong_secret_is_a_signature_mismatch(stack: Stack) -> None:
    wrong = Credentials(stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"][::-1])
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=wrong)
    refused(response, "InvalidSignatureException", MISMATCH)


def test_a_tampered_body_is_a_signature_mismatch(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    signed = {"UserPoolId": stack.pool_id, "Username": email, "GroupName": "nothing"}
    body = json.dumps(signed).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": IDP + "AdminAddUserToGroup"}
    request = AWSRequest(method="POST", url=stack.base + "/", data=body, headers=headers)
    SigV4Auth(operator(stack), "cognito-idp", "us-east-1").add_auth(request)
    tampered = json.dumps({**signed, "GroupName": "admin"}).encode()
    response = requests.post(
        stack.base + "/", data=tampered, headers=dict(request.headers.items()), timeout=5
    )
    refused(response, "InvalidSignatureException", MISMATCH)
    assert groups_of(stack, email) == []


def test_a_signature_for_another_service_is_refused(stack: Stack) -> None:
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=operator(stack),
                    service="cognito-identity")  # fmt: skip
    message = refused(response, "InvalidSignatureException")
    assert message.startswith("Credential should be scoped to correct service: 'cognito-idp'")
    response = call(stack, "ListIdentityPools", {"MaxResults": 5}, credentials=operator(stack),
                    service="cognito-idp", prefix=IDENTITY)  # fmt: skip
    assert "cognito-identity" in refused(response, "InvalidSignatureException")


def signed_without_target(stack: Stack, sent_as: str, params: dict[str, Any]) -> requests.Response:
    """A call signed over host and x-amz-date only (not its X-Amz-Target), sent as sent_as."""
    body = json.dumps(params).encode()
    request = AWSRequest(method="POST", url=stack.base + "/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.1"})  # fmt: skip
    SigV4Auth(operator(stack), "cognito-idp", "us-east-1").add_auth(request)
    assert "x-amz-target" not in request.headers["Authorization"]
    headers = {**dict(request.headers.items()), "X-Amz-Target": IDP + sent_as}
    return requests.post(stack.base + "/", data=body, headers=headers, timeout=5)


def test_the_operation_must_be_signed(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    params = {"UserPoolId": stack.pool_id, "Username": email}
    # A signature over the body alone would let AdminGetUser be replayed as AdminDisableUser.
    response = signed_without_target(stack, "AdminDisableUser", params)
    refused(response, "InvalidSignatureException",
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")  # fmt: skip
    assert stack.idp().admin_get_user(**params)["Enabled"] is True


def test_a_scope_naming_another_region_is_refused(stack: Stack) -> None:
    body = json.dumps({"UserPoolId": stack.pool_id, "MaxResults": 5}).encode()
    for region, service, target, operation in (
        ("eu-west-1", "cognito-idp", IDP, "ListUserPools"),
        ("us-west-2", "cognito-identity", IDENTITY, "ListIdentityPools"),
    ):
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + operation}
        request = AWSRequest(method="POST", url=stack.base + "/", data=body, headers=headers)
        SigV4Auth(operator(stack), service, region).add_auth(request)
        response = requests.post(
            stack.base + "/", data=body, headers=dict(request.headers.items()), timeout=5
        )
        refused(response, "InvalidSignatureException", "Credential should be scoped to a valid region.")


def test_a_stale_signature_has_expired(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=6)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: stale)
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=operator(stack))
    message = refused(response, "InvalidSignatureException")
    assert re.fullmatch(r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
                        r"\(\d{8}T\d{6}Z - 5 min\.\)", message), message  # fmt: skip
    assert message.startswith(f"Signature expired: {stale:%Y%m%dT%H%M%SZ}")


def test_a_signature_from_the_future_is_refused(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    ahead = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=6)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: ahead)
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=operator(stack))
    assert refused(response, "InvalidSignatureException").startswith("Signature not yet current:")


def test_identity_pool_credentials_are_denied(stack: Stack) -> None:
    tokens = stack.api_login(*ALICE)
    _, creds = stack.identity_credentials(tokens["IdToken"])
    identity = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=identity)
    message = refused(response, "AccessDeniedException")
    assert re.match(
        r"User: arn:aws:sts::\d{12}:assumed-role/[\w+=,.@-]+/CognitoIdentityCredentials "
        r"is not authorized to perform: cognito-idp:ListUsers",
        message,
    ), message
    # Without its session token the temporary key is unknown.
    bare = Credentials(creds["AccessKeyId"], creds["SecretKey"])
    response = call(stack, "ListUsers", {"UserPoolId": stack.pool_id}, credentials=bare)
    refused(response, "UnrecognizedClientException")


def test_malformed_authorization_is_refused_without_a_traceback(stack: Stack) -> None:
    for auth in ("Bearer abc", "AWS4-HMAC-SHA256 Credential=x", "AWS4-HMAC-SHA256 " + "A" * 5000):
        response = requests.post(
            stack.base + "/",
            data=b"{}",
            headers={"X-Amz-Target": IDP + "ListUsers", "Authorization": auth,
                     "Content-Type": "application/x-amz-json-1.1"},
            timeout=5,
        )  # fmt: skip
        assert response.status_code == 400, response.text
        assert response.json()["__type"] == "IncompleteSignatureException"


# --- what still works ----------------------------------------------------------------------------------
def test_the_operator_keys_sign_admin_calls(stack: Stack, new_stack_user: Callable) -> None:
    email, _ = new_stack_user()
    stack.idp().admin_add_user_to_group(UserPoolId=stack.pool_id, Username=email, GroupName="admin")
    assert groups_of(stack, email) == ["admin"]
    identities = stack.identity_admin().list_identities(IdentityPoolId=stack.identity_pool_id, MaxResults=10)
    assert identities["IdentityPoolId"] == stack.identity_pool_id


def test_unsigned_public_and_token_calls_still_work(stack: Stack) -> None:
    tokens = stack.api_login(*ALICE)
    response = call(stack, "GetUser", {"AccessToken": tokens["AccessToken"]})
    assert response.status_code == 200
    assert response.json()["Username"]


def test_the_unsigned_allowlist_is_botocores(stack: Stack) -> None:
    session = botocore.session.get_session()
    for service in ("cognito-idp", "cognito-identity"):
        model = session.get_service_model(service)
        unsigned = {
            name
            for name in model.operation_names
            if model.operation_model(name).auth_type == "none"
            or "smithy.api#noAuth" in (model.operation_model(name).auth or [])
        }
        assert set(UNSIGNED_OPERATIONS[service]) == unsigned, service


# --- no side door into moto ------------------------------------------------------------------------------
def fake_auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/{service}/aws4_request, "
            f"SignedHeaders=host, Signature={'0' * 64}")  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        # moto would dispatch on the credential scope and take the action from the query string...
        {"Authorization": fake_auth("cognito-idp")},
        # ...or from any X-Amz-Target's last part.
        {"Authorization": fake_auth("cognito-idp"), "X-Amz-Target": "Other.AdminAddUserToGroup"},
        {"Authorization": fake_auth("cognito-identity")},
    ],
)
def test_cognito_calls_cannot_reach_moto_around_the_checks(
    stack: Stack, new_stack_user: Callable, headers: dict[str, str]
) -> None:
    email, _ = new_stack_user()
    params = {"UserPoolId": stack.pool_id, "Username": email, "GroupName": "admin"}
    response = requests.post(
        f"{stack.base}/?Action=AdminAddUserToGroup",
        data=json.dumps(params),
        headers={"Content-Type": "application/x-amz-json-1.1", **headers},
        timeout=5,
    )
    # 404 (no such endpoint) or 400 (unknown operation): never moto's answer.
    assert response.status_code in (400, 404), response.text
    assert response.json()["__type"] == "UnknownOperationException"
    assert groups_of(stack, email) == []


def test_motos_own_api_is_not_exposed(stack: Stack) -> None:
    for path in ("/moto-api/data.json", "/moto-api/"):
        response = requests.get(stack.base + path, timeout=5)
        assert response.status_code == 404
        assert "Alice-pass-1" not in response.text
    assert requests.post(stack.base + "/moto-api/reset", timeout=5).status_code == 404
    assert stack.api_login(*ALICE)["AccessToken"]


# --- the operator's credentials -------------------------------------------------------------------------
def test_operator_credentials_are_random_private_and_kept(private_stack: Callable, tmp_path) -> None:
    first = private_stack()
    key, secret = first.env["AWS_ACCESS_KEY_ID"], first.env["AWS_SECRET_ACCESS_KEY"]
    assert re.fullmatch(r"LC[A-Z0-9]{18}", key)
    assert len(secret) == 40
    for name in ("operator.json", "app.env"):
        assert stat.S_IMODE(os.stat(first.data_dir / name).st_mode) == 0o600, name
    first.stop()
    second = private_stack(data_dir=first.data_dir)
    assert (second.env["AWS_ACCESS_KEY_ID"], second.env["AWS_SECRET_ACCESS_KEY"]) == (key, secret)
    assert second.idp().list_users(UserPoolId=second.pool_id)["Users"]
    other = private_stack(data_dir=tmp_path / "other")
    assert other.env["AWS_ACCESS_KEY_ID"] != key
    response = call(other, "ListUsers", {"UserPoolId": other.pool_id}, credentials=operator(second))
    refused(response, "UnrecognizedClientException")
