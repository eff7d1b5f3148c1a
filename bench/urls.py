"""The app's URLs plus two deliberately naive variants of /api/user/me, for comparison only.

(b) verifies each request through Cognito's userInfo (what mozilla-django-oidc's DRF class does);
(c) fetches the JWKS on every request (what a verifier without a cache does).
"""

from __future__ import annotations

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts import cognito
from accounts.bearer import ApiPrincipal
from profiles import api
from profiles.services import profile_get_or_create_for_user
from project.urls import urlpatterns as app_urlpatterns

_http = requests.Session()


@login_not_required
@csrf_exempt
def me_via_userinfo(request):
    token = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    answer = _http.get(
        cognito.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {token}"}, timeout=5
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
    cognito._local.pop("jwks", None)
    cognito._verified.clear()
    cache.delete(f"cognito:jwks:{cognito.settings.COGNITO_USER_POOL_ID}")
    return api.user_me(request)


me_via_userinfo.bearer_only = True
me_fetching_jwks.bearer_only = True

urlpatterns = [
    path("bench/me-userinfo", me_via_userinfo),
    path("bench/me-jwks-per-request", me_fetching_jwks),
    *app_urlpatterns,
]
