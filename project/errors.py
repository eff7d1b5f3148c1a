"""The last-resort error views: a failure of the database is "unavailable, try again", not a crash.

`handler500` in project/urls.py. Django calls it for any exception no view or middleware handled
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

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

from project.api import problem

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


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
        if request.path.startswith("/api/"):
            response: HttpResponse = problem(HTTPStatus.SERVICE_UNAVAILABLE, detail)
        else:
            page = loader.get_template("503.html").render()
            response = HttpResponse(page, status=HTTPStatus.SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith("/api/"):
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side.")
    return HttpResponseServerError(loader.get_template("500.html").render())
