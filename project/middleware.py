"""HTTP hygiene that holds for every view, before any of them reads the request."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from project import errors
from project.api import is_api_request, problem

logger = logging.getLogger(__name__)

# RFC 9110 §8.6: Content-Length = 1*DIGIT. A list ("11, 11") or anything else is malformed.
CONTENT_LENGTH_RE = re.compile(r"[0-9]+")


class MalformedRequestMiddleware:
    """Refuses a malformed Content-Length with a 400 before Django parses the body.

    Django's request.body calls int() on the header, so "abc" or "1e3" would become a 500
    wherever the body or the form is read (CSRF checks included). The API gets an RFC 9457
    problem document, pages the 400 page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH")
        if length and not CONTENT_LENGTH_RE.fullmatch(length.strip(" \t")):
            return self._bad_request(request, "The Content-Length header is malformed.")
        return self.get_response(request)

    @staticmethod
    def _bad_request(request: HttpRequest, detail: str) -> HttpResponse:
        if is_api_request(request):
            return problem(HTTPStatus.BAD_REQUEST, detail)
        return render(request, "400.html", status=HTTPStatus.BAD_REQUEST)


class FriendlyErrorPagesMiddleware:
    """With DEBUG on, the site's own 400/403/404/500 pages instead of Django's technical ones.

    `make dev` runs with DEBUG (runserver's static files, relaxed cookies), yet people trying the
    app should meet the pages production shows. DJANGO_DEBUG_ERROR_PAGES=true brings Django's
    technical pages back; with DEBUG off Django calls these handlers itself and this does nothing.
    Under /api/ the same handlers answer RFC 9457 problems; an unexpected exception there keeps
    Django's technical 500 for developers (DebugServerErrorMiddleware still makes an outage a 503).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.active = settings.DEBUG and not settings.DEBUG_ERROR_PAGES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.active:
            try:
                resolve(request.path_info)
            except Resolver404 as exc:  # no view at all: Django would show its URL list
                return errors.page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not self.active:
            return None
        if isinstance(exception, Http404):
            return errors.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return errors.permission_denied(request, exception)
        if isinstance(exception, (BadRequest, SuspiciousOperation)):
            return errors.bad_request(request, exception)
        if is_api_request(request):
            return None
        # Still logged with its traceback, and still raised by Django's test client.
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        got_request_exception.send(sender=None, request=request)
        return errors.server_error_for(request, exception)  # handler500's answer: 503 for an outage


# Where _remember_exception keeps the exception Django is about to turn into its technical 500.
_UNCAUGHT = "_uncaught_exception"


def _remember_exception(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """got_request_exception's receiver (sent while the exception is being handled)."""
    if request is not None:
        setattr(request, _UNCAUGHT, sys.exc_info()[1])


class DebugServerErrorMiddleware:
    """With DEBUG on, handler500's answer for an exception raised outside a view, not Django's
    technical 500: a database outage is then the 503 with Retry-After that production gives.

    Django turns an exception into its technical page at the layer that raised it (a middleware's
    process_view loading the session while Postgres is down, where FriendlyErrorPagesMiddleware's
    process_exception never runs), so this is first in MIDDLEWARE, outside every layer. Which
    exception it was comes from got_request_exception, which Django sends before that page. Pages
    get handler500's answer for any exception; /api/ keeps Django's technical answer for developers,
    but an outage is the 503 problem there too. Does nothing with DEBUG off (Django calls
    handler500 itself) or with DJANGO_DEBUG_ERROR_PAGES=true.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.active = settings.DEBUG and not settings.DEBUG_ERROR_PAGES
        if self.active:
            got_request_exception.connect(_remember_exception, dispatch_uid=f"{__name__}._remember_exception")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exception = getattr(request, _UNCAUGHT, None)
        if not self.active or exception is None or response.status_code != HTTPStatus.INTERNAL_SERVER_ERROR:
            return response
        if is_api_request(request) and not errors.is_database_outage(exception):
            return response
        return errors.server_error_for(request, exception)


class MethodNotAllowedPageMiddleware:
    """The site's own page for a 405 (a GET to sign-out or moderate), not Django's empty answer.

    Django's require_POST answers HttpResponseNotAllowed with no body; a person who followed or
    typed such an address gets a blank page. Under /api/ the empty answer (require_GET's, on
    /api/health) becomes the RFC 9457 problem that `api_view` answers, with the same Allow.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != HTTPStatus.METHOD_NOT_ALLOWED or response.content:
            return response
        allowed = response.get("Allow", "")
        if is_api_request(request):
            page: HttpResponse = problem(HTTPStatus.METHOD_NOT_ALLOWED, f"Use {allowed}.")
        else:
            page = render(request, "405.html", status=HTTPStatus.METHOD_NOT_ALLOWED)
        if allowed:
            page["Allow"] = allowed
        return page
