"""Federated sign-in through the user pool (reference-2 §1), over HTTP against real processes.

The fake Google/Facebook/Apple/OIDC providers are localcloud's own; a test's own misbehaving
provider (tests/support/federation.py) forges tokens, relays errors or never answers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
import requests

from tests.support.federation import (
    browser_from,
    consent,
    fake_provider_id,
    federated_code,
    federated_tokens,
    new_email,
    rogue_provider,
    rogue_round_trip,
    to_provider,
    unsigned_idp,
)
from tests.support.localcloud import (
    DEFAULT_CONFIG,
    Stack,
    authorize_params,
    callback_query,
    code_for,
    code_of,
    exchange,
    s3_person,
    start_stack,
    write_config,
)


def claims_of(stack: Stack, tokens: dict) -> dict:
    return stack.verify(tokens["id_token"], "id")


# --- each provider's round trip -------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["Google", "Facebook", "SignInWithApple", "ExampleOIDC"])
def test_each_provider_creates_an_external_provider_user(stack: Stack, provider: str) -> None:
    email = new_email(provider.lower())
    claims = claims_of(stack, federated_tokens(stack, provider, email=email, name="Fed Person"))
    username = claims["cognito:username"]
    assert username.startswith(f"{provider}_")
    assert claims["email"] == email
    # Facebook says nothing about verification: its e-mail stays unverified (reference-2 §1.1).
    assert claims["email_verified"] is (provider != "Facebook")
    assert claims["cognito:groups"] == [f"{stack.pool_id}_{provider}"]
    [identity] = claims["identities"]
    assert identity["providerName"] == provider
    assert identity["userId"] == username.split("_", 1)[1]
    assert identity["primary"] == "true" and identity["dateCreated"].isdigit()
    user = stack.idp().admin_get_user(UserPoolId=stack.pool_id, Username=username)
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    stored = json.loads(attrs["identities"])  # a JSON string with a real boolean as an attribute
    assert stored[0]["primary"] is True
    assert attrs["sub"] == claims["sub"]


def test_same_person_again_is_the_same_user_and_attributes_are_remapped(stack: Stack) -> None:
    email = new_email()
    first = claims_of(stack, federated_tokens(stack, "Google", email=email, name="Old Name"))
    second = claims_of(stack, federated_tokens(stack, "Google", email=email, name="New Name"))
    assert second["sub"] == first["sub"]
    assert second["name"] == "New Name"


def test_idp_identifier_goes_straight_to_the_provider(stack: Stack) -> None:
    params = authorize_params(stack, idp_identifier="gmail")
    response = requests.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert response.status_code == HTTPStatus.FOUND
    location = response.headers["Location"]
    assert location.startswith(f"{stack.base}/_idp/google/authorize?")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1" in location and "nonce=" in location
    assert f"state={params['state']}" not in location  # Cognito's own state, never the app's


@pytest.mark.parametrize(
    "extra", [{"identity_provider": "Nope"}, {"identity_provider": None, "idp_identifier": "nope.example"}]
)
def test_unknown_provider_is_redirected_as_invalid_request(stack: Stack, extra: dict[str, str]) -> None:
    _, response, params = to_provider(stack, "Google", **extra)
    query = callback_query(response)
    assert query["error"] == "invalid_request" and query["state"] == params["state"]


def test_sign_in_page_shows_a_button_per_client_provider(stack: Stack) -> None:
    page = requests.get(f"{stack.base}/login", params=authorize_params(stack), timeout=5)
    for name, label in [("Google", "Google"), ("Facebook", "Facebook"), ("SignInWithApple", "Apple")]:
        assert f'id="idp-{name}"' in page.text and f"Continue with {label}" in page.text
    assert "identity_provider=ExampleOIDC" in page.text


# --- errors back to the app -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "error"), [("Google", "access_denied"), ("SignInWithApple", "user_cancelled_authorize")]
)
def test_cancel_is_relayed_to_the_app(stack: Stack, provider: str, error: str) -> None:
    session, response, params = to_provider(stack, provider)
    back = consent(stack, session, response.headers["Location"], action="cancel")
    final = session.get(back.headers["Location"], allow_redirects=False, timeout=5)
    query = callback_query(final)
    assert final.headers["Location"].startswith(params["redirect_uri"])
    assert query["error"] == error and query["state"] == params["state"] and "code" not in query
    assert query["error_description"].startswith(f"{provider} Error")


def _to_idpresponse(stack: Stack) -> tuple[requests.Session, str]:
    session, response, _ = to_provider(stack, "Google")
    back = consent(stack, session, response.headers["Location"], email=new_email(), email_verified="true")
    return session, back.headers["Location"]


def test_state_is_single_use(stack: Stack) -> None:
    session, url = _to_idpresponse(stack)
    assert session.get(url, allow_redirects=False, timeout=10).status_code == HTTPStatus.FOUND
    replay = session.get(url, allow_redirects=False, timeout=10)
    assert replay.status_code == HTTPStatus.BAD_REQUEST and "Location" not in replay.headers
    assert "unknown, used or expired" in replay.text


def test_state_is_bound_to_the_browser_that_started(stack: Stack) -> None:
    session, url = _to_idpresponse(stack)
    other = requests.get(url, allow_redirects=False, timeout=10)  # no binding cookie
    assert other.status_code == HTTPStatus.BAD_REQUEST and "another browser" in other.text
    forged = requests.get(url, cookies={"lc-idp": "guess"}, allow_redirects=False, timeout=10)
    assert forged.status_code == HTTPStatus.BAD_REQUEST and "another browser" in forged.text
    # Neither burnt the real browser's round trip.
    final = session.get(url, allow_redirects=False, timeout=10)
    assert final.status_code == HTTPStatus.FOUND and "code" in callback_query(final)


def test_a_flood_of_round_trips_does_not_evict_anyone_elses(private_stack: Callable[..., Stack]) -> None:
    stack = private_stack(federation={"max_round_trips": 6, "max_round_trips_per_address": 2})
    session, url = _to_idpresponse(stack)  # from 127.0.0.1
    flood = browser_from("127.0.0.2")
    params = authorize_params(stack, identity_provider="Google")
    for _ in range(20):  # anonymous authorize?identity_provider=Google, many times over
        started = flood.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
        assert started.status_code == HTTPStatus.FOUND
    # A flood from several addresses fills the table: new round trips are refused, none evicted.
    for last in range(3, 6):
        browser_from(f"127.0.0.{last}").get(
            f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5
        )
    full = browser_from("127.0.0.9").get(
        f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5
    )
    assert callback_query(full)["error"] == "invalid_request"
    final = session.get(url, allow_redirects=False, timeout=10)
    assert final.status_code == HTTPStatus.FOUND and "code" in callback_query(final)


def test_unknown_state_is_an_error_page(stack: Stack) -> None:
    response = requests.get(
        f"{stack.base}/oauth2/idpresponse",
        params={"code": "x", "state": "forged"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST and "Location" not in response.headers


# --- the fake providers are strict ------------------------------------------------------------------
def test_fake_provider_refuses_unregistered_client_and_redirect(stack: Stack) -> None:
    base = f"{stack.base}/_idp/google/authorize"
    good = {
        "client_id": "123456789012-localcloud.apps.googleusercontent.com",
        "response_type": "code",
        "redirect_uri": f"{stack.base}/oauth2/idpresponse",
        "state": "s",
    }
    assert requests.get(base, params=good, timeout=5).status_code == HTTPStatus.OK
    for bad in ({"client_id": "other"}, {"redirect_uri": "http://localhost:8000/steal"}):
        response = requests.get(base, params={**good, **bad}, allow_redirects=False, timeout=5)
        assert response.status_code == HTTPStatus.BAD_REQUEST and "Location" not in response.headers


def test_fake_provider_token_endpoint_authenticates_the_client(stack: Stack) -> None:
    session, response, _ = to_provider(stack, "Google")
    back = consent(stack, session, response.headers["Location"], email=new_email())
    code = callback_query(back)["code"]
    token_url = f"{stack.base}/_idp/google/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{stack.base}/oauth2/idpresponse",
        "client_id": "123456789012-localcloud.apps.googleusercontent.com",
        "client_secret": "wrong",
    }
    refused = requests.post(token_url, data=form, timeout=5)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED and refused.json()["error"] == "invalid_client"


def test_fake_provider_is_behind_the_host_check(stack: Stack) -> None:
    response = requests.get(
        f"{stack.base}/_idp/google/jwks.json", headers={"Host": "attacker.example"}, timeout=5
    )
    assert response.status_code == HTTPStatus.MISDIRECTED_REQUEST


def test_fake_provider_keys_are_private(stack: Stack) -> None:
    assert (stack.data_dir / "idp.json").stat().st_mode & 0o777 == 0o600
    jwks = requests.get(f"{stack.base}/_idp/google/jwks.json", timeout=5).json()
    assert set(jwks["keys"][0]) >= {"kid", "n", "e"} and "d" not in jwks["keys"][0]


# --- no password for federated users, and they do not shadow native ones --------------------------------
def test_federated_user_cannot_use_password_flows(stack: Stack) -> None:
    username = claims_of(stack, federated_tokens(stack, "Google", email=new_email()))["cognito:username"]
    idp = stack.idp()
    for password in ("", "anything"):
        with pytest.raises(idp.exceptions.NotAuthorizedException, match="not authorized to get auth details"):
            idp.initiate_auth(
                ClientId=stack.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={
                    "USERNAME": username,
                    "PASSWORD": password,
                    "SECRET_HASH": stack.secret_hash(username),
                },
            )
    with pytest.raises(idp.exceptions.NotAuthorizedException, match="cannot be reset"):
        idp.forgot_password(
            ClientId=stack.client_id, Username=username, SecretHash=stack.secret_hash(username)
        )


def test_unverified_federated_email_is_not_linked_and_does_not_shadow(
    stack: Stack, new_stack_user: Callable
) -> None:
    email, password = new_stack_user()
    native = stack.verify(stack.api_login(email, password)["IdToken"], "id")
    for provider, verified in (("Google", False), ("Facebook", True)):  # Facebook never says verified
        claims = claims_of(stack, federated_tokens(stack, provider, email=email, verified=verified))
        assert claims["sub"] != native["sub"] and claims["cognito:username"].startswith(f"{provider}_")
    # Signing in with the e-mail still finds the native user, not the federated profiles.
    assert stack.verify(stack.api_login(email, password)["IdToken"], "id")["sub"] == native["sub"]


# --- linking -------------------------------------------------------------------------------------------
def test_verified_email_links_to_the_native_user(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    native = stack.verify(stack.api_login(email, password)["IdToken"], "id")
    claims = claims_of(stack, federated_tokens(stack, "Google", email=email, verified=True))
    assert claims["sub"] == native["sub"]
    assert claims["cognito:username"] == native["cognito:username"]
    assert f"{stack.pool_id}_Google" not in claims.get("cognito:groups", [])  # linked users are not added
    assert [i["providerName"] for i in claims["identities"]] == ["Google"]
    # No Google_… profile was created.
    users = stack.idp().list_users(UserPoolId=stack.pool_id, Filter=f'email = "{email}"')["Users"]
    assert [u["UserStatus"] for u in users] == ["CONFIRMED"]


def test_native_user_with_unverified_email_is_never_linked(stack: Stack) -> None:
    email = new_email("unverified")
    idp = stack.idp()
    idp.admin_create_user(
        UserPoolId=stack.pool_id,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    idp.admin_set_user_password(
        UserPoolId=stack.pool_id, Username=email, Password="Test-pass-1", Permanent=True
    )
    claims = claims_of(stack, federated_tokens(stack, "Google", email=email, verified=True))
    assert claims["cognito:username"].startswith("Google_")


def test_admin_link_and_disable(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    native = stack.verify(stack.api_login(email, password)["IdToken"], "id")
    native_sub = native["sub"]
    idp = stack.idp()
    other_email = new_email("link")  # a Google account with another e-mail, never signed in
    google_id = fake_provider_id(stack, "Google", other_email)
    link = {
        "UserPoolId": stack.pool_id,
        "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": native["cognito:username"]},
        "SourceUser": {
            "ProviderName": "Google",
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": google_id,
        },
    }
    idp.admin_link_provider_for_user(**link)
    linked = claims_of(stack, federated_tokens(stack, "Google", email=other_email))
    assert linked["sub"] == native_sub
    # As on AWS, the provider's mapped attributes are written onto the native profile at sign-in.
    assert linked["email"] == other_email
    # The same identity cannot be linked again, to another user or to the same one: AWS answers a
    # repeated link with this InvalidParameterException (aws/aws-sdk-js-v3#5281, amplify-js#13334).
    someone, _ = new_stack_user()
    taken = {**link, "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": someone}}
    for again in (taken, link):
        with pytest.raises(
            idp.exceptions.InvalidParameterException, match="Invalid SourceUser: Cognito users"
        ):
            idp.admin_link_provider_for_user(**again)
    assert claims_of(stack, federated_tokens(stack, "Google", email=other_email))["sub"] == native_sub
    # An identity that already has its own profile cannot be merged.
    signed_up = claims_of(stack, federated_tokens(stack, "Google", email=new_email()))["cognito:username"]
    merge = {
        **link,
        "SourceUser": {**link["SourceUser"], "ProviderAttributeValue": signed_up.split("_", 1)[1]},
    }
    with pytest.raises(idp.exceptions.InvalidParameterException, match="Merging is not currently supported"):
        idp.admin_link_provider_for_user(**merge)
    bad_attribute = {**link, "SourceUser": {**link["SourceUser"], "ProviderAttributeName": "email"}}
    assert code_of(lambda: idp.admin_link_provider_for_user(**bad_attribute)) == "InvalidParameterException"
    # Unlinked: the next Google sign-in makes its own profile.
    idp.admin_disable_provider_for_user(UserPoolId=stack.pool_id, User=link["SourceUser"])
    # Verified, and the native user has this e-mail now: the emulated pre-sign-up trigger
    # still does not link again what was unlinked.
    after = claims_of(stack, federated_tokens(stack, "Google", email=other_email, verified=True))
    assert after["sub"] != native_sub and after["cognito:username"] == f"Google_{google_id}"


# --- the identity-provider API ------------------------------------------------------------------------------
def test_identity_provider_api(stack: Stack) -> None:
    idp = stack.idp()
    described = idp.describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="Google")[
        "IdentityProvider"
    ]
    assert described["ProviderType"] == "Google" and described["IdpIdentifiers"] == ["gmail"]
    apple = idp.describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="SignInWithApple")
    apple_details = apple["IdentityProvider"]["ProviderDetails"]
    assert "private_key" not in apple_details and {"key_id", "team_id"} <= set(apple_details)
    names = {p["ProviderName"] for p in idp.list_identity_providers(UserPoolId=stack.pool_id)["Providers"]}
    assert names >= {"Google", "Facebook", "SignInWithApple", "ExampleOIDC"}
    duplicate = {
        "UserPoolId": stack.pool_id,
        "ProviderName": "Google",
        "ProviderType": "Google",
        "ProviderDetails": {"client_id": "x", "client_secret": "y", "authorize_scopes": "openid"},
    }
    assert code_of(lambda: idp.create_identity_provider(**duplicate)) == "DuplicateProviderException"
    wrong_name = {**duplicate, "ProviderName": "MyGoogle"}
    assert code_of(lambda: idp.create_identity_provider(**wrong_name)) == "InvalidParameterException"


def test_federated_id_token_gets_identity_pool_credentials(stack: Stack) -> None:
    tokens = federated_tokens(stack, "Google", email=new_email("avatar"))
    person = s3_person(stack, tokens["id_token"])
    assert person.identity_id.startswith("us-east-1:") and person.credentials["AccessKeyId"].startswith(
        "ASIA"
    )


# --- a provider that forges, fails or stalls ------------------------------------------------------------
ROGUE = "Rogue"


@pytest.fixture(scope="module")
def rogue_stack(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("rogue")
    with rogue_provider() as rogue:
        config = write_config(
            tmp / "config.json",
            federation={"idp_timeout_seconds": 1, "link_verified_email": True},
            app_client={"SupportedIdentityProviders": ["COGNITO", "Google", ROGUE]},
        )
        running = start_stack(tmp / "data", config)
        running.idp().create_identity_provider(
            UserPoolId=running.pool_id,
            ProviderName=ROGUE,
            ProviderType="OIDC",
            ProviderDetails=rogue.details(),
            AttributeMapping={"email": "email", "username": "sub"},
        )
        yield running, rogue
        running.stop()


@pytest.mark.parametrize(
    "mode",
    [
        "wrong_iss",
        "wrong_aud",
        "bad_signature",
        "expired",
        "wrong_nonce",
        "aud_list_without_azp",
        "aud_list_wrong_azp",
    ],
)
def test_forged_provider_tokens_are_refused(rogue_stack, mode: str) -> None:
    stack, rogue = rogue_stack
    rogue.mode = mode
    back = rogue_round_trip(stack, rogue, ROGUE, f"{mode}-code")
    query = callback_query(back)
    assert query["error"] == "invalid_request" and "code" not in query, query
    assert query["state"] == back.app_state and "id_token" in query["error_description"]


@pytest.mark.parametrize("mode", ["ok", "aud_list_with_azp"])
def test_honest_rogue_provider_signs_in(rogue_stack, mode: str) -> None:
    stack, rogue = rogue_stack
    rogue.mode = mode
    query = callback_query(rogue_round_trip(stack, rogue, ROGUE, f"honest-{mode}"))
    assert "code" in query, query


def test_provider_error_is_relayed(rogue_stack) -> None:
    stack, rogue = rogue_stack
    rogue.mode = "error"
    query = callback_query(rogue_round_trip(stack, rogue, ROGUE, "x"))
    assert query["error"] == "invalid_grant" and query["error_description"].startswith(f"{ROGUE} Error - 400")


def test_provider_that_never_answers_times_out(rogue_stack) -> None:
    stack, rogue = rogue_stack
    rogue.mode = "hang"
    query = callback_query(rogue_round_trip(stack, rogue, ROGUE, "slow"))
    assert query["error"] == "invalid_request" and "Timeout" in query["error_description"]
    rogue.release.set()
    # The stack kept answering others meanwhile and still does.
    assert requests.get(f"{stack.base}/_health", timeout=5).status_code == HTTPStatus.OK


def test_native_sign_up_with_an_email_a_federated_profile_has(stack: Stack) -> None:
    email = new_email("later")
    federated = claims_of(stack, federated_tokens(stack, "Facebook", email=email))
    idp = stack.idp()
    idp.sign_up(
        ClientId=stack.client_id,
        Username=email,
        Password="Test-pass-1",
        SecretHash=stack.secret_hash(email),
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    idp.admin_confirm_sign_up(UserPoolId=stack.pool_id, Username=email)
    native = stack.verify(stack.api_login(email, "Test-pass-1")["IdToken"], "id")
    assert native["sub"] != federated["sub"] and "identities" not in native


def test_an_email_claimed_by_two_providers(stack: Stack, new_stack_user: Callable) -> None:
    # With a native owner, both verified claims link to it; without one, nobody is merged.
    email, password = new_stack_user()
    native = stack.verify(stack.api_login(email, password)["IdToken"], "id")
    for provider in ("Google", "SignInWithApple"):
        assert claims_of(stack, federated_tokens(stack, provider, email=email))["sub"] == native["sub"]
    providers = [
        i["providerName"]
        for i in claims_of(stack, federated_tokens(stack, "Google", email=email))["identities"]
    ]
    assert sorted(providers) == ["Google", "SignInWithApple"]
    orphan = new_email("orphan")
    google = claims_of(stack, federated_tokens(stack, "Google", email=orphan))
    apple = claims_of(stack, federated_tokens(stack, "SignInWithApple", email=orphan))
    assert google["sub"] != apple["sub"]
    assert apple["cognito:username"].startswith("SignInWithApple_")


def test_only_a_sign_in_through_a_provider_carries_identities(stack: Stack, new_stack_user: Callable) -> None:
    # A linked user's password sign-in says nothing of providers (reference §2: `identities` for
    # federated sign-ins only): the app tells a password sign-in from a Google one by it.
    email, password = new_stack_user()
    federated = federated_tokens(stack, "Google", email=email)
    assert [i["providerName"] for i in claims_of(stack, federated)["identities"]] == ["Google"]
    assert "identities" not in stack.verify(stack.api_login(email, password)["IdToken"], "id")
    code, _ = code_for(stack, email, password)
    hosted = exchange(stack, code).json()
    assert "identities" not in claims_of(stack, hosted)
    # A refresh keeps what the sign-in was.
    for tokens, has in ((federated, True), (hosted, False)):
        refreshed = requests.post(
            f"{stack.base}/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(stack.client_id, stack.client_secret),
            timeout=5,
        ).json()
        assert ("identities" in claims_of(stack, refreshed)) is has


def test_provider_account_whose_email_changes(stack: Stack, new_stack_user: Callable) -> None:
    account = f"acct-{new_email()[4:14]}"
    first = claims_of(stack, federated_tokens(stack, "Google", email=new_email(), account_id=account))
    changed_to = new_email("changed")
    after = claims_of(
        stack, federated_tokens(stack, "Google", email=changed_to, verified=False, account_id=account)
    )
    # The same provider account is the same user; the new address is taken, unverified as the provider says.
    assert after["sub"] == first["sub"] and after["email"] == changed_to and after["email_verified"] is False
    # A later change never links it to a native user who has that address: linking is for first sign-ins.
    email, password = new_stack_user()
    moved = claims_of(stack, federated_tokens(stack, "Google", email=email, account_id=account))
    assert moved["sub"] == first["sub"]
    assert stack.verify(stack.api_login(email, password)["IdToken"], "id")["sub"] != first["sub"]


def test_fake_provider_refuses_a_malformed_account_id(stack: Stack) -> None:
    session, response, _ = to_provider(stack, "Google")
    page = consent(stack, session, response.headers["Location"], email=new_email(), sub="<script>")
    assert (
        page.status_code == HTTPStatus.BAD_REQUEST
        and "account id" in page.text
        and "<script>" not in page.text
    )


def test_provider_and_linking_operations_need_the_operators_signature(stack: Stack) -> None:
    anonymous = unsigned_idp(stack)
    source = {
        "ProviderName": "Google",
        "ProviderAttributeName": "Cognito_Subject",
        "ProviderAttributeValue": "1",
    }
    calls = [
        lambda: anonymous.admin_link_provider_for_user(
            UserPoolId=stack.pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "alice@example.com"},
            SourceUser=source,
        ),
        lambda: anonymous.admin_disable_provider_for_user(UserPoolId=stack.pool_id, User=source),
        lambda: anonymous.describe_identity_provider(
            UserPoolId=stack.pool_id, ProviderName="SignInWithApple"
        ),
        lambda: anonymous.list_identity_providers(UserPoolId=stack.pool_id),
        lambda: anonymous.delete_identity_provider(UserPoolId=stack.pool_id, ProviderName="Google"),
    ]
    for call in calls:
        assert code_of(call) == "MissingAuthenticationTokenException"
    assert stack.idp().describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="Google")


# --- a linked identity never takes another user's e-mail (review finding 1) -----------------------------
def test_linked_identity_cannot_take_another_users_email(stack: Stack, new_stack_user: Callable) -> None:
    eve_email, _ = new_stack_user()
    vic_email, vic_password = new_stack_user()
    eve_password = "Eve-pass-123"  # not vic's
    stack.idp().admin_set_user_password(
        UserPoolId=stack.pool_id, Username=eve_email, Password=eve_password, Permanent=True
    )
    account = f"acct-{new_email()[4:14]}"
    eve = stack.verify(stack.api_login(eve_email, eve_password)["IdToken"], "id")
    linked = claims_of(stack, federated_tokens(stack, "Google", email=eve_email, account_id=account))
    assert linked["sub"] == eve["sub"]
    # The same Google account now says vic's address (unverified, then verified): eve keeps hers.
    for verified in (False, True):
        again = claims_of(
            stack, federated_tokens(stack, "Google", email=vic_email, verified=verified, account_id=account)
        )
        assert again["sub"] == eve["sub"] and again["email"] == eve_email and again["email_verified"] is True
    assert stack.verify(stack.api_login(vic_email, vic_password)["IdToken"], "id")["email"] == vic_email
    assert code_of(lambda: stack.api_login(vic_email, eve_password)) == "NotAuthorizedException"
    users = stack.idp().list_users(UserPoolId=stack.pool_id, Filter=f'email = "{vic_email}"')["Users"]
    assert len(users) == 1
    # An unverified address nobody has does not replace eve's verified one either.
    fresh = new_email("unverified")
    third = claims_of(
        stack, federated_tokens(stack, "Google", email=fresh, verified=False, account_id=account)
    )
    assert third["email"] == eve_email and third["email_verified"] is True
    assert stack.verify(stack.api_login(eve_email, eve_password)["IdToken"], "id")["sub"] == eve["sub"]


# --- no e-mailed code for federated users (review finding 2) --------------------------------------------
def test_federated_user_cannot_sign_in_with_an_emailed_code(stack: Stack) -> None:
    email = new_email("otp")
    username = claims_of(stack, federated_tokens(stack, "Google", email=email))["cognito:username"]
    idp = stack.idp()
    # With PreventUserExistenceErrors (the web client), a non-user's answers: a session, no code.
    started = idp.initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": username,
            "SECRET_HASH": stack.secret_hash(username),
            "PREFERRED_CHALLENGE": "EMAIL_OTP",
        },
    )
    assert started["ChallengeName"] == "EMAIL_OTP" and stack.sign_in_codes(email) == []
    answer = {"USERNAME": username, "SECRET_HASH": stack.secret_hash(username), "EMAIL_OTP_CODE": "123456"}
    refused = lambda: idp.respond_to_auth_challenge(  # noqa: E731
        ClientId=stack.client_id,
        ChallengeName="EMAIL_OTP",
        Session=started["Session"],
        ChallengeResponses=answer,
    )
    assert code_of(refused) == "CodeMismatchException"
    # Without it, told as the password flows tell it.
    legacy = idp.create_user_pool_client(
        UserPoolId=stack.pool_id, ClientName="legacy-otp", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="LEGACY",
    )["UserPoolClient"]  # fmt: skip
    with pytest.raises(idp.exceptions.NotAuthorizedException, match="not authorized to get auth details"):
        idp.initiate_auth(
            ClientId=legacy["ClientId"],
            AuthFlow="USER_AUTH",
            AuthParameters={"USERNAME": username, "PREFERRED_CHALLENGE": "EMAIL_OTP"},
        )
    assert stack.sign_in_codes(email) == []


# --- provider names (review finding 5) ------------------------------------------------------------------
def _oidc(stack: Stack, name: str) -> dict[str, Any]:
    return {
        "UserPoolId": stack.pool_id,
        "ProviderName": name,
        "ProviderType": "OIDC",
        "ProviderDetails": {
            "client_id": "c",
            "client_secret": "s",
            "authorize_scopes": "openid",
            "oidc_issuer": "https://issuer.example.com",
        },  # fmt: skip
    }


def test_provider_name_pattern_and_links_of_names_with_a_colon(
    stack: Stack, new_stack_user: Callable
) -> None:
    idp = stack.idp()
    for bad in ("Ab", "_Acme", "Ac me", "Acm_e", " Acme"):
        assert code_of(lambda b=bad: idp.create_identity_provider(**_oidc(stack, b))) == (
            "InvalidParameterException"
        ), bad
    suffix = secrets.token_hex(3)
    # "<name>:<id>" would be the same text for both identities: each still links to its own user.
    short, colon = f"Ac{suffix}", f"Ac{suffix}:x"
    for name in (short, colon):
        idp.create_identity_provider(**_oidc(stack, name))
    first, _ = new_stack_user()
    second, _ = new_stack_user()

    def link(user: str, provider: str, value: str) -> None:
        idp.admin_link_provider_for_user(
            UserPoolId=stack.pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": user},
            SourceUser={"ProviderName": provider, "ProviderAttributeName": "Cognito_Subject",
                        "ProviderAttributeValue": value},
        )  # fmt: skip

    link(first, colon, "1")
    link(second, short, "x:1")
    idp.delete_identity_provider(UserPoolId=stack.pool_id, ProviderName=short)
    user = idp.admin_get_user(UserPoolId=stack.pool_id, Username=first)
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert [i["providerName"] for i in json.loads(attrs["identities"])] == [colon]
    assert code_of(lambda: link(second, colon, "1")) == "InvalidParameterException"  # still first's


# --- unlinking stays true (review finding 3) ------------------------------------------------------------
def test_an_unlinked_identity_is_not_linked_again(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    native = stack.verify(stack.api_login(email, password)["IdToken"], "id")
    linked = claims_of(stack, federated_tokens(stack, "Google", email=email))
    assert linked["sub"] == native["sub"]
    stack.idp().admin_disable_provider_for_user(
        UserPoolId=stack.pool_id,
        User={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
              "ProviderAttributeValue": linked["identities"][0]["userId"]},
    )  # fmt: skip
    for _ in range(2):  # the same verified e-mail, again and again: its own profile
        again = claims_of(stack, federated_tokens(stack, "Google", email=email))
        assert again["sub"] != native["sub"] and again["cognito:username"].startswith("Google_")
    assert stack.verify(stack.api_login(email, password)["IdToken"], "id")["sub"] == native["sub"]
    # Another provider's verified claim of the address still links (only the removed link is remembered).
    apple = claims_of(stack, federated_tokens(stack, "SignInWithApple", email=email))
    assert apple["sub"] == native["sub"]


# --- deleting a provider (review finding 7) -------------------------------------------------------------
def test_deleting_a_provider_removes_its_identities_from_linked_users(
    stack: Stack, new_stack_user: Callable
) -> None:
    idp = stack.idp()
    name = f"Gone{secrets.token_hex(3)}"
    idp.create_identity_provider(**_oidc(stack, name))
    email, _ = new_stack_user()
    idp.admin_link_provider_for_user(
        UserPoolId=stack.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": email},
        SourceUser={"ProviderName": name, "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": "42"},
    )  # fmt: skip

    def attrs() -> dict[str, str]:
        user = idp.admin_get_user(UserPoolId=stack.pool_id, Username=email)
        return {a["Name"]: a["Value"] for a in user["UserAttributes"]}

    assert [i["providerName"] for i in json.loads(attrs()["identities"])] == [name]
    idp.delete_identity_provider(UserPoolId=stack.pool_id, ProviderName=name)
    assert "identities" not in attrs()  # nothing stale to count toward the 5 links or to list


# --- what CreateIdentityProvider / UpdateIdentityProvider take and return (review finding 8) ---------------
def test_provider_names_and_urls_are_checked_as_aws_does(stack: Stack) -> None:
    idp = stack.idp()
    for reserved in ("COGNITO", "Cognito"):
        assert code_of(lambda r=reserved: idp.create_identity_provider(**_oidc(stack, r))) == (
            "InvalidParameterException"
        )
    name = f"Url{secrets.token_hex(3)}"
    for key in ("authorize_url", "token_url", "jwks_uri", "attributes_url", "oidc_issuer"):
        for url in ("javascript:alert(1)", "file:///etc/passwd", "http://evil.example/x", "https://"):
            spec = _oidc(stack, name)
            spec["ProviderDetails"][key] = url
            assert code_of(lambda s=spec: idp.create_identity_provider(**s)) == "InvalidParameterException", (
                url
            )
    spec = _oidc(stack, name)
    spec["ProviderDetails"]["authorize_url"] = "http://127.0.0.1:9/authorize"  # localcloud's own fakes
    created = idp.create_identity_provider(**spec)["IdentityProvider"]
    assert created["ProviderName"] == name
    bad_update = {"UserPoolId": stack.pool_id, "ProviderName": name,
                  "ProviderDetails": {"token_url": "javascript:alert(1)"}}  # fmt: skip
    assert code_of(lambda: idp.update_identity_provider(**bad_update)) == "InvalidParameterException"
    unknown = {**_oidc(stack, f"Map{secrets.token_hex(3)}"), "AttributeMapping": {"custom:nope": "x"}}
    assert code_of(lambda: idp.create_identity_provider(**unknown)) == "InvalidParameterException"


def test_update_never_returns_apples_private_key(stack: Stack) -> None:
    idp = stack.idp()
    mapping = idp.describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="SignInWithApple")[
        "IdentityProvider"
    ]["AttributeMapping"]
    updated = idp.update_identity_provider(
        UserPoolId=stack.pool_id,
        ProviderName="SignInWithApple",
        ProviderDetails={"authorize_scopes": "email name"},
        AttributeMapping=mapping,
    )["IdentityProvider"]
    assert "private_key" not in updated["ProviderDetails"] and updated["ProviderDetails"]["key_id"]
    # The stored key is kept: Apple sign-in still works (its client secret is signed with it).
    assert claims_of(stack, federated_tokens(stack, "SignInWithApple", email=new_email("apple")))["sub"]


def test_a_provider_cannot_set_an_attribute_the_client_cannot_write(stack: Stack) -> None:
    idp = stack.idp()
    mapping = idp.describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="SignInWithApple")[
        "IdentityProvider"
    ]["AttributeMapping"]
    idp.update_identity_provider(
        UserPoolId=stack.pool_id,
        ProviderName="SignInWithApple",
        AttributeMapping={**mapping, "custom:role": "email"},
    )
    email = new_email("role")
    try:
        query, _ = federated_code(stack, "SignInWithApple", email=email)
    finally:
        idp.update_identity_provider(
            UserPoolId=stack.pool_id, ProviderName="SignInWithApple", AttributeMapping=mapping
        )
    assert query["error"] == "invalid_request" and "custom:role" in query["error_description"]
    assert "code" not in query
    users = idp.list_users(UserPoolId=stack.pool_id, Filter=f'email = "{email}"')["Users"]
    assert users == []


def test_a_provider_cannot_set_a_standard_attribute_the_client_cannot_write(stack: Stack) -> None:
    # AWS: WriteAttributes "must include all attributes that you have mapped to IdP attributes",
    # standard ones too (UserPoolClientType.WriteAttributes); the web client cannot write given_name.
    idp = stack.idp()
    mapping = idp.describe_identity_provider(UserPoolId=stack.pool_id, ProviderName="Google")[
        "IdentityProvider"
    ]["AttributeMapping"]
    idp.update_identity_provider(
        UserPoolId=stack.pool_id,
        ProviderName="Google",
        AttributeMapping={**mapping, "given_name": "given_name"},
    )
    email = new_email("given")
    try:
        query, _ = federated_code(stack, "Google", email=email)
    finally:
        idp.update_identity_provider(
            UserPoolId=stack.pool_id, ProviderName="Google", AttributeMapping=mapping
        )
    assert query["error"] == "invalid_request" and "given_name" in query["error_description"]
    assert "code" not in query
    assert idp.list_users(UserPoolId=stack.pool_id, Filter=f'email = "{email}"')["Users"] == []
    # The shipped mapping (verification flag included) signs in.
    assert claims_of(stack, federated_tokens(stack, "Google", email=email))["email"] == email


def test_an_immutable_mapped_attribute_fails_the_second_sign_in(private_stack: Callable[..., Stack]) -> None:
    # AWS: mapped attributes are written at every sign-in; an immutable one "throws an error" then
    # (SchemaAttributeType.Mutable), redirected as "Invalid user attributes: <name>: Attribute
    # cannot be updated." (amazon-archives/amazon-cognito-auth-js#159).
    config = json.loads(DEFAULT_CONFIG.read_text())
    config["user_pool"]["Schema"].append({"Name": "fixed", "AttributeDataType": "String", "Mutable": False})
    config["app_client"]["WriteAttributes"].append("custom:fixed")
    apple = next(p for p in config["identity_providers"] if p["ProviderName"] == "SignInWithApple")
    apple["AttributeMapping"]["custom:fixed"] = "email"
    own = private_stack(
        user_pool=config["user_pool"], app_client=config["app_client"],
        identity_providers=config["identity_providers"],
    )  # fmt: skip
    email = new_email("fixed")
    first = claims_of(own, federated_tokens(own, "SignInWithApple", email=email))
    user = own.idp().admin_get_user(UserPoolId=own.pool_id, Username=first["cognito:username"])
    assert {"Name": "custom:fixed", "Value": email} in user["UserAttributes"]
    query, _ = federated_code(own, "SignInWithApple", email=email)  # the same value, still refused
    assert query["error"] == "invalid_request"
    assert query["error_description"] == "Invalid user attributes: custom:fixed: Attribute cannot be updated."
    assert "code" not in query
