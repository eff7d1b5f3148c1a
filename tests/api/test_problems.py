"""Every answer under /api/ is an RFC 9457 problem (application/problem+json), whatever refused
the request: no URL, the wrong method, Django's Host check, or an exception a view raised. Pages
keep the site's HTML pages. Over HTTP with Django's test client, with DEBUG off as in production
(and on, as in `make dev`)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import set_script_prefix

from tests.support.hosted_ui import APP_HOST

pytestmark = pytest.mark.django_db

RAISING_URLS = "tests.support.raising_urls"
# What a view may raise, and the status the API answers it with (Django's own for a page).
RAISED = {
    "http404": (HTTPStatus.NOT_FOUND, HTTPStatus.NOT_FOUND),
    "permission-denied": (HTTPStatus.FORBIDDEN, HTTPStatus.FORBIDDEN),
    "suspicious-operation": (HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST),
    "bad-request": (HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST),
    "disallowed-host": (HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST),
    "request-data-too-big": (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.BAD_REQUEST),
}


def assert_problem(response, status: int) -> dict:
    """response is an RFC 9457 problem with this status, and shows no exception's message."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase and body["detail"]
    assert "secret" not in response.content.decode()
    return body


def assert_page(response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'data-testid="error-page"' in page and "secret" not in page


@pytest.fixture
def production(settings):
    """DEBUG off, and the project's URLs with views that raise on demand."""
    settings.DEBUG = False
    settings.ROOT_URLCONF = RAISING_URLS
    return settings


@pytest.fixture
def development(settings):
    """DEBUG on with the site's own error pages (`make dev`)."""
    settings.DEBUG = True
    settings.DEBUG_ERROR_PAGES = False
    settings.ROOT_URLCONF = RAISING_URLS
    return settings


@pytest.fixture
def script_prefix():
    """Resets the thread's script prefix, which a request with a SCRIPT_NAME leaves set."""
    yield "/prefix"
    set_script_prefix("/")


def test_an_unknown_api_address_is_a_404_problem_and_a_page_stays_a_page(production):
    client = Client(HTTP_HOST=APP_HOST)
    assert_problem(client.get("/api/nope"), HTTPStatus.NOT_FOUND)
    assert_problem(client.post("/api/users/nope/deeper"), HTTPStatus.NOT_FOUND)
    assert_page(client.get("/no/such/page/"), HTTPStatus.NOT_FOUND)


def test_a_host_not_served_is_a_400_problem_on_the_api(production):
    client = Client(HTTP_HOST="evil.example")
    for path in ("/api/health", "/api/user/me", "/api/nope"):
        assert_problem(client.get(path), HTTPStatus.BAD_REQUEST)
    response = client.get("/")
    assert response.status_code == HTTPStatus.BAD_REQUEST and response["Content-Type"].startswith("text/html")


def test_a_method_not_allowed_is_the_same_405_problem_on_every_endpoint(production):
    client = Client(HTTP_HOST=APP_HOST)
    for method, path, allowed in (
        ("delete", "/api/health", "GET"),  # require_GET's empty answer, made a problem
        ("post", "/api/schema", "GET"),
        ("put", "/api/user/me", "GET, PATCH"),  # api_view's own problem
    ):
        response = getattr(client, method)(path)
        body = assert_problem(response, HTTPStatus.METHOD_NOT_ALLOWED)
        assert response["Allow"] == allowed and body["detail"] == f"Use {allowed}.", path


@pytest.mark.parametrize("kind", sorted(RAISED))
def test_what_an_api_view_raises_is_a_problem_and_a_page_s_is_the_site_s_page(production, kind):
    api_status, page_status = RAISED[kind]
    client = Client(HTTP_HOST=APP_HOST)
    assert_problem(client.post(f"/api/test-raises/{kind}"), api_status)
    response = client.post(f"/test-raises/{kind}/")
    assert response.status_code == page_status and response["Content-Type"].startswith("text/html")
    assert "secret" not in response.content.decode()


def test_an_unexpected_error_and_an_outage_are_problems_too(production):
    client = Client(HTTP_HOST=APP_HOST, raise_request_exception=False)
    assert_problem(client.get("/api/test-raises/runtime-error"), HTTPStatus.INTERNAL_SERVER_ERROR)
    outage = client.get("/api/test-raises/database-outage")
    assert_problem(outage, HTTPStatus.SERVICE_UNAVAILABLE)
    assert outage["Retry-After"] == "5"


@pytest.mark.parametrize("kind", ["http404", "permission-denied", "suspicious-operation", "bad-request"])
def test_with_debug_on_the_api_still_answers_problems(development, kind):
    client = Client(HTTP_HOST=APP_HOST)
    assert_problem(client.get(f"/api/test-raises/{kind}"), RAISED[kind][0])
    assert_page(client.get(f"/test-raises/{kind}/"), RAISED[kind][1])
    assert_problem(client.get("/api/nope"), HTTPStatus.NOT_FOUND)
    assert_problem(client.delete("/api/health"), HTTPStatus.METHOD_NOT_ALLOWED)


def test_the_api_is_told_by_the_path_below_the_script_prefix(production, script_prefix):
    """Behind a proxy that mounts the app under a prefix (SCRIPT_NAME), request.path starts with the
    prefix; /api/ is what the URL patterns match (path_info), for every answer."""
    client = Client(HTTP_HOST=APP_HOST, raise_request_exception=False)
    outage = client.get("/api/test-raises/database-outage", SCRIPT_NAME=script_prefix)
    assert outage.wsgi_request.path == f"{script_prefix}/api/test-raises/database-outage"
    assert_problem(outage, HTTPStatus.SERVICE_UNAVAILABLE)
    assert_problem(client.get("/api/test-raises/runtime-error", SCRIPT_NAME=script_prefix), 500)
    assert_problem(client.get("/api/nope", SCRIPT_NAME=script_prefix), HTTPStatus.NOT_FOUND)
    assert_problem(client.get("/api/test-raises/http404", SCRIPT_NAME=script_prefix), HTTPStatus.NOT_FOUND)
    page = client.get("/test-raises/database-outage/", SCRIPT_NAME=script_prefix)
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE and page["Content-Type"].startswith("text/html")
