"""The shapes of moto that localcloud relies on (through localcloud/moto_adapter.py), pinned.

If a moto upgrade changes one of them, this file fails first and says which; fix the adapter.
Runs in-process on a private backend object (nothing registered in moto's global state).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from moto.cognitoidp import models as moto_models
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, CognitoIdpUserPool, UserStatus
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud import moto_adapter as moto

REQUIREMENTS = Path(moto.__file__).resolve().parents[1] / "requirements.txt"


@pytest.fixture
def backend() -> CognitoIdpBackend:
    return CognitoIdpBackend("eu-central-2", DEFAULT_ACCOUNT_ID)


@pytest.fixture
def pool(backend: CognitoIdpBackend) -> CognitoIdpUserPool:
    return backend.create_user_pool("contract", {"UsernameAttributes": ["email"]})


def add_user(pool: CognitoIdpUserPool, email: str = "c@example.com") -> CognitoIdpUser:
    user = CognitoIdpUser(
        pool.id, None, "Pass-word-1", UserStatus.CONFIRMED, [{"Name": "email", "Value": email}]
    )
    pool.users[user.username] = user
    return user


def test_moto_is_the_pinned_version() -> None:
    pinned = next(line for line in Path(REQUIREMENTS).read_text().splitlines() if line.startswith("moto"))
    assert pinned.strip().endswith("==" + version("moto")), pinned


def test_pools_are_built_through_the_module_level_name(backend: CognitoIdpBackend) -> None:
    """models.install() rebinds moto_models.CognitoIdpUserPool; create_user_pool must use it."""

    class Marker(CognitoIdpUserPool):
        pass

    original = moto_models.CognitoIdpUserPool
    moto_models.CognitoIdpUserPool = Marker  # type: ignore[misc]
    try:
        assert isinstance(backend.create_user_pool("marker", {}), Marker)
    finally:
        moto_models.CognitoIdpUserPool = original  # type: ignore[misc]


def test_pool_and_user_attributes(pool: CognitoIdpUserPool) -> None:
    for name in ("users", "clients", "groups", "refresh_tokens", "access_tokens", "id_tokens",
                 "schema_attributes", "extended_config"):  # fmt: skip
        assert isinstance(getattr(pool, name), dict), name
    assert isinstance(pool.region, str) and pool.mfa_config == "OFF"
    user = add_user(pool)
    assert moto.user_pool_id(user) == pool.id
    assert user.attribute_lookup["email"] == "c@example.com"
    assert user.id and user.username == user.id  # no Username given: moto uses the sub
    assert user.enabled is True and user.groups == set()
    assert user.software_token_mfa_enabled is False and user.preferred_mfa_setting is None
    user.token_verified = True
    user.update_attributes([{"Name": "name", "Value": "N"}])
    user.delete_attributes(["name"])
    assert "name" not in user.attribute_lookup
    assert user.to_json(extended=True)["UserStatus"] == "CONFIRMED"
    assert {s.name for s in UserStatus} >= {
        "CONFIRMED",
        "UNCONFIRMED",
        "FORCE_CHANGE_PASSWORD",
        "RESET_REQUIRED",
    }


def test_get_user_finds_by_username_and_email_alias(pool: CognitoIdpUserPool) -> None:
    user = add_user(pool)
    assert moto.get_user(pool, user.username) is user
    assert moto.get_user(pool, "c@example.com") is user
    assert moto.get_user(pool, "nobody@example.com") is None
    assert moto.get_user(pool, "") is None


def test_clients_have_what_localcloud_reads(backend: CognitoIdpBackend, pool: CognitoIdpUserPool) -> None:
    client = backend.create_user_pool_client(pool.id, True, {"ClientName": "c", "ReadAttributes": ["email"]})
    assert pool.clients[client.id] is client
    assert client.generate_secret is True and isinstance(client.secret, str)
    assert client.extended_config["ClientName"] == "c"
    assert "email" in client.get_readable_fields()


def test_groups_carry_role_and_precedence(backend: CognitoIdpBackend, pool: CognitoIdpUserPool) -> None:
    user = add_user(pool)
    arn = "arn:aws:iam::123456789012:role/r"
    backend.create_group(pool.id, "with-role", "", arn, 3)
    backend.create_group(pool.id, "plain", "", None, None)
    for name in ("with-role", "plain"):
        backend.admin_add_user_to_group(pool.id, name, user.username)
    assert sorted(moto.group_roles(user), key=str) == sorted(
        [moto.GroupRole(arn, 3), moto.GroupRole(None, None)], key=str
    )


def test_refresh_token_entries_are_what_motos_own_code_reads(pool: CognitoIdpUserPool) -> None:
    user = add_user(pool)
    moto.store_refresh_token(pool, "rt", moto.RefreshEntry("client", user.username, "jti"))
    assert moto.refresh_entry(pool, "rt") == moto.RefreshEntry("client", user.username, "jti")
    assert [t for t, _ in moto.refresh_entries(pool)] == ["rt"]
    # moto's own sign-out unpacks the same 3-tuple and revokes by setting the entry to None.
    CognitoIdpUserPool.sign_out(pool, user.username)
    assert moto.refresh_token_known(pool, "rt") and moto.refresh_entry(pool, "rt") is None
    moto.store_refresh_token(pool, "rt2", moto.RefreshEntry("client", user.username, "jti2"))
    moto.revoke_refresh_token(pool, "rt2")
    assert moto.refresh_entry(pool, "rt2") is None
    moto.forget_refresh_token(pool, "rt2")
    assert not moto.refresh_token_known(pool, "rt2")


def test_access_token_entries_are_what_motos_own_code_reads(
    backend: CognitoIdpBackend, pool: CognitoIdpUserPool
) -> None:
    user = add_user(pool)
    moto.store_access_token(pool, "at", "client", user.username)
    moto.store_id_token(pool, "it", "client", user.username)
    assert backend.get_user("at") is user  # moto's GetUser unpacks (client_id, username)
    assert moto.access_tokens(pool) == [("at", user.username)] and moto.id_tokens(pool) == ["it"]
    moto.forget_access_token(pool, "at")
    moto.forget_id_token(pool, "it")
    assert not moto.access_token_live(pool, "at") and moto.id_tokens(pool) == []


def test_exceptions_carry_cognitos_error_types() -> None:
    for exc, error_type in (
        (NotAuthorizedError("m"), "NotAuthorizedException"),
        (UserNotFoundError("m"), "UserNotFoundException"),
        (ResourceNotFoundError("m"), "ResourceNotFoundException"),
        (InvalidParameterException("m"), "InvalidParameterException"),
        (CodeMismatchException("m"), "CodeMismatchException"),
        (ExpiredCodeException("m"), "ExpiredCodeException"),
        (UsernameExistsException("m"), "UsernameExistsException"),
        (UserNotConfirmedException("m"), "UserNotConfirmedException"),
    ):
        assert (exc.error_type, exc.message, exc.code) == (error_type, "m", 400)
