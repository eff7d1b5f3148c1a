"""User reads."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router

from project.integrations import cognito

# What people call each provider (other providers show their ProviderName).
PROVIDER_LABELS = {
    "Google": "Google",
    "Facebook": "Facebook",
    "SignInWithApple": "Apple",
    "LoginWithAmazon": "Amazon",
}

# What the API reads of a user; any other field loads on first access (deferred, as with only()).
API_USER_FIELDS = ("id", "cognito_sub", "cognito_username", "email", "pending_email", "name", "is_active")


@functools.cache
def _api_user_query(alias: str) -> tuple[str, list[str], list[str]]:
    """(SQL, user fields, profile fields) of the API's read, compiled by the ORM once per process.

    Compiling a two-table select costs more than Postgres takes to answer it (~0.3 ms per
    request), and the SQL never changes: only the sub does. The profile's columns all come
    (they are the response), the user's only those the API reads, not the password hash.
    """
    User = get_user_model()
    profile_model = User._meta.get_field("profile").related_model
    # In the models' field order, as Model.from_db() wants the values.
    user_fields = [f.attname for f in User._meta.concrete_fields if f.attname in API_USER_FIELDS]
    # profile.user_id is user.id: the ORM would select that column once for both.
    profile_fields = [f.attname for f in profile_model._meta.concrete_fields if f.attname != "user_id"]
    columns = [*user_fields, *(f"profile__{name}" for name in profile_fields)]
    query = User.objects.using(alias).filter(cognito_sub="").values_list(*columns).query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    selected = [(col.target.model, col.target.attname) for col, _sql, _alias in compiler.select]
    expected = [(User, name) for name in user_fields] + [(profile_model, name) for name in profile_fields]
    if list(params) != [""] or selected != expected:  # the sub is the one parameter; columns in order
        raise RuntimeError(f"unexpected shape of the API's user query: {selected!r}, {params!r}")
    return sql, user_fields, profile_fields


def user_for_api(*, sub: str):
    """The user with this Cognito sub and user.profile preloaded (when it has one): one query.

    None if there is no such user. User fields the API does not read are deferred.
    """
    User = get_user_model()
    alias = router.db_for_read(User)
    sql, user_fields, profile_fields = _api_user_query(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [sub])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(user_fields)
    user = User.from_db(alias, user_fields, row[:split])
    if row[split] is not None:  # the LEFT JOIN found a profile
        profile_model = User._meta.get_field("profile").related_model
        loaded = dict(zip(profile_fields, row[split:], strict=True))
        loaded["user_id"] = user.pk
        values = [loaded[f.attname] for f in profile_model._meta.concrete_fields]
        user.profile = profile_model.from_db(alias, list(loaded), values)  # cached both ways
    return user


def identity_provider_buttons(*, next_url: str | None) -> list[dict[str, str]]:
    """The "Continue with …" buttons of the sign-in page: label and the query for /oidc/authenticate/."""
    buttons = []
    for name in settings.COGNITO_IDENTITY_PROVIDERS:
        query = {"identity_provider": name, **({"next": next_url} if next_url else {})}
        buttons.append({"name": name, "label": PROVIDER_LABELS.get(name, name), "query": urlencode(query)})
    return buttons


@dataclass(frozen=True)
class LinkedProvider:
    """An external identity that signs the user in."""

    provider_name: str
    label: str
    provider_user_id: str
    primary: bool  # the account itself was made by this provider: it cannot be unlinked
    can_unlink: bool


def user_linked_providers(*, user: Any) -> list[LinkedProvider]:
    """The providers linked to the user's Cognito account (its `identities`), from the user pool.

    One can be unlinked while another way to sign in remains: a password account keeps its
    password; a provider-made account (EXTERNAL_PROVIDER) has only its own provider.
    """
    if not user.cognito_username:
        return []
    account = cognito.user_pool().admin_get_user(username=user.cognito_username)
    try:
        entries = json.loads(account["Attributes"].get("identities") or "[]")
    except ValueError:
        entries = []
    has_password = account.get("UserStatus") != "EXTERNAL_PROVIDER"
    linked = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("providerName") or not entry.get("userId"):
            continue
        primary = str(entry.get("primary")).lower() == "true"
        name = str(entry["providerName"])
        linked.append(
            LinkedProvider(
                name,
                PROVIDER_LABELS.get(name, name),
                str(entry["userId"]),
                primary,
                can_unlink=has_password and not primary,
            )  # fmt: skip
        )
    return linked
