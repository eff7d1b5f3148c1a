"""CreateUserPoolClient / UpdateUserPoolClient refuse what Cognito refuses (localcloud/userpool/clients.py).

moto stores any app client it is given; a local stack that took an http callback on another host,
an unknown provider or attribute, or a token validity out of Cognito's range would let a test pass
that AWS fails. Each refusal is tried on create and on update, and the client is left as it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.localcloud import Stack

INVALID = "InvalidParameterException"


def outcome(call: Callable[[], Any]) -> tuple[str, str]:
    """(error code, message) of a refused call; ("OK", "") when it succeeded."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"]), str(exc.response["Error"]["Message"])
    return "OK", ""


@pytest.fixture
def client_calls(stack: Stack) -> Iterator[tuple[Callable[..., Any], Callable[..., Any]]]:
    """(create(**params), update(**params)): calls on a fresh public client of the stack (deleted after)."""
    idp, unchecked, made = stack.idp(), stack.idp(validate=False), []

    def create(**params: Any) -> Any:
        client = unchecked.create_user_pool_client(
            UserPoolId=stack.pool_id, ClientName=f"checked-{secrets.token_hex(4)}", **params
        )["UserPoolClient"]
        made.append(client["ClientId"])
        return client

    base = create()

    def update(**params: Any) -> Any:
        return unchecked.update_user_pool_client(
            UserPoolId=stack.pool_id, ClientId=base["ClientId"], **params
        )

    yield create, update
    for client_id in made:
        idp.delete_user_pool_client(UserPoolId=stack.pool_id, ClientId=client_id)


def refused_both_ways(calls: tuple[Callable[..., Any], Callable[..., Any]], **params: Any) -> tuple[str, str]:
    """The answer create and update both give params (they must agree but for the verb)."""
    create, update = calls
    created, updated = outcome(lambda: create(**params)), outcome(lambda: update(**params))
    assert created[0] == updated[0], (created, updated)
    return created


OAUTH = {
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthFlowsUserPoolClient": True,
    "AllowedOAuthScopes": ["openid"],
}


@pytest.mark.parametrize(
    "urls",
    [
        ["http://evil.example.com/cb"],
        ["https://app.example.com/cb", "http://127.0.0.1.evil.example/cb"],
        ["https://app.example.com/cb#fragment"],
        ["/relative/cb"],
        ["http:///no-host"],
    ],
)
def test_a_callback_url_cognito_refuses_is_refused(client_calls, urls: list[str]) -> None:
    assert refused_both_ways(client_calls, CallbackURLs=urls, **OAUTH)[0] == INVALID


def test_https_localhost_and_app_scheme_callbacks_are_taken(client_calls) -> None:
    create, update = client_calls
    urls = [
        "https://app.example.com/cb",
        "http://localhost:8000/cb",
        "http://localhost/",
        "myapp://signed-in",
    ]
    assert create(CallbackURLs=urls, DefaultRedirectURI=urls[1], **OAUTH)["CallbackURLs"] == urls
    assert update(CallbackURLs=urls, **OAUTH)["UserPoolClient"]["CallbackURLs"] == urls
    # The default redirect must be one of them, and follows the same rules.
    assert refused_both_ways(client_calls, CallbackURLs=urls, DefaultRedirectURI="https://other.example/")[
        0
    ] == (INVALID)
    assert refused_both_ways(client_calls, CallbackURLs=urls, DefaultRedirectURI="http://evil.example/")[
        0
    ] == (INVALID)


def test_a_token_validity_unit_outside_cognitos_set_is_refused(client_calls) -> None:
    code, message = refused_both_ways(
        client_calls, AccessTokenValidity=1, TokenValidityUnits={"AccessToken": "weeks"}
    )
    assert (code, message) == (
        INVALID,
        "1 validation error detected: Value 'weeks' at 'tokenValidityUnits.accessToken' failed to satisfy "
        "constraint: Member must satisfy enum value set: [seconds, minutes, hours, days]",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"RefreshTokenValidity": 59, "TokenValidityUnits": {"RefreshToken": "minutes"}},
        {"RefreshTokenValidity": 3599, "TokenValidityUnits": {"RefreshToken": "seconds"}},
        {"RefreshTokenValidity": 3651},  # days, when no unit is named
        {"AccessTokenValidity": 4, "TokenValidityUnits": {"AccessToken": "minutes"}},
        {"AccessTokenValidity": 25},  # hours, when no unit is named
        {"IdTokenValidity": 299, "TokenValidityUnits": {"IdToken": "seconds"}},
        {"IdTokenValidity": 2, "TokenValidityUnits": {"IdToken": "days"}},
    ],
)
def test_a_token_validity_out_of_cognitos_range_is_refused(client_calls, params: dict[str, Any]) -> None:
    assert refused_both_ways(client_calls, **params) == (INVALID, "Invalid range for token validity.")


def test_token_validities_at_the_edges_of_cognitos_ranges_are_taken(client_calls) -> None:
    create, _ = client_calls
    edges = {
        "RefreshTokenValidity": 60, "AccessTokenValidity": 300, "IdTokenValidity": 1,
        "TokenValidityUnits": {"RefreshToken": "minutes", "AccessToken": "seconds", "IdToken": "days"},
    }  # fmt: skip
    client = create(**edges)
    assert client["RefreshTokenValidity"] == 60 and client["AccessTokenValidity"] == 300


def test_an_identity_provider_the_pool_lacks_is_refused(client_calls, stack: Stack) -> None:
    assert refused_both_ways(client_calls, SupportedIdentityProviders=["COGNITO", "Nope"]) == (
        INVALID,
        f"The provider Nope does not exist for User Pool {stack.pool_id}",
    )
    create, _ = client_calls
    taken = create(SupportedIdentityProviders=["COGNITO", "Google"])["SupportedIdentityProviders"]
    assert taken == ["COGNITO", "Google"]


@pytest.mark.parametrize("key", ["ReadAttributes", "WriteAttributes"])
def test_an_attribute_the_schema_lacks_is_refused(client_calls, key: str) -> None:
    create, update = client_calls
    kind = key.removesuffix("Attributes").lower()
    assert outcome(lambda: create(**{key: ["email", "custom:nope"]})) == (
        INVALID,
        f"Invalid {kind} attributes specified while creating a client",
    )
    assert outcome(lambda: update(**{key: ["email", "custom:nope"]})) == (
        INVALID,
        f"Invalid {kind} attributes specified while updating a client",
    )
    taken = create(**{key: ["email", "name", "custom:role"]})[key]
    assert sorted(taken) == ["custom:role", "email", "name"]


def test_a_refused_update_leaves_the_client_as_it_was(client_calls, stack: Stack) -> None:
    _, update = client_calls
    update(CallbackURLs=["https://app.example.com/cb"], **OAUTH)
    assert outcome(lambda: update(CallbackURLs=["http://evil.example.com/cb"], **OAUTH))[0] == INVALID
    assert outcome(lambda: update(ReadAttributes=["custom:nope"]))[0] == INVALID
    client_id = update()["UserPoolClient"]["ClientId"]
    described = stack.idp().describe_user_pool_client(UserPoolId=stack.pool_id, ClientId=client_id)
    assert "http://evil.example.com/cb" not in described["UserPoolClient"].get("CallbackURLs", [])


def test_a_session_over_the_models_length_is_a_validation_error(stack: Stack) -> None:
    """botocore's SessionType: 20 to 4096 characters (the reviewer's 2048 is an older model's)."""
    unchecked = stack.idp(validate=False)

    def respond(session: str) -> Any:
        return unchecked.respond_to_auth_challenge(
            ClientId=stack.spa_client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
            ChallengeResponses={"USERNAME": "alice@example.com", "NEW_PASSWORD": "Chosen-pass-1"},
        )  # fmt: skip

    assert outcome(lambda: respond("s" * 4097)) == (
        INVALID,
        "Invalid length for parameter Session: length 4097 > 4096",
    )
    assert outcome(lambda: respond("s" * 19))[0] == INVALID
    # Within the model's length an unknown session is what AWS says of one.
    assert outcome(lambda: respond("s" * 3000)) == (
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    )
