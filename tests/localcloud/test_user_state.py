"""localcloud's per-user state lives with the pool, keyed by sub, not on moto's user objects."""

from __future__ import annotations

from moto.cognitoidp.models import CognitoIdpUser, UserStatus
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.userpool.models import LocalUserPool


def make_user(pool: LocalUserPool) -> CognitoIdpUser:
    user = CognitoIdpUser(
        pool.id, None, "Pass-word-1", UserStatus.CONFIRMED, [{"Name": "email", "Value": "s@e.com"}]
    )
    pool.users[user.username] = user
    return user


def test_older_snapshots_migrate_their_user_attributes() -> None:
    pool = LocalUserPool(DEFAULT_ACCOUNT_ID, "eu-central-2", "state", {})
    user = make_user(pool)
    user.totp_secret = "SECRET"  # as snapshots written before UserState held it
    user.lc_codes = {"signup": {"code": "123456", "expires": 0, "attempts": 0}}
    state = pool.user_state(user)
    assert state.totp_secret == "SECRET" and state.codes["signup"]["code"] == "123456"
    assert not hasattr(user, "totp_secret") and not hasattr(user, "lc_codes")
    assert pool.user_state(user) is state


def test_a_deleted_users_state_is_pruned_and_a_new_user_starts_afresh() -> None:
    pool = LocalUserPool(DEFAULT_ACCOUNT_ID, "eu-central-2", "state", {})
    user = make_user(pool)
    pool.user_state(user).totp_secret = "OLD"
    del pool.users[user.username]
    pool.prune()
    assert pool.user_states == {}
    assert pool.user_state(make_user(pool)).totp_secret is None
