from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def me(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own page (LoginRequiredMiddleware keeps others out)."""
    return render(request, "profiles/me.html", {"account": request.user})
