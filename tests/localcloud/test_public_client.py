"""The public app client (single-page apps): no secret, PKCE required, CORS for its own origins only.

Refused as OAuth 2.1 / RFC 9700 §2.1.1 (PKCE for public clients) and Cognito (a secret it does not
have) say: authorize without a code_challenge, a client_secret or Basic credentials at the token and
revocation endpoints, a code redeemed without its verifier.
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.localcloud import ALICE, Stack, callback_query, pkce_pair, submit

SPA = "http://localhost:5173/"
SPA_ORIGIN = "http://localhost:5173"


def authorize(stack: Stack, **extra: str | None) -> requests.Response:
    """GET /oauth2/authorize for the public client (no redirects followed)."""
    params = {"response_type": "code", "client_id": stack.spa_client_id, "redirect_uri": SPA,
              "scope": "openid email", "state": "st", **extra}  # fmt: skip
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)


def spa_code(stack: Stack) -> tuple[str, str]:
    """(authorization code, PKCE verifier) for alice through the public client."""
    verifier, challenge = pkce_pair()
    browser = requests.Session()
    start = browser.get(
        f"{stack.base}/oauth2/authorize",
        params={"response_type": "code", "client_id": stack.spa_client_id, "redirect_uri": SPA, "state": "st",
                "code_challenge": challenge, "code_challenge_method": "S256"},
        allow_redirects=False, timeout=5,
    )  # fmt: skip
    login = browser.get(stack.base + start.headers["Location"], timeout=5)
    done = submit(browser, stack, login, username=ALICE[0], password=ALICE[1])
    assert done.status_code == HTTPStatus.FOUND, done.text
    return callback_query(done)["code"], verifier


def token(stack: Stack, data: dict[str, str], **kwargs: object) -> requests.Response:
    """POST /oauth2/token from the SPA's origin."""
    headers = {"Origin": SPA_ORIGIN, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return requests.post(f"{stack.base}/oauth2/token", data=data, headers=headers, timeout=5, **kwargs)  # type: ignore[arg-type]


def redeem(stack: Stack, code: str, verifier: str | None) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": stack.spa_client_id,
        "code": code,
        "redirect_uri": SPA,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return token(stack, data)


def test_the_public_client_signs_in_with_pkce_and_no_secret(stack: Stack) -> None:
    code, verifier = spa_code(stack)
    response = redeem(stack, code, verifier)
    assert response.status_code == HTTPStatus.OK, response.text
    # The SPA's origin may read the answer; nobody else's.
    assert response.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    tokens = response.json()
    assert stack.verify(tokens["id_token"], "id", client_id=stack.spa_client_id)["email"] == ALICE[0]
    # Refresh and revocation from the browser, with client_id alone.
    refreshed = token(stack, {"grant_type": "refresh_token", "client_id": stack.spa_client_id,
                              "refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert refreshed.status_code == HTTPStatus.OK
    assert refreshed.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    revoked = requests.post(
        f"{stack.base}/oauth2/revoke",
        data={"token": tokens["refresh_token"], "client_id": stack.spa_client_id},
        headers={"Origin": SPA_ORIGIN}, timeout=5,
    )  # fmt: skip
    assert revoked.status_code == HTTPStatus.OK
    assert revoked.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    again = token(stack, {"grant_type": "refresh_token", "client_id": stack.spa_client_id,
                          "refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert again.json() == {"error": "invalid_grant"}


def test_authorize_without_pkce_is_refused(stack: Stack) -> None:
    response = authorize(stack)
    assert response.status_code == HTTPStatus.FOUND
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.headers["Location"].startswith(SPA)
    assert query["error"] == ["invalid_request"]
    assert "code_challenge" in query["error_description"][0]
    assert query["state"] == ["st"]
    # plain is refused too (S256 only), as for every client.
    plain = authorize(stack, code_challenge="a" * 43, code_challenge_method="plain")
    assert parse_qs(urlsplit(plain.headers["Location"]).query)["error"] == ["invalid_request"]


def test_a_code_without_its_verifier_is_refused(stack: Stack) -> None:
    code, verifier = spa_code(stack)
    assert redeem(stack, code, None).json() == {"error": "invalid_grant"}
    assert redeem(stack, code, verifier).json() == {"error": "invalid_grant"}  # the code is spent
    code, _ = spa_code(stack)
    assert redeem(stack, code, pkce_pair()[0]).json() == {"error": "invalid_grant"}


def test_a_client_secret_from_the_public_client_is_refused(stack: Stack) -> None:
    code, verifier = spa_code(stack)
    data = {"grant_type": "authorization_code", "client_id": stack.spa_client_id, "code": code,
            "redirect_uri": SPA, "code_verifier": verifier}  # fmt: skip
    posted = token(stack, {**data, "client_secret": "anything"})
    assert posted.status_code == HTTPStatus.BAD_REQUEST
    assert posted.json()["error"] == "invalid_client"
    basic = token(stack, {k: v for k, v in data.items() if k != "client_id"}, auth=(stack.spa_client_id, ""))
    assert basic.status_code == HTTPStatus.UNAUTHORIZED
    assert basic.json()["error"] == "invalid_client"
    revoke = requests.post(
        f"{stack.base}/oauth2/revoke",
        data={"token": "x", "client_id": stack.spa_client_id, "client_secret": "anything"}, timeout=5,
    )  # fmt: skip
    assert revoke.json()["error"] == "invalid_client"
    # Neither refusal redeemed the code: with the right request it still works.
    assert redeem(stack, code, verifier).status_code == HTTPStatus.OK


def test_other_origins_get_no_cors_header(stack: Stack) -> None:
    code, verifier = spa_code(stack)
    data = {"grant_type": "authorization_code", "client_id": stack.spa_client_id, "code": code,
            "redirect_uri": SPA, "code_verifier": verifier}  # fmt: skip
    response = token(stack, data, headers={"Origin": "http://evil.example"})
    assert response.status_code == HTTPStatus.OK  # a browser would hide it from the page
    assert "Access-Control-Allow-Origin" not in response.headers
    # The web client's origin is not the SPA client's.
    code, verifier = spa_code(stack)
    response = token(stack, {**data, "code": code, "code_verifier": verifier},
                     headers={"Origin": "http://localhost:8000"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in response.headers


def test_logout_takes_the_public_client(stack: Stack) -> None:
    ok = requests.get(
        f"{stack.base}/logout", params={"client_id": stack.spa_client_id, "logout_uri": SPA},
        allow_redirects=False, timeout=5,
    )  # fmt: skip
    assert ok.status_code == HTTPStatus.FOUND
    assert ok.headers["Location"] == SPA
    # Another client's logout URL is not the SPA's.
    other = requests.get(
        f"{stack.base}/logout", params={"client_id": stack.spa_client_id, "logout_uri": "http://localhost:8000/"},
        allow_redirects=False, timeout=5,
    )  # fmt: skip
    assert other.status_code == HTTPStatus.BAD_REQUEST


def preflight(stack: Stack, origin: str, headers: str = "content-type,x-amz-user-agent") -> requests.Response:
    return requests.options(
        f"{stack.base}/oauth2/token",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": headers},
        timeout=5,
    )  # fmt: skip


def test_the_token_endpoint_answers_amplifys_preflight(stack: Stack) -> None:
    # Amplify JS v6 sends x-amz-user-agent with its token request (completeOAuthFlow.ts): a
    # preflighted request that Cognito must allow for Amplify's redirect sign-in to work at all.
    allowed = preflight(stack, SPA_ORIGIN)
    assert allowed.status_code == HTTPStatus.NO_CONTENT
    assert allowed.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert "x-amz-user-agent" in allowed.headers["Access-Control-Allow-Headers"]
    assert allowed.headers["Access-Control-Allow-Methods"] == "POST"
    # Then the POST itself, with that header, is readable by the SPA.
    code, verifier = spa_code(stack)
    data = {"grant_type": "authorization_code", "client_id": stack.spa_client_id, "code": code,
            "redirect_uri": SPA, "code_verifier": verifier}  # fmt: skip
    posted = token(stack, data, headers={"x-amz-user-agent": "aws-amplify/6.0"})
    assert posted.status_code == HTTPStatus.OK and posted.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    # No other origin, header or method.
    for refused in (
        preflight(stack, "http://evil.example"),
        preflight(stack, SPA_ORIGIN, headers="content-type,x-evil"),
        requests.options(f"{stack.base}/oauth2/token", timeout=5,
                         headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "DELETE"}),
    ):  # fmt: skip
        assert refused.status_code == HTTPStatus.FORBIDDEN
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_the_preflight_allows_only_the_origins_of_this_domains_pool(stack: Stack) -> None:
    # A preflight names no client; the domain belongs to one pool: another pool's clients do not count.
    idp = stack.idp()
    other_pool = idp.create_user_pool(PoolName=f"other-{secrets.token_hex(3)}")["UserPool"]["Id"]
    try:
        idp.create_user_pool_client(
            UserPoolId=other_pool, ClientName="elsewhere", AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=["https://other-pool.example/cb"],
        )  # fmt: skip
        refused = preflight(stack, "https://other-pool.example")
        assert refused.status_code == HTTPStatus.FORBIDDEN
        assert "Access-Control-Allow-Origin" not in refused.headers
    finally:
        idp.delete_user_pool(UserPoolId=other_pool)


def test_registered_urls_are_compared_by_the_origin_a_browser_sends(stack: Stack) -> None:
    # RFC 6454 §6.1: the browser's Origin has the host in lower case and no default port.
    idp = stack.idp()
    client_id = idp.create_user_pool_client(
        UserPoolId=stack.pool_id, ClientName=f"cased-{secrets.token_hex(3)}", GenerateSecret=False,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
        SupportedIdentityProviders=["COGNITO"], CallbackURLs=["https://App.Example.com:443/cb"],
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    try:
        origin = "https://app.example.com"
        allowed = preflight(stack, origin)
        assert allowed.status_code == HTTPStatus.NO_CONTENT
        assert allowed.headers["Access-Control-Allow-Origin"] == origin
        posted = requests.post(
            f"{stack.base}/oauth2/token", headers={"Origin": origin}, timeout=5,
            data={"grant_type": "authorization_code", "client_id": client_id, "code": "nope",
                  "redirect_uri": "https://App.Example.com:443/cb", "code_verifier": "v" * 43},
        )  # fmt: skip
        assert posted.headers["Access-Control-Allow-Origin"] == origin
        # Still no other port or host.
        for other in ("https://app.example.com:8443", "http://app.example.com", "https://example.com"):
            assert preflight(stack, other).status_code == HTTPStatus.FORBIDDEN
    finally:
        idp.delete_user_pool_client(UserPoolId=stack.pool_id, ClientId=client_id)
