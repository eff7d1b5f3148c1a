"""Comparison variants of /api/user/me, mounted under /bench/ only when BENCH_URLS is on.

(a′) the handler itself, authentication replaced by a fixed user (loaded per request as (a) does);
(b) verified through Cognito's userInfo on every request (what mozilla-django-oidc's DRF class does);
(c) fetching discovery and the JWKS on every request (what a verifier without a cache does).
"""

from __future__ import annotations

import inspect
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts.selectors import user_for_api
from profiles import api
from profiles.services import profile_get_or_create_for_user
from project.api import ApiPrincipal, problem
from project.integrations.cognito import user_pool

# (a′): the view function api_view wraps, and the user it serves (found once per process).
_user_me_handler = inspect.unwrap(api.user_me)
FIXED_USER_EMAIL = os.environ.get("BENCH_FIXED_USER_EMAIL", "alice@example.com")
_fixed_sub: list[str] = []


@login_not_required
@csrf_exempt
def me_fixed_user(request):
    if request.method != "GET":
        return problem(405, "Use GET.")
    User = get_user_model()
    if not _fixed_sub:
        _fixed_sub.append(User.objects.get(email=FIXED_USER_EMAIL).cognito_sub)
    # The same read as accounts.bearer._user_for: only the token check is gone.
    user = user_for_api(sub=_fixed_sub[0])
    response = _user_me_handler(request, ApiPrincipal(user=user, claims={}, token=""))
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@csrf_exempt
def me_via_userinfo(request):
    token = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    # The user pool's own session (its calls are counted); the latency is localcloud's --latency-ms.
    pool = user_pool()
    answer = pool.http.get(
        pool.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    if answer.status_code != 200:
        return JsonResponse({"error": "invalid_token"}, status=401)
    info = answer.json()
    user = get_user_model().objects.filter(cognito_sub=info["sub"]).select_related("profile").first()
    if user is None:
        return JsonResponse({"error": "unknown user"}, status=401)
    profile = profile_get_or_create_for_user(user=user)
    return api.me_json(ApiPrincipal(user=user, claims={}, token=token), profile)


@login_not_required
@csrf_exempt
def me_fetching_jwks(request):
    # Forget discovery, keys and verified tokens, here and in the shared cache: a verifier with no
    # cache fetches the discovery document and the JWKS for every request.
    user_pool().reset()
    return api.user_me(request)


me_fixed_user.bearer_only = True
me_via_userinfo.bearer_only = True
me_fetching_jwks.bearer_only = True

urlpatterns = [
    path("me-fixed-user", me_fixed_user),
    path("me-userinfo", me_via_userinfo),
    path("me-jwks-per-request", me_fetching_jwks),
]
