"""A role mapping that denies an account any role: the member is told plainly, nothing is stored.

The local stack's identity pool applies role mappings as Cognito does: with AmbiguousRoleResolution
Deny and no matching rule, GetCredentialsForIdentity answers NotAuthorizedException "The ambiguous
role mapping rules for: <provider> denied this request." The web client's mapping is replaced for
the test and put back after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from http import HTTPStatus

import boto3
import pytest
from django.conf import settings
from django.utils.html import escape

from profiles import credentials as creds
from tests.support import images as test_images
from tests.support.avatars import profile_of, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def deny_mapping() -> Iterator[None]:
    """The web client's tokens get no role unless custom:role is "nobody-has-this" (Deny otherwise)."""
    admin = boto3.client(
        "cognito-identity",
        region_name=settings.COGNITO_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    pool = settings.COGNITO_IDENTITY_POOL_ID
    before = admin.get_identity_pool_roles(IdentityPoolId=pool)
    provider = f"cognito-idp.{settings.COGNITO_REGION}.amazonaws.com/{settings.COGNITO_USER_POOL_ID}"
    key = f"{provider}:{settings.COGNITO_CLIENT_ID}"
    rule = {
        "Claim": "custom:role",
        "MatchType": "Equals",
        "Value": "nobody-has-this",
        "RoleARN": before["Roles"]["authenticated"],
    }
    admin.set_identity_pool_roles(
        IdentityPoolId=pool,
        Roles=before["Roles"],
        RoleMappings={
            **before.get("RoleMappings", {}),
            key: {
                "Type": "Rules",
                "AmbiguousRoleResolution": "Deny",
                "RulesConfiguration": {"Rules": [rule]},
            },
        },
    )
    try:
        yield
    finally:
        admin.set_identity_pool_roles(
            IdentityPoolId=pool, Roles=before["Roles"], RoleMappings=before.get("RoleMappings", {})
        )


def test_a_denied_member_is_told_they_have_no_access_to_pictures(person, deny_mapping):
    client, email = person("Dana Denied")
    response = upload(client, test_images.jpeg(200, 200))
    page = response.content.decode()
    assert response.status_code != HTTPStatus.INTERNAL_SERVER_ERROR
    assert escape(creds.ROLE_DENIED) in page, page[:3000]
    assert "refused your session" not in page
    assert not profile_of(email).avatar_key
