"""The identity pool: GetId checks ID tokens as Cognito does, stable ids, bound credentials."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.localcloud import ALICE, Stack


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of a botocore error."""
    error = exc.value.response["Error"]
    return error["Code"], error["Message"]


def id_claims(stack: Stack) -> dict[str, Any]:
    """The verified claims of a fresh ID token of alice."""
    return stack.verify(stack.api_login(*ALICE)["IdToken"], "id")


def test_app_env_names_identity_pool_and_bucket(stack: Stack) -> None:
    env = stack.env
    region, _, uuid_part = env["COGNITO_IDENTITY_POOL_ID"].partition(":")
    assert region == "us-east-1"
    assert len(uuid_part) == 36
    assert env["AWS_STORAGE_BUCKET_NAME"] == "localcloud-avatars"
    pool = stack.identity_admin().describe_identity_pool(IdentityPoolId=stack.identity_pool_id)
    assert pool["AllowUnauthenticatedIdentities"] is True
    # Both app clients, as infra/template.yaml has them (the spa client's tokens get the member role).
    assert sorted(pool["CognitoIdentityProviders"], key=lambda p: p["ClientId"]) == sorted(
        (
            {"ProviderName": stack.provider, "ClientId": client_id, "ServerSideTokenCheck": False}
            for client_id in (stack.client_id, stack.spa_client_id)
        ),
        key=lambda p: p["ClientId"],
    )
    roles = stack.identity_admin().get_identity_pool_roles(IdentityPoolId=stack.identity_pool_id)["Roles"]
    assert set(roles) == {"authenticated", "unauthenticated"}


def test_identity_id_is_stable_and_credentials_are_unique(stack: Stack) -> None:
    first_id, first = stack.identity_credentials(stack.api_login(*ALICE)["IdToken"])
    second_id, second = stack.identity_credentials(stack.api_login(*ALICE)["IdToken"])
    assert first_id == second_id
    assert first_id.startswith("us-east-1:")
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SessionToken"] != second["SessionToken"]
    assert first["AccessKeyId"].startswith("ASIA")
    assert len(first["AccessKeyId"]) == 20
    remaining = first["Expiration"].timestamp() - time.time()
    assert 3500 < remaining <= 3600


def test_different_users_get_different_identities(stack: Stack, new_stack_user) -> None:
    alice_id, _ = stack.identity_credentials(stack.api_login(*ALICE)["IdToken"])
    bob_id, _ = stack.identity_credentials(stack.api_login(*new_stack_user())["IdToken"])
    assert alice_id != bob_id


def test_guest_gets_a_fresh_identity_per_get_id(stack: Stack) -> None:
    one, credentials = stack.identity_credentials()
    two, _ = stack.identity_credentials()
    assert one != two
    assert credentials["AccessKeyId"].startswith("ASIA")
    # A guest identity cannot be claimed with somebody's login.
    with pytest.raises(ClientError) as exc:
        stack.cognito_identity().get_credentials_for_identity(
            IdentityId=one, Logins={stack.provider: stack.api_login(*ALICE)["IdToken"]}
        )
    assert error_of(exc)[0] == "NotAuthorizedException"


def _other_key_token(claims: dict[str, Any]) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "forged"})


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("garbage", "Invalid login token. Not a valid OpenId Connect identity token."),
        ("expired", "Invalid login token. Token expired"),
        ("wrong issuer", "Invalid login token. Issuer doesn't match providerName"),
        ("wrong audience", "Invalid login token. Incorrect token audience."),
        ("access token", "Invalid login token. Incorrect token audience."),
        ("other key", "Invalid login token. Couldn't verify signed token."),
        ("tampered", "Invalid login token. Couldn't verify signed token."),
        ("unknown provider", "Invalid login token. Issuer doesn't match providerName"),
    ],
)
def test_get_id_refuses_bad_logins(stack: Stack, case: str, message: str) -> None:
    claims = id_claims(stack)
    provider = stack.provider
    now = int(time.time())
    token = {
        "garbage": lambda: "not.a.jwt",
        "expired": lambda: stack.forge(claims, iat=now - 7200, exp=now - 3600),
        "wrong issuer": lambda: stack.forge(claims, iss=claims["iss"] + "x"),
        "wrong audience": lambda: stack.forge(claims, aud="someotherclient"),
        "access token": lambda: stack.api_login(*ALICE)["AccessToken"],
        "other key": lambda: _other_key_token(claims),
        "tampered": lambda: _tamper(stack.api_login(*ALICE)["IdToken"]),
        "unknown provider": lambda: stack.api_login(*ALICE)["IdToken"],
    }[case]()
    if case == "unknown provider":
        provider = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Unknown00"
    with pytest.raises(ClientError) as exc:
        stack.cognito_identity().get_id(IdentityPoolId=stack.identity_pool_id, Logins={provider: token})
    assert error_of(exc) == ("NotAuthorizedException", message)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == HTTPStatus.BAD_REQUEST


def _tamper(token: str) -> str:
    """Same signature, payload changed (sub replaced)."""
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    forged = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    return f"{header}.{forged}.{signature}"


def test_credentials_need_the_identitys_own_login(stack: Stack, new_stack_user) -> None:
    client = stack.cognito_identity()
    alice_token = stack.api_login(*ALICE)["IdToken"]
    bob_token = stack.api_login(*new_stack_user())["IdToken"]
    alice_id = client.get_id(IdentityPoolId=stack.identity_pool_id, Logins={stack.provider: alice_token})[
        "IdentityId"
    ]
    client.get_id(IdentityPoolId=stack.identity_pool_id, Logins={stack.provider: bob_token})
    with pytest.raises(ClientError) as exc:
        client.get_credentials_for_identity(IdentityId=alice_id, Logins={stack.provider: bob_token})
    assert error_of(exc)[0] == "NotAuthorizedException"
    assert "Logins don't match" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        client.get_credentials_for_identity(IdentityId=alice_id)
    assert error_of(exc)[0] == "NotAuthorizedException"
    expired = stack.forge(
        stack.verify(alice_token, "id"), iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
    )
    with pytest.raises(ClientError) as exc:
        client.get_credentials_for_identity(IdentityId=alice_id, Logins={stack.provider: expired})
    assert error_of(exc) == ("NotAuthorizedException", "Invalid login token. Token expired")


def test_unknown_pool_identity_and_operation(stack: Stack) -> None:
    client = stack.cognito_identity()
    with pytest.raises(ClientError) as exc:
        client.get_id(IdentityPoolId="us-east-1:00000000-0000-0000-0000-000000000000")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        client.get_credentials_for_identity(IdentityId="us-east-1:00000000-0000-0000-0000-000000000000")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    headers = {
        "X-Amz-Target": "AWSCognitoIdentityService.GetId",
        "Content-Type": "application/x-amz-json-1.1",
    }
    for body in (b"not json", b"[1]", b'{"IdentityPoolId": 5}', b'{"IdentityPoolId": "x", "Logins": [1]}'):
        response = requests.post(stack.base + "/", data=body, headers=headers, timeout=5)
        assert response.status_code == HTTPStatus.BAD_REQUEST, body
        assert response.json()["__type"] in (
            "SerializationException", "InvalidParameterException", "ResourceNotFoundException"
        )  # fmt: skip
    logins = {"IdentityPoolId": stack.identity_pool_id, "Logins": {stack.provider: 5}}
    response = requests.post(stack.base + "/", json=logins, headers=headers, timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["__type"] == "SerializationException"  # a number for a string, as AWS says
    headers["X-Amz-Target"] = "AWSCognitoIdentityService.MergeDeveloperIdentities"
    response = requests.post(stack.base + "/", json={}, headers=headers, timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["__type"] == "MissingAuthenticationTokenException"  # signed on AWS
    with pytest.raises(ClientError) as exc:
        stack.identity_admin().merge_developer_identities(
            SourceUserIdentifier="a", DestinationUserIdentifier="b", DeveloperProviderName="d",
            IdentityPoolId=stack.identity_pool_id,
        )  # fmt: skip
    assert error_of(exc)[0] == "UnsupportedOperationException"


def test_identities_and_credentials_survive_restart_guests_can_be_off(private_stack) -> None:
    first = private_stack(identity_pool={"AllowUnauthenticatedIdentities": False})
    pool_id = first.identity_pool_id
    token = first.api_login(*ALICE)["IdToken"]
    identity_id, credentials = first.identity_credentials(token)
    with pytest.raises(ClientError) as exc:
        first.cognito_identity().get_id(IdentityPoolId=pool_id)
    assert error_of(exc)[0] == "NotAuthorizedException"
    first.stop()

    second = private_stack(data_dir=first.data_dir)
    assert second.identity_pool_id == pool_id
    again, _ = second.identity_credentials(token)
    assert again == identity_id
    # Credentials issued before the restart still sign requests.
    key = f"protected/{identity_id}/after-restart.txt"
    second.s3(credentials).put_object(Bucket=second.bucket, Key=key, Body=b"kept")
    assert second.s3().get_object(Bucket=second.bucket, Key=key)["Body"].read() == b"kept"


def test_signed_admin_calls_reach_the_pool(stack: Stack) -> None:
    client = boto3.client(
        "cognito-identity",
        region_name="us-east-1",
        endpoint_url=stack.base,
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
    )
    pools = client.list_identity_pools(MaxResults=10)["IdentityPools"]
    assert [p["IdentityPoolId"] for p in pools] == [stack.identity_pool_id]
