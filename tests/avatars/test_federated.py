"""A user who signed in with Google gets identity-pool credentials and an avatar like anybody."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.test import Client

from tests.support import images as test_images
from tests.support.avatars import profile_of, upload
from tests.support.hosted_ui import APP_HOST, provider_round_trip

pytestmark = pytest.mark.django_db


def test_google_user_uploads_an_avatar(keys_under):
    email = f"avatar-{uuid.uuid4().hex[:10]}@example.com"
    client = Client(HTTP_HOST=APP_HOST)
    assert (
        provider_round_trip(client, "Google", email=email, name="Gus Google").status_code == HTTPStatus.FOUND
    )
    response = upload(client, test_images.jpeg(300, 300))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    profile = profile_of(email)
    assert profile.identity_id.startswith("us-east-1:")
    assert keys_under(f"protected/{profile.identity_id}/")
