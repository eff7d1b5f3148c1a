"""Lockout after repeated wrong passwords (Cognito: 5 free, then 1 s doubling to ~15 min)."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus

import pytest
from botocore.exceptions import ClientError
from moto.core.exceptions import JsonRESTError

from localcloud.userpool.lockout import MAX_LOCKOUT, QUIET_RESET, Lockout
from tests.support.localcloud import Stack, mfa_user, stack_sign_in

KEY = ("us-east-1_pool", "user")
EXCEEDED = "Password attempts exceeded"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def locked(lockout: Lockout) -> bool:
    try:
        lockout.check(KEY)
    except JsonRESTError as exc:
        assert exc.error_type == "NotAuthorizedException"
        assert exc.message == EXCEEDED
        return True
    return False


# --- the store, on a fake clock -------------------------------------------------------------------------
def test_five_failures_are_free_then_one_second_doubling() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(4):
        lockout.failed(KEY)
        assert not locked(lockout)
    lockout.failed(KEY)  # the fifth
    assert locked(lockout)
    clock.now += 0.99
    assert locked(lockout)
    clock.now += 0.02
    assert not locked(lockout)
    for expected in (2, 4, 8, 16):
        lockout.failed(KEY)
        clock.now += expected - 0.01
        assert locked(lockout), expected
        clock.now += 0.02
        assert not locked(lockout), expected


def test_attempts_during_a_lockout_do_not_lengthen_it() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(5):
        lockout.failed(KEY)
    for _ in range(20):
        lockout.failed(KEY)
    clock.now += 1.01
    assert not locked(lockout)


def test_the_lockout_is_capped_at_about_fifteen_minutes() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(40):
        lockout.failed(KEY)
        # An attempt halfway (during the lockout once it is long), so 15 quiet minutes never pass,
        # and the next failure after the previous lockout ended.
        clock.now += MAX_LOCKOUT / 2
        locked(lockout)
        clock.now += MAX_LOCKOUT / 2 + 1
    lockout.failed(KEY)
    clock.now += MAX_LOCKOUT - 1
    assert locked(lockout)
    clock.now += 2
    assert not locked(lockout)


def test_success_resets_the_count() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(4):
        lockout.failed(KEY)
    lockout.succeeded(KEY)
    for _ in range(4):
        lockout.failed(KEY)
    assert not locked(lockout)


def ramp(lockout: Lockout, clock: FakeClock) -> None:
    """An attacker's ramp to the longest lockout, never quiet for 15 minutes."""
    for _ in range(20):
        lockout.failed(KEY)
        clock.now += MAX_LOCKOUT / 2
        locked(lockout)
        clock.now += MAX_LOCKOUT / 2 + 1
    lockout.failed(KEY)
    assert locked(lockout)


def test_fifteen_quiet_minutes_after_a_lockout_reset_the_count() -> None:
    # AWS: "or not initiate any sign-in attempts for 15 consecutive minutes at any time after a lockout".
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(5):
        lockout.failed(KEY)
    clock.now += QUIET_RESET
    assert not locked(lockout)
    for _ in range(4):
        lockout.failed(KEY)
    assert not locked(lockout)  # back to four free failures
    lockout.failed(KEY)
    assert locked(lockout)


def test_an_attempt_every_fifteen_minutes_no_longer_keeps_a_victim_locked() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    ramp(lockout, clock)
    for _ in range(10):
        clock.now += QUIET_RESET
        lockout.failed(KEY)  # the attacker's one wrong password every 15 minutes
        clock.now += 60
        assert not locked(lockout)  # the victim, a minute later, may sign in


def test_attempts_during_a_lockout_keep_it_from_resetting() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    ramp(lockout, clock)
    clock.now += QUIET_RESET - 1
    locked(lockout)  # an attempt (refused): the quiet period starts again
    clock.now += 2
    lockout.failed(KEY)
    assert locked(lockout)


def test_failures_before_any_lockout_do_not_decay() -> None:
    clock = FakeClock()
    lockout = Lockout(clock)
    for _ in range(4):
        lockout.failed(KEY)
    clock.now += 24 * 3600  # AWS documents the quiet reset only after a lockout
    lockout.failed(KEY)
    assert locked(lockout)


def lock(lockout: Lockout, clock: FakeClock, key: tuple[str, str]) -> None:
    """Five wrong passwords and more on the doubling schedule: locked for 16 s."""
    for _ in range(5):
        lockout.failed(key)
    for wait in (1, 2, 4, 8):
        clock.now += wait
        lockout.failed(key)


def is_locked(lockout: Lockout, key: tuple[str, str]) -> bool:
    try:
        lockout.check(key)
    except JsonRESTError as exc:
        assert exc.message == EXCEEDED
        return True
    return False


def wrong(lockout: Lockout, key: tuple[str, str]) -> str:
    """One wrong-password attempt as authenticate makes it: the answer the caller would see."""
    try:
        lockout.check(key)
        lockout.failed(key)
    except JsonRESTError as exc:
        return str(exc.message)
    return "Incorrect username or password."


def test_one_table_of_hashed_names_bounded_by_its_capacity() -> None:
    clock = FakeClock()
    lockout = Lockout(clock, max_records=100)
    for i in range(1000):
        wrong(lockout, ("pool", f"{i:08d}" + "x" * 10_000))
        clock.now += 1
        assert len(lockout) <= 100
    assert len(lockout) == 100
    assert all(len(name) == 32 for _, name in lockout._records)  # digests, not the names


def test_the_reviewers_flood_answers_alike_for_existing_and_unknown_names() -> None:
    # Review E: 4 wrong passwords for an existing user and for an unknown name, a flood of fresh
    # names, then a fifth: the existing user was locked, the unknown name (evicted) was not.
    clock = FakeClock()
    lockout = Lockout(clock, max_records=200)
    existing, unknown = ("pool", "alice@example.com"), ("pool", "ghost-nobody@example.com")
    for name in (existing, unknown):
        for _ in range(4):
            assert wrong(lockout, name) == "Incorrect username or password."
    for i in range(10_200):
        wrong(lockout, ("pool", f"fl{i:06d}@x.example"))
        assert len(lockout) <= 200
    answers = [(wrong(lockout, name), wrong(lockout, name)) for name in (existing, unknown)]
    assert answers[0] == answers[1] == ("Incorrect username or password.", EXCEEDED)


def test_a_full_table_of_recent_records_refuses_new_names_and_keeps_counting_old_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    lockout = Lockout(clock, max_records=3)
    names = [("pool", f"user{i}") for i in range(3)]
    for name in names:
        lockout.failed(name)
    clock.now += QUIET_RESET - 1  # none quiet yet
    with caplog.at_level("WARNING", logger="localcloud.userpool.lockout"):
        assert wrong(lockout, ("pool", "newcomer")) == EXCEEDED
        with pytest.raises(JsonRESTError):
            lockout.failed(("pool", "another"))
    assert "lockout table full" in caplog.text
    assert len(lockout) == 3
    for _ in range(3):
        assert wrong(lockout, names[0]) == "Incorrect username or password."
    assert wrong(lockout, names[0]) == "Incorrect username or password."  # the fifth failure
    assert is_locked(lockout, names[0])  # still counted: locked
    lockout.forget(names[1])  # a completed sign-in (or a deleted user) makes room
    assert wrong(lockout, ("pool", "newcomer")) == "Incorrect username or password."


def test_quiet_records_are_evicted_first_oldest_first() -> None:
    clock = FakeClock()
    lockout = Lockout(clock, max_records=3)
    a, b, c = (("pool", n) for n in "abc")
    lock(lockout, clock, a)
    clock.now += 10
    lockout.failed(b)
    clock.now += 10
    lockout.failed(c)
    clock.now += QUIET_RESET - 5  # a and b are quiet (a the oldest), c is not
    lockout.failed(("pool", "d"))
    assert set(lockout._records) == {Lockout._key(n) for n in (b, c, ("pool", "d"))}
    lockout.check(b)  # an attempt: b is no longer quiet
    clock.now += 10
    lockout.failed(("pool", "e"))  # c is now the oldest, and quiet
    assert set(lockout._records) == {Lockout._key(n) for n in (b, ("pool", "d"), ("pool", "e"))}
    assert wrong(lockout, ("pool", "f")) == EXCEEDED  # none quiet: refused, nothing evicted
    assert len(lockout) == 3


def test_a_flood_of_names_does_not_unlock_anyone() -> None:
    # Review D: 10,000 names on /login evicted a locked victim's record.
    clock = FakeClock()
    lockout = Lockout(clock, max_records=50)
    victim = ("pool", "victim@example.com")
    lock(lockout, clock, victim)
    for i in range(5_000):
        wrong(lockout, ("pool", f"flood{i:06d}@x.example"))
        assert len(lockout) <= 50
    assert is_locked(lockout, victim)
    lockout.forget(victim)  # the user is deleted: the record goes
    assert len(lockout) == 49


# --- over HTTP: API and hosted page -------------------------------------------------------------------
def api_attempt(stack: Stack, email: str, password: str, admin: bool = False) -> str:
    """'ok', or the NotAuthorizedException message."""
    auth = {"USERNAME": email, "PASSWORD": password, "SECRET_HASH": stack.secret_hash(email)}
    try:
        if admin:
            stack.idp().admin_initiate_auth(
                UserPoolId=stack.pool_id, ClientId=stack.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=auth,
            )  # fmt: skip
        else:
            stack.idp().initiate_auth(
                ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth
            )
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NotAuthorizedException"
        return str(exc.response["Error"]["Message"])
    return "ok"


def page_attempt(stack: Stack, email: str, password: str) -> str:
    """'ok' (redirect with a code), or the error shown on the sign-in page."""
    _, response, _ = stack_sign_in(stack, email, password)
    if response.status_code == HTTPStatus.FOUND:
        return "ok"
    for message in (EXCEEDED, "Incorrect username or password."):
        if message in response.text:
            return message
    raise AssertionError(response.text)


def assert_locks_after_five(attempt: Callable[[str, str], str], email: str, password: str) -> None:
    for _ in range(4):
        assert attempt(email, "Wrong-pass-1") == "Incorrect username or password."
    before_fifth = time.monotonic()
    assert attempt(email, "Wrong-pass-1") == "Incorrect username or password."
    outcome = attempt(email, password)
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    assert outcome == EXCEEDED  # the right password is refused during the lockout


@pytest.mark.parametrize("admin", [False, True])
def test_the_api_locks_out_password_guessing(stack: Stack, new_stack_user: Callable, admin: bool) -> None:
    email, password = new_stack_user()
    assert_locks_after_five(lambda e, p: api_attempt(stack, e, p, admin), email, password)


def test_the_hosted_login_page_locks_out_password_guessing(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    assert_locks_after_five(lambda e, p: page_attempt(stack, e, p), email, password)


def test_api_and_hosted_page_share_the_count(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    for _ in range(2):
        assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    for _ in range(2):
        assert page_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    before_fifth = time.monotonic()
    assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    outcome = page_attempt(stack, email, password)
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    assert outcome == EXCEEDED


def test_a_successful_sign_in_resets_the_count(stack: Stack, new_stack_user: Callable) -> None:
    email, password = new_stack_user()
    for _ in range(3):
        for _ in range(4):
            assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
        assert api_attempt(stack, email, password) == "ok"


def test_unknown_users_lock_out_like_real_ones(stack: Stack) -> None:
    email = "nobody-locked@example.com"
    assert_locks_after_five(lambda e, p: api_attempt(stack, e, p), email, "Any-pass-1")


# --- TOTP codes and the lockout: only a completed sign-in resets the count -------------------------------
def mfa_attempt(stack: Stack, session: str, email: str, code: str) -> str:
    """'ok', or the error code of a RespondToAuthChallenge with this TOTP code."""
    try:
        stack.idp().respond_to_auth_challenge(
            ClientId=stack.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
            ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": code,
                                "SECRET_HASH": stack.secret_hash(email)},
        )  # fmt: skip
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def challenge_session(stack: Stack, email: str, password: str) -> str:
    auth = {"USERNAME": email, "PASSWORD": password, "SECRET_HASH": stack.secret_hash(email)}
    result = stack.idp().initiate_auth(
        ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth
    )
    assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    return str(result["Session"])


def test_wrong_totp_codes_count_toward_the_lockout(stack: Stack, new_stack_user: Callable) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    wrong = "000000" if totp.now() != "000000" else "111111"
    session = challenge_session(stack, email, password)
    for _ in range(4):
        assert mfa_attempt(stack, session, email, wrong) == "CodeMismatchException"
    before_fifth = time.monotonic()
    assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."  # the fifth failure
    outcome = api_attempt(stack, email, password), mfa_attempt(stack, session, email, totp.now())
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    assert outcome == (EXCEEDED, "NotAuthorizedException")  # the right password and code are refused


def test_the_password_alone_does_not_reset_the_count(stack: Stack, new_stack_user: Callable) -> None:
    email, password, _ = mfa_user(stack, new_stack_user)
    for _ in range(4):
        assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    challenge_session(stack, email, password)  # right password, but no tokens: nothing reset
    before_fifth = time.monotonic()
    assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    outcome = api_attempt(stack, email, password)
    if time.monotonic() - before_fifth >= 1.0:
        pytest.skip("the machine is too slow to observe a 1 s lockout")
    assert outcome == EXCEEDED


def test_a_completed_mfa_sign_in_resets_the_count(stack: Stack, new_stack_user: Callable) -> None:
    email, password, totp = mfa_user(stack, new_stack_user)
    # A code is taken once: the current and next step's codes (the previous one set the app up).
    for step in (0, 1):
        for _ in range(4):
            assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
        code = totp.at(time.time() + step * totp.interval)
        assert mfa_attempt(stack, challenge_session(stack, email, password), email, code) == "ok"


def test_overlong_usernames_are_refused_without_being_counted(stack: Stack) -> None:
    email = "x" * 120 + "@example.com"  # 132 characters: longer than any Cognito username
    for _ in range(7):
        assert api_attempt(stack, email, "Wrong-pass-1") == "Incorrect username or password."
    assert page_attempt(stack, "y" * 200_000, "Wrong-pass-1") == "Incorrect username or password."


@pytest.mark.parametrize("admin", [False, True])
def test_a_name_spelt_another_way_answers_alike_for_existing_and_unknown_names(
    stack: Stack, new_stack_user: Callable, admin: bool
) -> None:
    """The reviewer's oracle: 4 wrong for X, 1 for " X" (not X to the lookup), 1 more for X."""
    existing, _ = new_stack_user()
    unknown = "nobody-" + existing

    def answers(email: str) -> list[str]:
        first = [api_attempt(stack, email, "Wrong-pass-1", admin) for _ in range(4)]
        return [
            *first,
            api_attempt(stack, " " + email, "Wrong-pass-1", admin),
            api_attempt(stack, email, "Wrong-pass-1", admin),
        ]

    expected = ["Incorrect username or password."] * 6
    assert answers(existing) == expected
    assert answers(unknown) == expected
