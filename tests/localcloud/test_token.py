"""/oauth2/token, /oauth2/userInfo, /oauth2/revoke and /logout over HTTP."""

from __future__ import annotations

import base64
from http import HTTPStatus

import jwt
import requests

from tests.support.localcloud import (
    ADMIN,
    ALICE,
    CALLBACK,
    LOGOUT,
    Stack,
    authorize_params,
    code_for,
    exchange,
    pkce_pair,
    stack_sign_in,
)


def token_post(stack: Stack, data: dict[str, str], **kwargs) -> requests.Response:
    return requests.post(f"{stack.base}/oauth2/token", data=data, timeout=5, **kwargs)


def test_code_exchange_returns_cognito_shaped_tokens(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE, nonce="n-123")
    response = exchange(stack, code)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert set(body) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert response.headers["Cache-Control"] == "no-store"
    id_claims = stack.verify(body["id_token"], "id")
    assert id_claims["nonce"] == "n-123"
    assert id_claims["email"] == ALICE[0]
    assert id_claims["email_verified"] is True
    assert id_claims["name"] == "Alice Example"
    assert id_claims["custom:college"] == "Example College"
    assert id_claims["custom:role"] == "member"
    assert "cognito:groups" not in id_claims
    for claim in ("sub", "cognito:username", "auth_time", "iat", "exp", "jti", "origin_jti", "event_id"):
        assert claim in id_claims
    access = stack.verify(body["access_token"], "access")
    assert access["scope"].split() == ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
    assert access["username"] == id_claims["cognito:username"]
    assert access["sub"] == id_claims["sub"]
    assert access["version"] == 2
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert jwt.get_unverified_header(body["access_token"]) == {
        "alg": "RS256",
        "kid": jwt.get_unverified_header(body["id_token"])["kid"],
    }


def test_groups_claim_for_group_members(stack: Stack) -> None:
    code, _ = code_for(stack, *ADMIN)
    body = exchange(stack, code).json()
    assert stack.verify(body["id_token"], "id")["cognito:groups"] == ["admin"]
    assert stack.verify(body["access_token"], "access")["cognito:groups"] == ["admin"]


def test_scopes_filtered_and_no_id_token_without_openid(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE, scope="email phone")
    body = exchange(stack, code).json()
    assert "id_token" not in body
    assert stack.verify(body["access_token"], "access")["scope"] == "email"


def test_client_secret_post_works_and_wrong_secret_is_invalid_client(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    bad = token_post(stack, {**data, "client_id": stack.client_id, "client_secret": "wrong"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json() == {"error": "invalid_client"}
    bad_basic = token_post(stack, data, auth=(stack.client_id, "wrong"))
    assert bad_basic.status_code == HTTPStatus.UNAUTHORIZED
    assert bad_basic.json()["error"] == "invalid_client"
    missing = token_post(stack, {**data, "client_id": stack.client_id})
    assert missing.json()["error"] == "invalid_client"
    ok = token_post(stack, {**data, "client_id": stack.client_id, "client_secret": stack.client_secret})
    assert ok.status_code == HTTPStatus.OK, ok.text


def test_code_is_single_use_and_replay_revokes_its_tokens(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    first = exchange(stack, code)
    assert first.status_code == HTTPStatus.OK
    replay = exchange(stack, code)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["error"] == "invalid_grant"
    refresh = token_post(
        stack,
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        auth=(stack.client_id, stack.client_secret),
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_exactly(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    assert exchange(stack, code, redirect_uri=CALLBACK + "x").json()["error"] == "invalid_grant"
    # The failed attempt used the code up.
    assert exchange(stack, code).json()["error"] == "invalid_grant"
    code2, _ = code_for(stack, *ALICE)
    data = {"grant_type": "authorization_code", "code": code2}
    missing = token_post(stack, data, auth=(stack.client_id, stack.client_secret))
    assert missing.json()["error"] == "invalid_grant"


def test_pkce_right_wrong_and_missing_verifier(stack: Stack) -> None:
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code, _ = code_for(stack, *ALICE, **extra)
    assert exchange(stack, code, code_verifier=verifier).status_code == HTTPStatus.OK
    code, _ = code_for(stack, *ALICE, **extra)
    wrong = exchange(stack, code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert wrong.json()["error"] == "invalid_grant"
    code, _ = code_for(stack, *ALICE, **extra)
    assert exchange(stack, code).json()["error"] == "invalid_grant"


def test_unknown_code_and_bad_grants(stack: Stack) -> None:
    auth = (stack.client_id, stack.client_secret)
    assert exchange(stack, "not-a-code").json()["error"] == "invalid_grant"
    assert (
        token_post(stack, {"grant_type": "password"}, auth=auth).json()["error"] == "unsupported_grant_type"
    )
    assert token_post(stack, {}, auth=auth).json()["error"] == "invalid_request"
    creds = token_post(stack, {"grant_type": "client_credentials"}, auth=auth)
    assert creds.json()["error"] == "unauthorized_client"
    unknown_client = token_post(stack, {"grant_type": "authorization_code", "client_id": "nope", "code": "x"})
    assert unknown_client.json()["error"] == "invalid_client"


def test_bad_input_shapes_are_4xx_json(stack: Stack) -> None:
    auth = (stack.client_id, stack.client_secret)
    as_json = requests.post(
        f"{stack.base}/oauth2/token", json={"grant_type": "refresh_token"}, auth=auth, timeout=5
    )
    assert as_json.status_code == HTTPStatus.BAD_REQUEST
    assert as_json.json()["error"] == "invalid_request"
    repeated = token_post(
        stack, [("grant_type", "refresh_token"), ("grant_type", "authorization_code")], auth=auth
    )
    assert repeated.json()["error"] == "invalid_request"
    garbage_basic = token_post(
        stack, {"grant_type": "refresh_token"}, headers={"Authorization": "Basic !!!not-base64"}
    )
    assert garbage_basic.status_code == HTTPStatus.UNAUTHORIZED
    get = requests.get(f"{stack.base}/oauth2/token", timeout=5)
    assert 400 <= get.status_code < 500
    huge = requests.post(f"{stack.base}/oauth2/token", data={"code": "x" * 600_000}, auth=auth, timeout=10)
    assert huge.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert huge.json()["error"] == "invalid_request"


def test_refresh_grant_keeps_auth_time_and_issues_no_refresh_token(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE, nonce="only-first")
    first = exchange(stack, code).json()
    response = token_post(
        stack,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": stack.client_id,
         "client_secret": stack.client_secret},
    )  # fmt: skip
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert set(body) == {"id_token", "access_token", "expires_in", "token_type"}
    old, new = stack.verify(first["id_token"], "id"), stack.verify(body["id_token"], "id")
    assert new["auth_time"] == old["auth_time"]
    assert new["origin_jti"] == old["origin_jti"]
    assert new["jti"] != old["jti"]
    assert (
        stack.verify(body["access_token"], "access")["scope"]
        == stack.verify(first["access_token"], "access")["scope"]
    )


def test_refresh_token_of_api_login_works_at_token_endpoint(stack: Stack) -> None:
    tokens = stack.api_login(*ALICE)
    response = token_post(
        stack,
        {"grant_type": "refresh_token", "refresh_token": tokens["RefreshToken"]},
        auth=(stack.client_id, stack.client_secret),
    )
    assert response.status_code == HTTPStatus.OK
    assert stack.verify(response.json()["access_token"], "access")["scope"] == "aws.cognito.signin.user.admin"


def test_userinfo_returns_claims_by_scope_with_string_flags(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    access = exchange(stack, code).json()["access_token"]
    for method in ("GET", "POST"):
        response = requests.request(
            method, f"{stack.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {access}"}, timeout=5
        )
        assert response.status_code == HTTPStatus.OK
        info = response.json()
        assert info["email"] == ALICE[0]
        assert info["email_verified"] == "true"
        assert info["custom:college"] == "Example College"
        assert "cognito:groups" not in info
    code, _ = code_for(stack, *ALICE, scope="openid email")
    narrow = exchange(stack, code).json()["access_token"]
    info = requests.get(
        f"{stack.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {narrow}"}, timeout=5
    ).json()
    assert info["email"] == ALICE[0]
    assert "name" not in info


def test_userinfo_refuses_bad_tokens(stack: Stack) -> None:
    api_access = stack.api_login(*ALICE)["AccessToken"]
    code, _ = code_for(stack, *ALICE)
    id_token = exchange(stack, code).json()["id_token"]
    forged = jwt.encode({"token_use": "access"}, "s" * 32, algorithm="HS256")
    for token in ("garbage", api_access, id_token, forged):
        response = requests.get(
            f"{stack.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED, token
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    missing = requests.get(f"{stack.base}/oauth2/userInfo", timeout=5)
    assert missing.status_code == HTTPStatus.UNAUTHORIZED


def test_revoke_refresh_token_revokes_its_access_tokens(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    tokens = exchange(stack, code).json()
    auth = (stack.client_id, stack.client_secret)
    revoke = requests.post(
        f"{stack.base}/oauth2/revoke", data={"token": tokens["refresh_token"]}, auth=auth, timeout=5
    )
    assert revoke.status_code == HTTPStatus.OK
    assert revoke.text == ""
    refresh = token_post(
        stack, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=auth
    )
    assert refresh.status_code == HTTPStatus.BAD_REQUEST
    assert refresh.json()["error"] == "invalid_grant"
    userinfo = requests.get(
        f"{stack.base}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED
    # Still cryptographically valid: only Cognito's own endpoints know about the revocation.
    assert stack.verify(tokens["access_token"], "access")


def test_revoke_unknown_token_is_200_and_access_token_unsupported(stack: Stack) -> None:
    auth = (stack.client_id, stack.client_secret)
    unknown = requests.post(f"{stack.base}/oauth2/revoke", data={"token": "whatever"}, auth=auth, timeout=5)
    assert unknown.status_code == HTTPStatus.OK
    access = stack.api_login(*ALICE)["AccessToken"]
    response = requests.post(f"{stack.base}/oauth2/revoke", data={"token": access}, auth=auth, timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unsupported_token_type"
    no_auth = requests.post(
        f"{stack.base}/oauth2/revoke", data={"token": "x", "client_id": stack.client_id}, timeout=5
    )
    assert no_auth.json()["error"] == "invalid_client"
    missing = requests.post(f"{stack.base}/oauth2/revoke", data={}, auth=auth, timeout=5)
    assert missing.json()["error"] == "invalid_request"


def test_logout_with_registered_logout_uri_redirects_and_ends_session(stack: Stack) -> None:
    session, _, _ = stack_sign_in(stack, *ALICE)
    response = session.get(
        f"{stack.base}/logout",
        params={"client_id": stack.client_id, "logout_uri": LOGOUT},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"] == LOGOUT
    assert "cognito" not in session.cookies
    again = session.get(
        f"{stack.base}/oauth2/authorize", params=authorize_params(stack), allow_redirects=False, timeout=5
    )
    assert again.headers["Location"].startswith("/login?")


def test_logout_redirect_uri_form_shows_sign_in(stack: Stack) -> None:
    session, _, _ = stack_sign_in(stack, *ALICE)
    params = {"client_id": stack.client_id, "redirect_uri": CALLBACK, "response_type": "code", "state": "s"}
    response = session.get(f"{stack.base}/logout", params=params, allow_redirects=False, timeout=5)
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/login?")
    assert "cognito" not in session.cookies


def test_logout_errors_are_pages(stack: Stack) -> None:
    cases = [
        {"client_id": stack.client_id, "logout_uri": "http://evil.example/"},
        {"client_id": "nope", "logout_uri": LOGOUT},
        {"client_id": stack.client_id},
        {"logout_uri": LOGOUT},
        {"client_id": stack.client_id, "post_logout_redirect_uri": LOGOUT, "id_token_hint": "x"},
    ]
    for params in cases:
        response = requests.get(f"{stack.base}/logout", params=params, allow_redirects=False, timeout=5)
        assert response.status_code == HTTPStatus.BAD_REQUEST, params
        assert "Location" not in response.headers
    post = requests.post(
        f"{stack.base}/logout", data={"client_id": stack.client_id, "logout_uri": LOGOUT}, timeout=5
    )
    assert post.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_logout_does_not_revoke_tokens(stack: Stack) -> None:
    session, response, _ = stack_sign_in(stack, *ALICE)
    code = response.headers["Location"].split("code=")[1].split("&")[0]
    tokens = exchange(stack, code).json()
    session.get(
        f"{stack.base}/logout",
        params={"client_id": stack.client_id, "logout_uri": LOGOUT},
        allow_redirects=False,
        timeout=5,
    )
    userinfo = requests.get(
        f"{stack.base}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert userinfo.status_code == HTTPStatus.OK


def test_basic_auth_header_format(stack: Stack) -> None:
    code, _ = code_for(stack, *ALICE)
    header = base64.b64encode(f"{stack.client_id}:{stack.client_secret}".encode()).decode()
    response = token_post(
        stack,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        headers={"Authorization": f"Basic {header}"},
    )
    assert response.status_code == HTTPStatus.OK
