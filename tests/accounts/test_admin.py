"""The admin: staff (the Cognito admin group) manage users, but cannot escalate."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.support.hosted_ui import finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def staff_client(app_client, new_user):
    email, password, sub = new_user(groups=("admin",), name="Staff Member")
    finish_sign_in(app_client, hosted_ui_sign_in(start_sign_in(app_client), email, password))
    return app_client, User.objects.get(cognito_sub=sub)


def change_form(client, user) -> dict:
    """The user change form as the admin serves it (only the editable fields)."""
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    profile = user.profile
    data.update(
        {
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": str(profile.pk),
            "profile-0-user": str(user.pk),
            "profile-0-display_name": profile.display_name,
            "profile-0-handle": profile.handle,
            "profile-0-college": profile.college,
            "profile-0-role": profile.role,
            "profile-0-visibility": profile.visibility,
            "profile-0-version": str(profile.version),
        }
    )
    return data


def test_staff_save_a_users_page_with_its_profile(staff_client, new_user, sign_in):
    client, _ = staff_client
    email, password, sub = new_user(name="Managed")
    from django.test import Client

    sign_in(email, password, client=Client(HTTP_HOST="localhost:8000"))
    target = User.objects.get(cognito_sub=sub)
    data = change_form(client, target)
    data.pop("is_active", None)  # unticked: "active" mirrors Cognito, changed only by Disable/Enable
    data["profile-0-college"] = "Set By Staff"
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.is_active
    assert target.profile.college == "Set By Staff"


def test_staff_cannot_make_themselves_superuser_or_grant_permissions(staff_client):
    client, staff = staff_client
    data = change_form(client, staff)
    data["is_superuser"] = "on"
    data["groups"] = []
    data["user_permissions"] = [str(p.pk) for p in Permission.objects.all()[:20]]
    response = client.post(f"/admin/accounts/user/{staff.pk}/change/", data)
    assert response.status_code == HTTPStatus.FOUND
    staff.refresh_from_db()
    assert not staff.is_superuser
    assert staff.user_permissions.count() == 0
    assert list(staff.groups.values_list("name", flat=True)) == ["admin"]


def test_staff_cannot_change_a_superuser(staff_client):
    client, _ = staff_client
    root = User.objects.create_superuser("root", "root@example.com", None)
    assert client.post(f"/admin/accounts/user/{root.pk}/change/", {"is_active": ""}).status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_staff_see_refused_characters_of_an_address_written_out(staff_client):
    """Reviewer D: an address verified with U+202E is kept (mail goes there), never acts on a staff page."""
    client, _ = staff_client
    target = User.objects.create_user(
        username="bidi", email="x\u202eevil@example.com", pending_email="y\u2028@example.com"
    )
    listing = client.get("/admin/accounts/user/", {"q": "evil"}).content.decode()
    page = client.get(f"/admin/accounts/user/{target.pk}/change/").content.decode()
    for html in (listing, page):
        assert "x&lt;U+202E&gt;evil@example.com" in html and "\u202e" not in html
    assert "y&lt;U+2028&gt;@example.com" in page and "\u2028" not in page
    assert User.objects.get(pk=target.pk).email == "x\u202eevil@example.com"  # stored as verified
