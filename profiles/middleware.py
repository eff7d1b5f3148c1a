"""Retries a profile sync to Cognito that failed, on the user's next request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from profiles import services
from profiles.credentials import ACCESS_TOKEN


class ProfileSyncRetryMiddleware:
    """Only sessions flagged by a failed push pay for a retry; others pay nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if getattr(view_func, "bearer_only", False):
            return None
        if request.session.get(services.SYNC_PENDING) and request.user.is_authenticated:
            profile = services.profile_get_or_create_for_user(user=request.user)
            if not profile.sync_pending or services.profile_push_to_cognito(
                profile=profile, access_token=request.session.get(ACCESS_TOKEN)
            ):
                del request.session[services.SYNC_PENDING]
        return None
