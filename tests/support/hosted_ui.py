"""Driving the Cognito hosted UI over HTTP with requests, as a person would, and the app's side of it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.http import HttpResponseBase
from django.test import Client

# The registered callback is http://localhost:8000/oidc/callback/: the test client claims that host.
APP_HOST = "localhost:8000"


class _FormParser(HTMLParser):
    """Collects each form's action, method and inputs (enough to drive the hosted UI)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action") or "", "method": attrs.get("method", "get"), "fields": {}}
            )
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if tag == "button" and attrs.get("type", "submit") != "submit":
                return
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value") or "")


def submit_hosted_form(
    browser: requests.Session, page: requests.Response, values: dict[str, str]
) -> requests.Response:
    """Fill the hosted-UI form that has all of `values`' fields and submit it without following."""
    parser = _FormParser()
    parser.feed(page.text)
    for form in parser.forms:
        if all(name in form["fields"] for name in values):
            data = {**form["fields"], **values}
            action = urljoin(page.url, form["action"] or page.url)
            return browser.post(action, data=data, allow_redirects=False, timeout=10)
    raise AssertionError(f"no form with fields {sorted(values)} on {page.url}:\n{page.text[:2000]}")


def hosted_ui_sign_in(
    authorize_url: str, email: str, password: str, browser: requests.Session | None = None
) -> str:
    """Sign in on the hosted UI like a person; return the callback URL Cognito redirects to."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url, timeout=10)
    if page.history and page.history[-1].headers.get("Location", "").startswith("http://localhost"):
        # The hosted-UI session cookie skipped the form: the last hop went to the callback.
        return page.history[-1].headers["Location"]
    assert page.status_code == 200, page.text[:500]
    response = submit_hosted_form(browser, page, {"username": email, "password": password})
    assert response.status_code in (302, 303), response.text[:1000]
    return response.headers["Location"]


def start_sign_in(client: Client, next_url: str | None = None) -> str:
    """Ask the app to start a sign-in; return the hosted-UI URL it redirects to."""
    response = client.get("/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def finish_sign_in(client: Client, callback_url: str) -> HttpResponseBase:
    """Follow Cognito's redirect to the app's callback; return the app's response."""
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == f"http://{APP_HOST}", callback_url
    return client.get(parts.path, parse_qs(parts.query))


def sign_in_as_alice(page, base_url: str) -> None:
    """In a Playwright page: the app's sign-in link, then alice's password on the hosted UI."""
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    page.fill("input[name=username]", "alice@example.com")
    page.fill("input[name=password]", "Alice-pass-1")
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_url(f"{base_url}/me/")


def hosted_ui_sign_in_with_code(
    authorize_url: str, email: str, password: str, code: str, browser: requests.Session | None = None
) -> str:
    """Like hosted_ui_sign_in for a user with an authenticator app: password, then its code."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    challenge = submit_hosted_form(browser, page, {"username": email, "password": password})
    assert challenge.status_code == 200 and 'name="code"' in challenge.text, challenge.text[:1000]
    response = submit_hosted_form(browser, challenge, {"code": code})
    assert response.status_code in (302, 303), response.text[:1000]
    return response.headers["Location"]


def sign_in_again(
    client: Client, next_url: str, email: str, password: str, code: str | None = None
) -> HttpResponseBase:
    """The account page's "sign in again": the app's re-authentication link, the hosted UI afresh
    (its own session ended first), back to the app's callback. Returns the app's response."""
    response = client.get("/account/reauthenticate/", {"next": next_url})
    assert response.status_code == 302, response
    if code is None:
        callback = hosted_ui_sign_in(response["Location"], email, password)
    else:
        callback = hosted_ui_sign_in_with_code(response["Location"], email, password, code)
    return finish_sign_in(client, callback)


def provider_round_trip(
    client: Client,
    provider: str = "Google",
    *,
    email: str,
    name: str = "Fed Person",
    verified: bool = True,
    cancel: bool = False,
) -> HttpResponseBase:
    """The "Continue with <provider>" over HTTP: the app → Cognito → the fake provider's page (typed
    identity, Continue or Cancel) → /oauth2/idpresponse → the app's callback; the app's response."""
    response = client.get("/oidc/authenticate/", {"identity_provider": provider})
    assert response.status_code == 302
    return through_provider(
        client, response["Location"], email=email, name=name, verified=verified, cancel=cancel
    )


def through_provider(
    client: Client,
    to_cognito: str,
    *,
    email: str,
    name: str = "Fed Person",
    verified: bool = True,
    cancel: bool = False,
) -> HttpResponseBase:
    """From a Cognito address that goes straight to a provider (authorize?identity_provider=…, or a
    sign-in page's "Continue with …" link): the fake provider's page (typed identity, Continue or
    Cancel) → /oauth2/idpresponse → the app's callback; the app's response."""
    browser = requests.Session()
    to_provider = browser.get(to_cognito, allow_redirects=False, timeout=10)
    assert to_provider.status_code == 302 and "/_idp/" in to_provider.headers["Location"], to_provider.text
    page = browser.get(urljoin(to_cognito, to_provider.headers["Location"]), timeout=10)
    parser = _FormParser()
    parser.feed(page.text)
    [form] = parser.forms
    # An unticked checkbox is not sent (the parser lists every input, so it is dropped here).
    data = {k: v for k, v in form["fields"].items() if k != "email_verified"}
    data.update(identity="custom", name=name, email=email, action="cancel" if cancel else "continue")
    if verified:
        data["email_verified"] = "true"
    back = browser.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:1000]
    callback = browser.get(back.headers["Location"], allow_redirects=False, timeout=15)
    assert callback.status_code == 302, callback.text[:1000]
    return finish_sign_in(client, callback.headers["Location"])


def continue_with(page_url: str, provider: str) -> str:
    """The hosted sign-in page's "Continue with <provider>" link (its address), as a person clicks it."""
    page = requests.get(page_url, timeout=10)
    match = re.search(rf'id="idp-{re.escape(provider)}" href="([^"]+)"', page.text)
    assert match, page.text[:2000]
    return urljoin(page.url, match.group(1).replace("&amp;", "&"))
