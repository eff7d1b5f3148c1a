"""User reads."""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.db import connections, router

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
