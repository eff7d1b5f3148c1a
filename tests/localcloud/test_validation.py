"""Every Cognito API call is validated against the botocore model first: bad input is a 400, never a 500."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.localcloud import Stack

PREFIXES = {
    "cognito-idp": "AWSCognitoIdentityProviderService.",
    "cognito-identity": "AWSCognitoIdentityService.",
}
# Calls that would damage the shared stack's seeded users, pool or client if they succeeded.
DESTRUCTIVE = {
    "AdminDeleteUser", "AdminDisableUser", "AdminSetUserPassword", "AdminResetUserPassword",
    "AdminUserGlobalSignOut", "UpdateUserPool", "UpdateUserPoolClient", "AdminUpdateUserAttributes",
    "AdminDeleteUserAttributes", "AdminRemoveUserFromGroup", "SetUserPoolMfaConfig",
    "AdminSetUserMFAPreference", "AdminConfirmSignUp", "UpdateGroup", "AddCustomAttributes",
    "AdminEnableUser",
}  # fmt: skip
FIELDS = ("UserPoolId", "Username", "ClientId", "GroupName", "Limit", "Filter", "PaginationToken",
          "IdentityPoolId", "MaxResults", "UserAttributes", "AttributesToGet", "NextToken")  # fmt: skip


def signed_call(stack: Stack, service: str, operation: str, params: dict[str, Any]) -> requests.Response:
    body = json.dumps(params).encode()
    headers = {"X-Amz-Target": PREFIXES[service] + operation, "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(method="POST", url=stack.base + "/", data=body, headers=headers)
    credentials = Credentials(stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return requests.post(stack.base + "/", data=body, headers=dict(request.headers.items()), timeout=10)


@pytest.mark.parametrize(
    "value", [None, 1, [], {}, "x" * 2000, "\u0000"], ids=["null", "1", "list", "dict", "long", "nul"]
)
def test_operator_signed_fuzz_never_gets_a_5xx(stack: Stack, value: Any) -> None:
    # The reviewer's fuzz: every operation of both models, each common member set to one bad value.
    session = botocore.session.get_session()
    failures = []
    for service in PREFIXES:
        for operation in session.get_service_model(service).operation_names:
            if operation.startswith("Delete") or operation in DESTRUCTIVE:
                continue
            params = {name: value for name in FIELDS}
            if value is None:
                params["UserPoolId"] = stack.pool_id
            response = signed_call(stack, service, operation, params)
            if response.status_code >= 500:
                failures.append((operation, response.status_code, response.text[:120]))
    assert failures == []


@pytest.mark.parametrize(
    ("operation", "params", "error_type"),
    [
        ("AdminGetUser", {"UserPoolId": "{pool}", "Username": []}, "SerializationException"),
        ("AdminGetUser", {"UserPoolId": "{pool}", "Username": {}}, "SerializationException"),
        ("AdminGetUser", {"UserPoolId": "{pool}"}, "InvalidParameterException"),
        ("AdminGetUser", {"UserPoolId": "{pool}", "Username": None}, "InvalidParameterException"),
        ("CreateGroup", {"UserPoolId": "{pool}", "GroupName": []}, "SerializationException"),
        ("CreateUserPool", {"PoolName": None}, "InvalidParameterException"),
        ("CreateUserPool", {"PoolName": 1}, "SerializationException"),
        ("CreateUserPool", {"PoolName": "x" * 2000}, "InvalidParameterException"),
        (
            "CreateIdentityProvider",
            {"UserPoolId": "{pool}", "ProviderName": "x", "ProviderType": "OIDC", "ProviderDetails": 1},
            "SerializationException",
        ),  # fmt: skip
        ("ListUsers", {"UserPoolId": "{pool}", "Limit": -1}, "InvalidParameterException"),
        (
            "InitiateAuth",
            {"ClientId": "{client}", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": []},
            "SerializationException",
        ),  # fmt: skip
    ],
)
def test_bad_parameters_get_awss_answer(
    stack: Stack, operation: str, params: dict[str, Any], error_type: str
) -> None:
    params = {
        k: v.format(pool=stack.pool_id, client=stack.client_id) if isinstance(v, str) and "{" in v else v
        for k, v in params.items()
    }
    response = signed_call(stack, "cognito-idp", operation, params)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == error_type, response.text
    assert response.headers["x-amzn-ErrorType"].startswith(error_type)


def test_the_identity_api_is_validated_too(stack: Stack) -> None:
    response = signed_call(stack, "cognito-identity", "DescribeIdentityPool", {"IdentityPoolId": []})
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    response = signed_call(
        stack, "cognito-identity", "ListIdentities", {"IdentityPoolId": stack.identity_pool_id}
    )
    assert response.json()["__type"] == "InvalidParameterException"  # MaxResults is required
    assert "MaxResults" in response.json()["message"]


def test_unknown_members_are_ignored_as_on_aws(stack: Stack) -> None:
    response = signed_call(stack, "cognito-idp", "ListUsers", {"UserPoolId": stack.pool_id, "Extra": [1]})
    assert response.status_code == 200, response.text


# --- nesting: refused before anything walks it (a RecursionError was a 500) -------------------------------
def unsigned_call(stack: Stack, service: str, operation: str, body: str) -> requests.Response:
    headers = {"X-Amz-Target": PREFIXES[service] + operation, "Content-Type": "application/x-amz-json-1.1"}
    return requests.post(stack.base + "/", data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("depth", [40, 500, 5000, 30_000])
@pytest.mark.parametrize(
    ("service", "operation", "template"),
    [
        ("cognito-idp", "InitiateAuth", '{"ClientId":%s}'),
        (
            "cognito-idp",
            "InitiateAuth",
            '{"ClientId":"x","AuthFlow":"USER_PASSWORD_AUTH","ClientMetadata":%s}',
        ),
        ("cognito-identity", "GetId", '{"IdentityPoolId":%s}'),
    ],
    ids=["idp-list", "idp-map", "identity-list"],
)
def test_deeply_nested_json_is_a_serialization_error(
    stack: Stack, service: str, operation: str, template: str, depth: int
) -> None:
    nested = (
        "[" * depth + "]" * depth if "ClientMetadata" not in template else '{"a":' * depth + "1" + "}" * depth
    )
    response = unsigned_call(stack, service, operation, template % nested)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "SerializationException", response.text


def test_signed_deep_json_is_refused_too(stack: Stack) -> None:
    params: Any = []
    for _ in range(600):
        params = [params]
    response = signed_call(stack, "cognito-idp", "ListUsers", {"UserPoolId": stack.pool_id, "Filter": params})
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "SerializationException"
