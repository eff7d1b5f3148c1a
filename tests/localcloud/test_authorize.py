"""/oauth2/authorize, /login and the hosted-UI session, over HTTP."""

from __future__ import annotations

from http import HTTPStatus

import requests

from tests.support.localcloud import (
    ALICE,
    CALLBACK,
    CALLBACK_2,
    Stack,
    authorize_params,
    callback_query,
    exchange,
    pkce_pair,
    stack_sign_in,
    submit,
)


def get_authorize(stack: Stack, params: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
    return requests.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)


def test_authorize_redirects_to_login_with_same_parameters(stack: Stack) -> None:
    params = authorize_params(stack)
    response = get_authorize(stack, params)
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/login?")
    assert f"client_id={stack.client_id}" in response.headers["Location"]


def test_unknown_client_id_shows_error_page_not_redirect(stack: Stack) -> None:
    response = get_authorize(stack, authorize_params(stack, client_id="nope"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response.headers
    assert "An error was encountered" in response.text


def test_unregistered_redirect_uri_shows_error_page(stack: Stack) -> None:
    for uri in ("http://evil.example/cb", CALLBACK + "x", CALLBACK.rstrip("/")):
        response = get_authorize(stack, authorize_params(stack, redirect_uri=uri))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Location" not in response.headers
        assert "redirect_mismatch" in response.text


def test_repeated_client_id_shows_error_page(stack: Stack) -> None:
    params = list(authorize_params(stack).items()) + [("client_id", stack.client_id)]
    response = get_authorize(stack, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response.headers


def test_second_callback_url_from_config_is_accepted(stack: Stack) -> None:
    response = get_authorize(stack, authorize_params(stack, redirect_uri=CALLBACK_2))
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/login?")


def test_errors_after_client_check_are_redirected_with_state(stack: Stack) -> None:
    cases = {
        "invalid_scope": {"scope": "phone made-up"},
        "invalid_request": {"code_challenge_method": "plain", "code_challenge": "a" * 43},
        "unsupported_response_type": {"response_type": "id_token"},
    }
    for error, extra in cases.items():
        params = authorize_params(stack, state="keep-me", **extra)
        response = get_authorize(stack, params)
        assert response.status_code == HTTPStatus.FOUND, error
        assert response.headers["Location"].startswith(CALLBACK)
        query = callback_query(response)
        assert query["error"] == error
        assert query["state"] == "keep-me"
        assert query["error_description"]


def test_missing_response_type_and_repeated_state_are_invalid_request(stack: Stack) -> None:
    params = authorize_params(stack)
    del params["response_type"]
    assert callback_query(get_authorize(stack, params))["error"] == "invalid_request"
    repeated = list(authorize_params(stack).items()) + [("scope", "openid")]
    assert callback_query(get_authorize(stack, repeated))["error"] == "invalid_request"


def test_pkce_challenge_without_method_is_refused(stack: Stack) -> None:
    _, challenge = pkce_pair()
    response = get_authorize(stack, authorize_params(stack, code_challenge=challenge))
    assert callback_query(response)["error"] == "invalid_request"


def test_other_identity_provider_is_refused(stack: Stack) -> None:
    # Configured providers go to the provider (test_federation.py); unknown ones are refused.
    response = get_authorize(stack, authorize_params(stack, identity_provider="NotConfigured"))
    assert callback_query(response)["error"] == "invalid_request"
    ok = get_authorize(stack, authorize_params(stack, identity_provider="COGNITO"))
    assert ok.headers["Location"].startswith("/login?")


def test_identity_provider_cognito_offers_only_the_pool_s_own_form(stack: Stack) -> None:
    # identity_provider=COGNITO: the user pool's sign-in only (password, then its MFA step); no
    # "Continue with ..." that would skip the second factor (Cognito asks none of federated users).
    everything = requests.get(f"{stack.base}/login", params=authorize_params(stack), timeout=5).text
    assert 'id="idp-Google"' in everything
    params = authorize_params(stack, identity_provider="COGNITO")
    login = get_authorize(stack, params).headers["Location"]
    page = requests.get(stack.base + login, timeout=5)
    assert page.status_code == HTTPStatus.OK and 'name="password"' in page.text
    assert 'id="idp-buttons"' not in page.text and "identity_provider=Google" not in page.text
    # The same through /logout's sign-in form (the app's "sign in again").
    logout = requests.get(f"{stack.base}/logout", params=params, allow_redirects=False, timeout=5)
    again = requests.get(stack.base + logout.headers["Location"], timeout=5)
    assert 'name="password"' in again.text and 'id="idp-buttons"' not in again.text


def test_login_page_has_documented_fields_and_links(stack: Stack) -> None:
    response = requests.get(f"{stack.base}/login", params=authorize_params(stack), timeout=5)
    assert response.status_code == HTTPStatus.OK
    for marker in ('name="username"', 'name="password"', 'name="_csrf"', "Sign up", "Forgot your password?"):
        assert marker in response.text
    assert "XSRF-TOKEN" in response.cookies


def test_login_page_with_bad_client_is_error_page(stack: Stack) -> None:
    response = requests.get(f"{stack.base}/login", params=authorize_params(stack, client_id="x"), timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "An error was encountered" in response.text


def test_successful_login_redirects_with_code_and_state(stack: Stack) -> None:
    _, response, params = stack_sign_in(stack, *ALICE)
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith(CALLBACK + "?")
    query = callback_query(response)
    assert query["state"] == params["state"]
    assert query["code"]


def test_wrong_password_and_unknown_user_get_the_same_message(stack: Stack) -> None:
    _, wrong, _ = stack_sign_in(stack, ALICE[0], "Wrong-pass-1")
    _, unknown, _ = stack_sign_in(stack, "nobody@example.com", "Wrong-pass-1")
    for response in (wrong, unknown):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Incorrect username or password." in response.text
        assert "Location" not in response.headers


def test_post_without_csrf_token_is_refused(stack: Stack) -> None:
    session = requests.Session()
    params = authorize_params(stack)
    session.get(f"{stack.base}/login", params=params, timeout=5)
    response = session.post(
        f"{stack.base}/login",
        params=params,
        data={"step": "password", "username": ALICE[0], "password": ALICE[1], "_csrf": "forged"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Location" not in response.headers


def test_disabled_user_is_refused(stack: Stack, new_stack_user) -> None:
    email, password = new_stack_user()
    stack.idp().admin_disable_user(UserPoolId=stack.pool_id, Username=email)
    _, response, _ = stack_sign_in(stack, email, password)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "User is disabled." in response.text


def test_session_cookie_lets_second_authorize_skip_the_form(stack: Stack) -> None:
    session, first, _ = stack_sign_in(stack, *ALICE)
    assert first.status_code == HTTPStatus.FOUND
    assert "cognito" in session.cookies
    params = authorize_params(stack, state="second")
    again = session.get(f"{stack.base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert again.status_code == HTTPStatus.FOUND
    assert again.headers["Location"].startswith(CALLBACK)
    query = callback_query(again)
    assert query["state"] == "second"
    tokens = exchange(stack, query["code"]).json()
    first_claims = stack.verify(tokens["id_token"], "id")
    assert first_claims["email"] == ALICE[0]


def test_without_cookie_authorize_shows_the_form_again(stack: Stack) -> None:
    stack_sign_in(stack, *ALICE)
    fresh = get_authorize(stack, authorize_params(stack))
    assert fresh.headers["Location"].startswith("/login?")


def test_temporary_password_leads_to_new_password_step(stack: Stack) -> None:
    email = "temp-user@example.com"
    stack.idp().admin_create_user(
        UserPoolId=stack.pool_id,
        Username=email,
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )
    invitation = next(m for m in stack.outbox() if m["recipient"] == email)
    assert invitation["kind"] == "invitation"
    session, step, _ = stack_sign_in(stack, email, invitation["code"])
    assert step.status_code == HTTPStatus.OK
    assert "Change Password" in step.text
    weak = submit(session, stack, step, password="short", password2="short")
    assert "Password not long enough" in weak.text
    done = submit(session, stack, weak, password="Brand-new-1", password2="Brand-new-1")
    assert done.status_code == HTTPStatus.FOUND
    assert "code=" in done.headers["Location"]
    # The new password is now the one that works.
    _, again, _ = stack_sign_in(stack, email, "Brand-new-1")
    assert again.status_code == HTTPStatus.FOUND
