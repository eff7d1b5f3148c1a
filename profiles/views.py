"""Profile pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from profiles import avatars, images, moderation, selectors, services
from profiles.credentials import ACCESS_TOKEN
from profiles.forms import AvatarForm, ModerationForm, ProfileForm
from project import roles
from project.jsonbody import InvalidJson, json_body


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def me(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own profile (LoginRequiredMiddleware keeps others out)."""
    profile = services.profile_get_or_create_for_user(user=request.user)
    avatars.own_avatar_stem(request=request, profile=profile)  # keeps the header's copy current
    urls = avatars.profile_avatar_urls(request=request, profiles=[profile], size=avatars.LARGE)
    context = {
        "profile": profile,
        "account": request.user,
        "avatar_url": urls.get(profile.pk),
        "moderations": selectors.moderations_for_profile(profile=profile),
        "moderator": roles.can_moderate(profile.role),
    }
    return render(request, "profiles/me.html", context)


@require_http_methods(["GET", "POST"])
def me_edit(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create_for_user(user=request.user)
    address = request.build_absolute_uri(reverse("profiles:public", args=[profile.handle]))
    if request.method == "GET":
        return render(request, "profiles/edit.html", {"form": ProfileForm(instance=profile, address=address)})
    form = ProfileForm(request.POST, instance=profile, address=address)
    if not form.is_valid():
        return render(request, "profiles/edit.html", {"form": form}, status=400)
    try:
        updated = services.profile_update(
            profile=profile,
            data=form.cleaned_data,
            expected_version=form.cleaned_data["version"],
            access_token=request.session.get(ACCESS_TOKEN),
            request=request,
        )
    except services.HandleTaken as exc:
        form.add_error("handle", str(exc))
        return render(request, "profiles/edit.html", {"form": form}, status=400)
    except services.ProfileChangedMeanwhile:
        form.add_error(
            None,
            "Your profile was changed meanwhile (in another tab or by an administrator). "
            "Your changes are below, not saved: check them and save again.",
        )
        # Saving again now applies the user's input on top of the newer version.
        # From the database: the instance in hand already holds the form's input.
        current = selectors.profile_get_current(pk=profile.pk)
        form.data = form.data.copy()
        form.data["version"] = str(current.version)
        changed = [
            (form.fields[name].label, getattr(current, name))
            for name in services.EDITABLE_FIELDS
            if getattr(current, name) != form.cleaned_data.get(name)
        ]
        return render(request, "profiles/edit.html", {"form": form, "current": changed}, status=409)
    if updated.synced:
        messages.success(request, "Profile saved.")
    else:
        messages.warning(
            request, "Profile saved. Your name and college will reach the sign-in service shortly."
        )
    if updated.rekey_failed:
        messages.warning(
            request, f"{updated.rekey_failed} Upload it again to be sure earlier viewers lose it."
        )
    return redirect("profiles:me")


@login_not_required
def public_profile(request: HttpRequest, handle: str) -> HttpResponse:
    profile = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
    if profile is None:
        # 404 rather than 403: the page does not tell a hidden profile from no profile. (Choosing a
        # handle still says "taken" for a hidden one: uniqueness reveals existence, nothing more.)
        raise Http404("No such profile")
    return _public_page(request, profile)


def _public_page(
    request: HttpRequest, profile, form: ModerationForm | None = None, action: str = "", status: int = 200
) -> HttpResponse:
    urls = avatars.profile_avatar_urls(request=request, profiles=[profile], size=avatars.LARGE)
    may_moderate = moderation.moderation_allowed(
        actor=request.user, role=getattr(profile, "viewer_role", None), target=profile
    )
    context = {
        "profile": profile,
        "avatar_url": urls.get(profile.pk),
        "may_moderate": may_moderate,
        "moderation_form": form if form is not None else ModerationForm(),
        "moderation_action": action,
    }
    return render(request, "profiles/public.html", context, status=status)


# --- Moderation -------------------------------------------------------------------------------

MODERATION_DONE = {
    "remove-avatar": "The picture is removed; the member will see why.",
    "hide": "The profile is hidden; the member will see why.",
    "unhide": "The profile is shown again.",
}


@require_POST
def moderate(request: HttpRequest, handle: str, action: str) -> HttpResponse:
    """A moderator's action on a profile (POST only; the services check who may act on whom)."""
    if action not in MODERATION_DONE:
        raise Http404("No such action")
    # Only a profile the actor may see (hidden ones included, for moderators): the page they act on.
    target = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
    if target is None:
        raise Http404("No such profile")
    form = ModerationForm(request.POST)
    try:
        if not form.is_valid():
            return _moderation_form_error(request, target, form, action)
        reason = form.cleaned_data["reason"]
        if action == "remove-avatar":
            moderation.moderation_remove_avatar(request=request, target=target, reason=reason)
        elif action == "hide":
            moderation.moderation_hide(actor=request.user, target=target, reason=reason)
        else:
            moderation.moderation_unhide(actor=request.user, target=target, reason=reason)
    except moderation.ModerationRefused as exc:
        raise PermissionDenied(str(exc)) from None
    except moderation.ModerationFailed as exc:
        messages.error(request, str(exc))
        return redirect("profiles:public", handle=target.handle)
    messages.success(request, MODERATION_DONE[action])
    return redirect("profiles:public", handle=target.handle)


def _moderation_form_error(request: HttpRequest, target, form: ModerationForm, action: str) -> HttpResponse:
    """The page again with the form's errors; only someone who may moderate learns the reason was wrong."""
    if not moderation.moderation_allowed(actor=request.user, role=target.viewer_role, target=target):
        raise PermissionDenied("You may not moderate this profile.")
    return _public_page(request, target, form=form, action=action, status=HTTPStatus.BAD_REQUEST)


def moderation_page(request: HttpRequest) -> HttpResponse:
    """For moderators: the latest moderations and the hidden profiles."""
    if not roles.can_moderate(moderation.actor_role(actor=request.user)):
        raise PermissionDenied("This page is for moderators.")
    context = {
        "log": selectors.moderation_log(viewer=request.user),
        "hidden": selectors.profiles_hidden(viewer=request.user),
    }
    return render(request, "profiles/moderation.html", context)


def people(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = selectors.directory_page(query=query, viewer=request.user, page_number=request.GET.get("page"))
    urls = avatars.profile_avatar_urls(request=request, profiles=page.object_list, size=avatars.SMALL)
    rows = [(profile, urls.get(profile.pk)) for profile in page.object_list]
    return render(request, "profiles/people.html", {"page": page, "rows": rows, "query": query})


# --- Avatar ------------------------------------------------------------------------------------


def _avatar_page(request: HttpRequest, form: AvatarForm, profile, status: int = 200) -> HttpResponse:
    urls = avatars.profile_avatar_urls(request=request, profiles=[profile], size=avatars.LARGE)
    context = {
        "form": form,
        "profile": profile,
        "avatar_url": urls.get(profile.pk),
        "max_bytes": settings.AVATAR_MAX_BYTES,  # the browser shrinks a larger photo before upload
        "max_pixels": images.max_pixels_by_type(),  # ... and one with more pixels than we decode
    }
    return render(request, "profiles/avatar.html", context, status=status)


@require_http_methods(["GET", "POST"])
def avatar(request: HttpRequest) -> HttpResponse:
    """Upload a new avatar with a plain form (works without JavaScript)."""
    profile = services.profile_get_or_create_for_user(user=request.user)
    if request.method == "GET":
        return _avatar_page(request, AvatarForm(), profile)
    form = AvatarForm(request.POST, request.FILES)
    if not form.is_valid():
        if form.has_error("image", code="busy"):
            return _busy(_avatar_page(request, form, profile, status=HTTPStatus.SERVICE_UNAVAILABLE))
        return _avatar_page(request, form, profile, status=HTTPStatus.BAD_REQUEST)
    try:
        avatars.avatar_set_from_upload(
            request=request, profile=profile, renditions=form.cleaned_data["image"]
        )
    except avatars.AvatarStoreFailed as exc:
        form.add_error(None, str(exc))
        return _avatar_page(request, form, profile, status=HTTPStatus.SERVICE_UNAVAILABLE)
    messages.success(request, "Your picture is saved.")
    return redirect("profiles:me")


@require_POST
def avatar_remove(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create_for_user(user=request.user)
    try:
        avatars.avatar_remove(request=request, profile=profile)
    except avatars.AvatarStoreFailed as exc:
        messages.error(request, str(exc))
        return redirect("profiles:avatar")
    messages.success(request, "Your picture is removed.")
    return redirect("profiles:me")


def _json_body(request: HttpRequest) -> dict:
    if len(request.body) > 4096:
        return {}
    try:
        data = json_body(request.body, empty={})
    except InvalidJson:
        return {}
    return data if isinstance(data, dict) else {}


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _busy(response: HttpResponse) -> HttpResponse:
    """Too many large photos at once (images.ImageBusy): the same upload will do in a moment."""
    response["Retry-After"] = str(max(1, round(settings.AVATAR_LARGE_DECODE_WAIT_SECONDS)))
    return response


@require_POST
def avatar_upload_start(request: HttpRequest) -> JsonResponse:
    """A presigned POST for the browser to send the file straight to S3 (JSON: content_type)."""
    profile = services.profile_get_or_create_for_user(user=request.user)
    content_type = _json_body(request).get("content_type")
    try:
        answer = avatars.avatar_upload_start(
            request=request,
            profile=profile,
            content_type=content_type if isinstance(content_type, str) else "",
        )
    except images.ImageRefused as exc:
        return _json_error(str(exc), HTTPStatus.BAD_REQUEST)
    except avatars.AvatarStoreFailed as exc:
        return _json_error(str(exc), HTTPStatus.SERVICE_UNAVAILABLE)
    return JsonResponse(answer)


@require_POST
def avatar_upload_finish(request: HttpRequest) -> JsonResponse:
    """The browser's upload is in S3 (JSON: key): process it as a form upload, delete the raw file."""
    profile = services.profile_get_or_create_for_user(user=request.user)
    key = _json_body(request).get("key")
    if not isinstance(key, str) or not key:
        return _json_error("Say which upload to use.", HTTPStatus.BAD_REQUEST)
    try:
        avatars.avatar_upload_finish(request=request, profile=profile, key=key)
    except avatars.UploadKeyRefused:
        return _json_error("That upload is not yours.", HTTPStatus.FORBIDDEN)
    except images.ImageBusy as exc:
        return _busy(_json_error(str(exc), HTTPStatus.SERVICE_UNAVAILABLE))
    except images.ImageRefused as exc:
        return _json_error(str(exc), HTTPStatus.BAD_REQUEST)
    except avatars.AvatarStoreFailed as exc:
        return _json_error(str(exc), HTTPStatus.SERVICE_UNAVAILABLE)
    messages.success(request, "Your picture is saved.")
    return JsonResponse({"redirect": reverse("profiles:me")})
