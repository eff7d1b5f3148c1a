"""The SPA (spa/) on its own origin in Chromium: hosted UI with PKCE, /api/user/me read and edited,
tokens refreshed, signed out; and a page on an origin not on API_CORS_ORIGINS cannot read the API."""

from __future__ import annotations

import pytest

from profiles.models import Profile
from tests.support.spa import serve_spa
from tests.support.tokens import alice_tokens

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

READ_API = """async ([url, token]) => {
  try {
    const response = await fetch(url, {headers: {Authorization: `Bearer ${token}`}});
    return `read ${response.status}`;
  } catch (error) {
    return "blocked";
  }
}"""


def test_the_spa_signs_in_and_edits_the_profile_and_other_origins_are_refused(live_server, page, settings):
    with serve_spa(5174, live_server.url) as spa, serve_spa(5175, live_server.url) as other:
        settings.CORS_ALLOWED_ORIGINS = [spa.origin]
        page.goto(spa.url)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: url.startswith(settings.COGNITO_DOMAIN))
        page.fill("input[name=username]", "alice@example.com")
        page.fill("input[name=password]", "Alice-pass-1")
        page.locator("form:has(input[name=password]) [type=submit]").first.click()

        page.wait_for_url(spa.url)  # back on the SPA, the code gone from the address bar
        page.get_by_text("Profile loaded.").wait_for()
        assert page.locator("#email").inner_text() == "alice@example.com"
        assert page.evaluate("() => JSON.stringify({...localStorage, ...sessionStorage})") == "{}"

        page.fill("#bio", "Written from the single-page app")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Saved.").wait_for()
        assert Profile.objects.get(user__email="alice@example.com").bio == "Written from the single-page app"

        page.get_by_role("button", name="Refresh tokens").click()
        page.get_by_text("Tokens refreshed.").wait_for()
        page.get_by_role("button", name="Reload profile").click()
        page.get_by_text("Profile loaded.").wait_for()
        assert page.input_value("#bio") == "Written from the single-page app"

        # The same call from a page of another origin: the browser refuses it (no CORS header);
        # from the SPA's own origin it reads. Both pages' CSP allow the API: the difference is CORS.
        url, token = f"{live_server.url}/api/user/me", alice_tokens()["AccessToken"]
        assert page.evaluate(READ_API, [url, token]) == "read 200"
        other_page = page.context.new_page()
        other_page.goto(other.url)
        assert other_page.evaluate(READ_API, [url, token]) == "blocked"

        page.get_by_role("button", name="Sign out").click()
        page.get_by_text("Signed out.").wait_for()
        assert page.url == spa.url
        assert page.get_by_role("button", name="Sign in").is_visible()


def test_the_spa_server_serves_its_files_and_config_only(settings):
    import requests

    with serve_spa(5176, "http://localhost:8123") as spa:
        config = requests.get(spa.url + "config.json", timeout=5).json()
        assert config["clientId"] == settings.COGNITO_SPA_CLIENT_ID
        assert config["tokenEndpoint"] == f"{settings.COGNITO_DOMAIN}/oauth2/token"
        assert config["apiOrigin"] == "http://localhost:8123"
        assert config["redirectUri"] == spa.url
        page = requests.get(spa.url + "?code=x&state=y", timeout=5)
        assert page.status_code == 200
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        connect = csp.split("connect-src ", 1)[1].split(";", 1)[0].split()
        assert sorted(connect) == sorted(["'self'", settings.COGNITO_DOMAIN, "http://localhost:8123"])
        assert page.headers["Referrer-Policy"] == "no-referrer"
        for path in ("serve.py", "README.md", "../Makefile", "%2e%2e/Makefile"):
            assert requests.get(spa.url + path, timeout=5).status_code == 404, path
