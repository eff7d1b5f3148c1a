"""JSON API: the caller's own user and profile, and the user list for administrators."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from profiles import avatars, selectors, services
from profiles.forms import ProfileForm
from profiles.models import Moderation, Profile
from profiles.openapi import SCHEMA
from project.api import ApiPrincipal, api_view, problem
from project.jsonbody import InvalidJson, json_body

MAX_BODY = 64 * 1024
USERS_PAGE_SIZE = 50
MAX_PAGE = 100_000


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def profile_json(profile: Profile) -> dict[str, Any]:
    return {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "college": profile.college,
        "role": profile.role,
        "bio": profile.bio,
        "pronouns": profile.pronouns,
        "location": profile.location,
        "website": profile.website,
        "visibility": profile.visibility,
        # Presigned with the process's guest identity (the API holds no ID token): see README.
        "avatar": avatars.api_avatar_url(profile),
        "version": profile.version,
        "sync_pending": profile.sync_pending,
        "updated_at": profile.updated_at.isoformat(),
    }


def _moderation_json(item: Moderation) -> dict[str, Any]:
    # As /me/ shows it: what, why and when, and the moderator's role, never who they are.
    return {
        "action": item.action,
        "label": item.get_action_display(),
        "by_role": item.actor_role,
        "reason": item.reason,
        "at": item.created_at.isoformat(),
    }


def moderation_json(profile: Profile) -> dict[str, Any]:
    """What moderators did to the caller's own profile, newest first, and whether it is hidden."""
    return {
        "hidden": profile.hidden_at is not None,
        "hidden_at": profile.hidden_at.isoformat() if profile.hidden_at else None,
        "hidden_reason": profile.hidden_reason if profile.hidden_at else None,
        "actions": [_moderation_json(m) for m in selectors.moderations_for_profile(profile=profile)],
    }


def me_json(principal: ApiPrincipal, profile: Profile) -> JsonResponse:
    user = principal.user
    response = JsonResponse(
        {
            "sub": user.cognito_sub,
            # The last verified address; one the user set but has not verified is only pending.
            "email": user.email,
            "pending_email": user.pending_email or None,
            "groups": principal.groups,
            "profile": profile_json(profile),
            "moderation": moderation_json(profile),
        }
    )
    response["ETag"] = f'"{profile.version}"'
    return response


def _parse_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    if request.content_type != "application/json":
        return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the changes as application/json.")
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
        return problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The body may be at most {MAX_BODY} bytes.")
    try:
        data = json_body(request.body)
    except InvalidJson as exc:
        return problem(HTTPStatus.BAD_REQUEST, str(exc))
    if not isinstance(data, dict):
        return problem(HTTPStatus.BAD_REQUEST, "The body must be a JSON object of profile fields.")
    return data


def _expected_version(request: HttpRequest, profile: Profile) -> int | JsonResponse:
    """If-Match carries the ETag (version) the client based its change on; absent: the current."""
    header = request.META.get("HTTP_IF_MATCH")
    if not header:
        return profile.version
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        return problem(HTTPStatus.BAD_REQUEST, "If-Match must be an ETag from GET /api/user/me.")


def _field_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with the PATCH body's field names and types, before the form's own rules."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if name == "role":
            errors[name] = ["The role is read-only: only administrators change it."]
        elif name not in services.EDITABLE_FIELDS:
            errors[name] = ["Unknown field."]
        elif not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif "\x00" in value or not _is_utf8(value):
            errors[name] = ["Must be text (no NUL characters or unpaired surrogates)."]
    return errors


def _refused(errors: dict[str, list[str]]) -> JsonResponse:
    return problem(HTTPStatus.BAD_REQUEST, "Some fields were refused.", errors=errors)


@api_view(methods=("GET", "PATCH"))
def user_me(request: HttpRequest, principal: ApiPrincipal) -> JsonResponse:
    """GET the caller's user and profile; PATCH editable profile fields (same rules as the form)."""
    profile = services.profile_get_or_create_for_user(user=principal.user)
    if request.method == "GET":
        return me_json(principal, profile)
    return _patch_me(request, principal, profile)


def _patch_me(request: HttpRequest, principal: ApiPrincipal, profile: Profile) -> JsonResponse:
    """The PATCH: parse, check names and types, validate with the form, save through the service."""
    data = _parse_body(request)
    if isinstance(data, JsonResponse):
        return data
    expected = _expected_version(request, profile)
    if isinstance(expected, JsonResponse):
        return expected
    errors = _field_errors(data)
    if errors:
        return _refused(errors)
    current = {name: getattr(profile, name) for name in services.EDITABLE_FIELDS}
    form = ProfileForm({**current, **data, "version": expected}, instance=profile)
    if not form.is_valid():
        return _refused({name: [str(e) for e in messages] for name, messages in form.errors.items()})
    try:
        updated = services.profile_update(
            profile=profile,
            data={k: form.cleaned_data[k] for k in data},
            expected_version=expected,
            access_token=principal.token,
        )
    except services.HandleTaken as exc:
        return _refused({"handle": [str(exc)]})
    except services.ProfileChangedMeanwhile:
        return problem(
            HTTPStatus.PRECONDITION_FAILED, "The profile changed since that version: GET it again."
        )
    return me_json(principal, updated.profile)


@api_view(methods=("GET",))
def users(request: HttpRequest, principal: ApiPrincipal) -> JsonResponse:
    """Every user with their profile, for members of the administrators' group; paginated."""
    if settings.COGNITO_STAFF_GROUP not in principal.groups:
        return problem(
            HTTPStatus.FORBIDDEN, f"Only members of the {settings.COGNITO_STAFF_GROUP} group may list users."
        )
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 0
    if not 1 <= page <= MAX_PAGE:
        return problem(HTTPStatus.BAD_REQUEST, f"page must be an integer from 1 to {MAX_PAGE}.")
    start = (page - 1) * USERS_PAGE_SIZE
    rows = list(
        get_user_model()
        .objects.filter(is_active=True)
        .select_related("profile")
        .order_by("id")[start : start + USERS_PAGE_SIZE + 1]
    )
    base = request.build_absolute_uri(reverse("api:users"))
    results = [
        {
            "sub": user.cognito_sub,
            "email": user.email,
            "is_staff": user.is_staff,
            "profile": profile_json(user.profile) if hasattr(user, "profile") else None,
        }
        for user in rows[:USERS_PAGE_SIZE]
    ]
    return JsonResponse(
        {
            "results": results,
            "page": page,
            "next": f"{base}?page={page + 1}" if len(rows) > USERS_PAGE_SIZE else None,
            "previous": f"{base}?page={page - 1}" if page > 1 else None,
        }
    )


@csrf_exempt  # no cookie is read: any other method gets 405, not a CSRF refusal
@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Unauthenticated liveness probe (and the benchmark's ceiling)."""
    return JsonResponse({"status": "ok"})


@csrf_exempt
@login_not_required
@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    """The OpenAPI description of this API."""
    return JsonResponse(SCHEMA, json_dumps_params={"indent": 1})
