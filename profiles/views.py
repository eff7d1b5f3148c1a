"""Profile pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from profiles import selectors, services
from profiles.forms import ProfileForm

SYNC_PENDING = "profile_sync_pending"


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def me(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own profile (LoginRequiredMiddleware keeps others out)."""
    profile = services.profile_get_or_create_for_user(user=request.user)
    return render(request, "profiles/me.html", {"profile": profile, "account": request.user})


@require_http_methods(["GET", "POST"])
def me_edit(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create_for_user(user=request.user)
    if request.method == "GET":
        return render(request, "profiles/edit.html", {"form": ProfileForm(instance=profile)})
    form = ProfileForm(request.POST, instance=profile)
    if not form.is_valid():
        return render(request, "profiles/edit.html", {"form": form}, status=400)
    try:
        profile, needs_sync = services.profile_update(
            profile=profile, data=form.cleaned_data, expected_version=form.cleaned_data["version"]
        )
    except services.ProfileChangedMeanwhile:
        form.add_error(
            None,
            "Your profile was changed meanwhile (in another tab or by an administrator). "
            "Your changes are below, not saved: check them and save again.",
        )
        # Saving again now applies the user's input on top of the newer version.
        current = services.profile_get_or_create_for_user(user=request.user)
        form.data = form.data.copy()
        form.data["version"] = str(current.version)
        changed = [
            (form.fields[name].label, getattr(current, name))
            for name in services.EDITABLE_FIELDS
            if getattr(current, name) != form.cleaned_data.get(name)
        ]
        return render(request, "profiles/edit.html", {"form": form, "current": changed}, status=409)
    if needs_sync and not services.profile_push_to_cognito(
        profile=profile, access_token=request.session.get(account_services.ACCESS_TOKEN)
    ):
        request.session[SYNC_PENDING] = True
        messages.warning(
            request, "Profile saved. Your name and college will reach the sign-in service shortly."
        )
    else:
        messages.success(request, "Profile saved.")
    return redirect("profiles:me")


@login_not_required
def public_profile(request: HttpRequest, handle: str) -> HttpResponse:
    profile = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
    if profile is None:
        # 404 rather than 403: the handles of hidden profiles do not leak.
        raise Http404("No such profile")
    return render(request, "profiles/public.html", {"profile": profile})


def people(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = selectors.directory_page(query=query, viewer=request.user, page_number=request.GET.get("page"))
    return render(request, "profiles/people.html", {"page": page, "query": query})
