"""HTTP hygiene that holds for every view, before any of them reads the request."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from project.api import problem

# RFC 9110 §8.6: Content-Length = 1*DIGIT. A list ("11, 11") or anything else is malformed.
CONTENT_LENGTH_RE = re.compile(r"[0-9]+")


class MalformedRequestMiddleware:
    """Refuses a malformed Content-Length with a 400 before Django parses the body.

    Django's request.body calls int() on the header, so "abc" or "1e3" would become a 500
    wherever the body or the form is read (CSRF checks included). API views get an RFC 9457
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
        try:
            api = getattr(resolve(request.path_info).func, "bearer_only", False)
        except Resolver404:
            api = False
        if api:
            return problem(HTTPStatus.BAD_REQUEST, detail)
        return render(request, "400.html", status=HTTPStatus.BAD_REQUEST)
