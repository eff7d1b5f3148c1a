"""The app's own admin calls to the user pool sign with the credentials from the environment."""

from __future__ import annotations

import boto3
import pytest
from django.conf import settings

from project.integrations import cognito

pytestmark = pytest.mark.django_db


def _name_of(idp, email: str) -> str:
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "name")


def test_admin_update_signs_with_the_stack_operator_keys(new_user, idp):
    email, _, _ = new_user()
    cognito.user_pool().admin_update_user_attributes(username=email, attributes={"name": "Renamed By Admin"})
    assert _name_of(idp, email) == "Renamed By Admin"


def test_the_stack_refuses_admin_calls_signed_with_other_keys(new_user, idp, monkeypatch):
    email, _, _ = new_user(name="Unchanged")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-operator-secret-" + "x" * 16)
    # boto3's default session caches the credentials it resolved: start from a fresh one.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    cognito.user_pool().reset()  # the next call builds a client with the wrong secret
    with pytest.raises(cognito.CognitoUnavailable, match="InvalidSignatureException"):
        cognito.user_pool().admin_update_user_attributes(username=email, attributes={"name": "Mallory"})
    assert _name_of(idp, email) == "Unchanged"
    cognito.user_pool().reset()
