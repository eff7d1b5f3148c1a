"""Fixtures the app's test packages share, registered once by `pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import boto3
import pytest
from django.conf import settings
from django.http import HttpResponseBase
from django.test import Client

from profiles.forms import ProfileForm
from profiles.models import Profile
from project.integrations import cognito
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in
from tests.support.localcloud import Faults
from tests.support.users import PoolUsers, make_member


@pytest.fixture
def fresh_cognito_caches() -> Iterator[None]:
    """Cold discovery/JWKS caches (in the process and the database cache) before and after a test.

    The app's packages use it for every test (an autouse fixture in their conftest.py), so none
    depends on another's fetches; localcloud's own tests have no database to reset.
    """
    cognito.user_pool().reset()
    yield
    cognito.user_pool().reset()


@pytest.fixture
def app_client() -> Client:
    """A Django test client on the host the app client's callback is registered for."""
    return Client(HTTP_HOST=APP_HOST)


class SignIn(Protocol):
    """The whole sign-in over HTTP: the app's redirect, the hosted UI's form, the app's callback."""

    def __call__(
        self, email: str = "alice@example.com", password: str = "Alice-pass-1", client: Client | None = None
    ) -> HttpResponseBase: ...


@pytest.fixture
def sign_in(app_client: Client) -> SignIn:
    """sign_in(email, password, client=app_client) → the app's response to the callback."""

    def _sign_in(
        email: str = "alice@example.com", password: str = "Alice-pass-1", client: Client | None = None
    ) -> HttpResponseBase:
        client = client or app_client
        authorize = start_sign_in(client)
        callback = hosted_ui_sign_in(authorize, email, password)
        return finish_sign_in(client, callback)

    return _sign_in


@pytest.fixture(scope="session")
def idp() -> Any:
    """The local pool's admin API, signed with its operator keys (app.env): unsigned calls are refused."""
    return boto3.client(
        "cognito-idp",
        region_name=settings.COGNITO_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def faults() -> Iterator[Faults]:
    """The test stack's fault switch (localcloud --faults), operator-signed; cleared before and after."""
    keys = (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    switch = Faults(settings.AWS_ENDPOINT_URL, keys)
    switch.clear()
    yield switch
    switch.clear()


@pytest.fixture
def new_user(idp: Any) -> Iterator[PoolUsers]:
    """new_user(groups=(), name="Test Person") → PoolUser(email, password, sub), fresh and confirmed."""
    users = PoolUsers(idp)
    yield users
    users.cleanup()


class SignedInPerson(NamedTuple):
    """A new pool user signed in in a browser of their own (unpacks as client, email, password, sub)."""

    client: Client
    email: str
    password: str
    sub: str


@pytest.fixture
def signed_in_person(new_user: PoolUsers, sign_in: SignIn) -> Callable[..., SignedInPerson]:
    """signed_in_person(name=..., client=None) → a fresh pool user, signed in over the hosted UI."""

    def make(name: str = "Test Person", client: Client | None = None) -> SignedInPerson:
        email, password, sub = new_user(name=name)
        client = client or Client(HTTP_HOST=APP_HOST)
        sign_in(email, password, client=client)
        return SignedInPerson(client, email, password, sub)

    return make


@pytest.fixture
def member() -> Callable[..., tuple[Any, Profile]]:
    """member(name=..., visibility=..., staff=False, **profile_fields) → (user, profile), local only."""
    return make_member


@pytest.fixture
def handle_taken_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone takes the handle between the form's validation and the save: the race, made certain."""
    original = ProfileForm.is_valid

    def is_valid(form: ProfileForm) -> bool:
        valid = original(form)
        handle = form.cleaned_data.get("handle") if valid else None
        if handle and not Profile.objects.filter(handle=handle).exists():
            make_member(name="Fast Racer", handle=handle)
        return valid

    monkeypatch.setattr(ProfileForm, "is_valid", is_valid)
