"""A URLconf for tests: the project's own (its handler400/403/404/500 too) plus views that raise
what a view or Django itself may raise, under /api/ and under a page's address.

Used with override_settings(ROOT_URLCONF="tests.support.raising_urls"): no view of the project
raises these on demand, yet any of them may (a selector's Http404, a body over Django's limit).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from project import urls as project_urls

RAISES: dict[str, type[Exception]] = {
    "http404": Http404,
    "permission-denied": PermissionDenied,
    "suspicious-operation": SuspiciousOperation,
    "bad-request": BadRequest,
    "disallowed-host": DisallowedHost,
    "request-data-too-big": RequestDataTooBig,
    "runtime-error": RuntimeError,
    "database-outage": OperationalError,
}


@csrf_exempt
@login_not_required
def raising(request: HttpRequest, kind: str) -> HttpResponse:
    raise RAISES[kind]("a secret detail that no answer may show")


urlpatterns = [
    path("api/test-raises/<str:kind>", raising),
    path("test-raises/<str:kind>/", raising),
    *project_urls.urlpatterns,
]
# The project's handlers (Django's defaults where it names none).
handler400 = getattr(project_urls, "handler400", defaults.bad_request)
handler403 = getattr(project_urls, "handler403", defaults.permission_denied)
handler404 = getattr(project_urls, "handler404", defaults.page_not_found)
handler500 = getattr(project_urls, "handler500", defaults.server_error)
