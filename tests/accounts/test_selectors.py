"""The API's one read of a user and profile (accounts.selectors.user_for_api)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from profiles.models import Profile
from tests.support.users import make_member

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_one_query_gives_the_user_and_the_profile_as_the_orm_would(django_assert_num_queries):
    user, profile = make_member(name="Sel Ected", bio="Hello", website="https://example.com/")
    User.objects.filter(pk=user.pk).update(cognito_sub="sub-selected", pending_email="new@example.com")
    expected = User.objects.select_related("profile").get(pk=user.pk)

    with django_assert_num_queries(1):
        found = selectors.user_for_api(sub="sub-selected")
        assert found.profile.user is found  # cached both ways: no second query
        for name in selectors.API_USER_FIELDS:
            assert getattr(found, name) == getattr(expected, name), name
        names = [field.attname for field in Profile._meta.concrete_fields]
        assert [getattr(found.profile, n) for n in names] == [getattr(expected.profile, n) for n in names]
    assert found.pk == user.pk and found.profile.pk == profile.pk


def test_the_password_hash_is_not_read():
    user, _ = make_member()
    User.objects.filter(pk=user.pk).update(cognito_sub="sub-hashless")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.user_for_api(sub="sub-hashless")
    assert '"accounts_user"."password"' not in queries[0]["sql"]
    assert found.get_deferred_fields() >= {"password", "is_staff"}
    assert found.is_staff is False  # a field the API does not read still loads when asked for


def test_unknown_sub_and_user_without_profile():
    assert selectors.user_for_api(sub="nobody") is None
    User.objects.create_user(username="bare", email="bare@example.com", cognito_sub="sub-bare")
    bare = selectors.user_for_api(sub="sub-bare")
    assert bare.email == "bare@example.com"
    with pytest.raises(Profile.DoesNotExist):
        bare.profile  # noqa: B018 - the API then creates it (profile_get_or_create_for_user)
