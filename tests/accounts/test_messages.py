"""What people are told: the callback seen again, signed out, and error pages in the site's style."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory, override_settings

from project.errors import server_error_for
from project.middleware import FriendlyErrorPagesMiddleware
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db


def test_the_callback_visited_again_while_signed_in_is_not_a_failure(app_client):
    callback = hosted_ui_sign_in(start_sign_in(app_client), "alice@example.com", "Alice-pass-1")
    assert finish_sign_in(app_client, callback)["Location"] == "/me/"
    again = finish_sign_in(app_client, callback)  # Back, reload or bookmark: the state is used up
    assert again.status_code == HTTPStatus.FOUND and again["Location"] == "/me/"
    page = app_client.get("/me/").content.decode()
    assert "You are already signed in." in page and "Sign-in failed" not in page
    # Nothing else happened: still signed in, as the same person.
    assert app_client.get("/me/").status_code == HTTPStatus.OK


def test_the_callback_with_a_stale_state_and_nobody_signed_in_still_fails_politely(app_client):
    response = app_client.get("/oidc/callback/", {"code": "x", "state": "not-ours"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "We could not sign you in" in response.content.decode()


def test_signing_out_says_so(sign_in, app_client):
    sign_in()
    response = app_client.post("/accounts/sign-out/")
    assert response.status_code == HTTPStatus.FOUND  # to Cognito's /logout, which sends the browser home
    assert "You are signed out." in app_client.get("/").content.decode()


def test_the_site_s_own_pages_answer_a_missing_page():
    response = Client(HTTP_HOST=APP_HOST).get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert 'data-testid="error-page"' in response.content.decode()
    assert "Page not found" in response.content.decode()


def test_a_get_to_a_post_only_address_gets_the_site_s_page_not_an_empty_405(sign_in, app_client):
    sign_in()
    for path in ("/accounts/sign-out/", "/u/anyone/moderate/hide/"):
        response = app_client.get(path)
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, path
        page = response.content.decode()
        assert 'data-testid="error-page"' in page and "only works from a button" in page, path
        assert response["Allow"] == "POST"
    assert app_client.get("/me/").status_code == HTTPStatus.OK  # the GET signed nobody out


@override_settings(DEBUG=True, DEBUG_ERROR_PAGES=False)
def test_with_debug_on_the_site_s_own_pages_are_shown_unless_asked_otherwise():
    for path in ("/no/such/page/", "/u/nobody-here/"):  # no URL at all; a view's Http404
        response = Client(HTTP_HOST=APP_HOST).get(path)
        assert response.status_code == HTTPStatus.NOT_FOUND
        page = response.content.decode()
        assert "Page not found" in page and "URLconf" not in page and "Traceback" not in page
    with override_settings(DEBUG_ERROR_PAGES=True):
        technical = Client(HTTP_HOST=APP_HOST).get("/no/such/page/").content.decode()
    assert "URLconf" in technical  # Django's technical 404, for developers who want it


@override_settings(DEBUG=True, DEBUG_ERROR_PAGES=False)
def test_an_unexpected_error_gets_the_500_page_and_is_still_logged(caplog):
    middleware = FriendlyErrorPagesMiddleware(lambda request: None)
    request = RequestFactory().get("/me/")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        response = middleware.process_exception(request, exc)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "Something went wrong on our side" in response.content.decode()
    assert "boom" not in response.content.decode()
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_a_stale_form_gets_the_site_s_page_not_django_s_csrf_page():
    response = Client(HTTP_HOST=APP_HOST, enforce_csrf_checks=True).post("/accounts/sign-out/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    assert "This form has expired" in page and 'data-testid="error-page"' in page
    assert "CSRF verification failed" not in page


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (RuntimeError("a secret"), HTTPStatus.INTERNAL_SERVER_ERROR),
        (OperationalError("a secret"), HTTPStatus.SERVICE_UNAVAILABLE),
    ],
)
def test_the_500_and_503_pages_are_the_site_s_pages_and_read_no_database(
    exception, status, django_assert_num_queries
):
    """handler500's pages (a crash; a database outage) fit a phone, use the site's CSS, have a <main>
    landmark and a button-sized way home, and render without a single query (the database may be
    what failed). axe checks them in Chromium in tests/ui."""
    with django_assert_num_queries(0):
        response = server_error_for(RequestFactory().get("/me/"), exception)
    assert response.status_code == status
    page = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<link rel="stylesheet" href="/static/css/site.css' in page
    assert '<main id="main">' in page and '<a class="button primary" href="/">' in page
    assert 'data-testid="error-page"' in page and "secret" not in page
