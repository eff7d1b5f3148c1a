"""The error views (handler400/403/404/500 in project/urls.py): RFC 9457 problems under /api/,
the site's pages elsewhere; a failure of the database is "unavailable, try again", not a crash.

Under /api/ (project.api.is_api_request) every answer is application/problem+json: a client of the
API never has to parse an HTML page, whether no URL matched, a view raised Http404 or
PermissionDenied, or Django refused the request (SuspiciousOperation, DisallowedHost, BadRequest;
RequestDataTooBig is the 413 it is). The problems say what kind of refusal it was, never the
exception's message.

`handler500`: Django calls it for any exception no view or middleware handled
with DEBUG off; with DEBUG on, project.middleware answers with `server_error_for` in its place
(unless DJANGO_DEBUG_ERROR_PAGES asks for Django's technical page), so both agree. A database that
is restarting or unreachable (psycopg's OperationalError, or a connection that died under a
request: InterfaceError) is a transient outage: 503 with `Retry-After`, as an RFC 9457 problem on
/api/ and a page elsewhere. Anything else stays a 500.
Neither renders with the request's context: loading the session or the user would touch the
database again.
"""

from __future__ import annotations

import logging
import sys
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults

from project.api import is_api_request, problem

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django or a view refused as malformed or suspicious."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The request body is too large.")
    return problem(HTTPStatus.BAD_REQUEST, "The request is malformed or was refused as unsafe.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403."""
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return problem(HTTPStatus.FORBIDDEN, "You are not allowed to do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: no URL matched, or a view raised Http404."""
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return problem(HTTPStatus.NOT_FOUND, "There is nothing at this address of the API.")


def server_error(request: HttpRequest) -> HttpResponse:
    """503 for a database outage, else the plain 500 page; JSON problems under /api/."""
    return server_error_for(request, sys.exc_info()[1])


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether exc is the database being unreachable or restarting (transient), not a bug."""
    return isinstance(exc, OperationalError | InterfaceError)


def server_error_for(request: HttpRequest, exc: BaseException | None) -> HttpResponse:
    """handler500's answer to exc (also what DEBUG shows, through project.middleware)."""
    if is_database_outage(exc):
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exc)
        detail = "The service is briefly unavailable. Try again in a few seconds."
        if is_api_request(request):
            response: HttpResponse = problem(HTTPStatus.SERVICE_UNAVAILABLE, detail)
        else:
            page = loader.get_template("503.html").render()
            response = HttpResponse(page, status=HTTPStatus.SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if is_api_request(request):
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side.")
    return HttpResponseServerError(loader.get_template("500.html").render())
