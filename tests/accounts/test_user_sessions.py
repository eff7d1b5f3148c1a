"""The index of each user's signed-in sessions: kept in step with Django's, and ending them."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client

from accounts import services, sessions
from accounts.models import UserSession
from tests.support.hosted_ui import APP_HOST
from tests.support.sessions import refresh_works, signed_in

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def browser(user_agent: str = FIREFOX, address: str = "203.0.113.77") -> Client:
    return Client(HTTP_HOST=APP_HOST, HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)


def alice():
    return get_user_model().objects.get(email="alice@example.com")


def test_sign_in_indexes_the_session_with_browser_and_approximate_address(sign_in):
    client = browser()
    sign_in(client=client)

    row = UserSession.objects.get(session_id=client.session.session_key)
    assert row.user == alice()
    assert row.user_agent == FIREFOX
    assert row.ip_prefix == "203.0.113.0/24"  # never the whole address
    assert row.last_seen >= row.created


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_addresses_are_kept_approximately(address, expected):
    assert sessions.approximate_ip(address) == expected


def test_sign_out_and_expiry_remove_the_index_rows(sign_in):
    first, second = browser(), browser()
    sign_in(client=first)
    sign_in(client=second)
    assert UserSession.objects.filter(user=alice()).count() == 2

    first.post("/accounts/sign-out/")
    assert list(UserSession.objects.filter(user=alice())) == [
        UserSession.objects.get(session_id=second.session.session_key)
    ]

    Session.objects.filter(session_key=second.session.session_key).update(expire_date="2000-01-01T00:00Z")
    call_command("clearsessions")
    assert not UserSession.objects.filter(user=alice()).exists()


def test_ending_all_other_sessions_signs_them_out_at_their_next_request(sign_in):
    kept, other, third = browser(), browser(), browser()
    for client in (kept, other, third):
        sign_in(client=client)
    other_refresh = other.session[services.REFRESH_TOKEN]
    kept_refresh = kept.session[services.REFRESH_TOKEN]

    ended = sessions.user_sessions_end(user=alice(), keep_session_key=kept.session.session_key)

    assert ended == 2
    assert not signed_in(other) and not signed_in(third)
    assert signed_in(kept)
    assert not refresh_works(other_refresh)  # revoked at Cognito too
    assert refresh_works(kept_refresh)
    assert list(UserSession.objects.filter(user=alice()).values_list("session_id", flat=True)) == [
        kept.session.session_key
    ]


def test_ending_every_session_including_none_kept(sign_in):
    first, second = browser(), browser()
    sign_in(client=first)
    sign_in(client=second)
    assert sessions.user_sessions_end(user=alice(), revoke_tokens=False) == 2
    assert not signed_in(first) and not signed_in(second)
    assert sessions.user_sessions_end(user=alice()) == 0


def test_one_user_cannot_end_another_users_session(sign_in, new_user):
    email, password, _ = new_user()
    theirs, mine = browser(), browser()
    sign_in(email, password, client=theirs)
    sign_in(client=mine)

    assert not sessions.user_session_end(user=alice(), session_key=theirs.session.session_key)
    assert sessions.user_sessions_end(user=alice(), keep_session_key=mine.session.session_key) == 0
    assert signed_in(theirs)


def test_last_seen_is_touched_at_most_every_interval(sign_in):
    client = browser()
    sign_in(client=client)
    key = client.session.session_key
    UserSession.objects.filter(session_id=key).update(last_seen="2000-01-01T00:00Z")

    assert signed_in(client)  # touched at sign-in: not yet again
    assert UserSession.objects.get(session_id=key).last_seen.year == 2000

    session = client.session
    session[sessions.TOUCHED] = int(time.time()) - settings.SESSION_INDEX_TOUCH - 1
    session.save()
    assert signed_in(client)
    assert UserSession.objects.get(session_id=key).last_seen.year > 2000


def test_a_signed_in_session_missing_from_the_index_is_indexed_on_its_next_request(sign_in):
    client = browser(address="2001:db8:abcd:1::5")
    sign_in(client=client)
    key = client.session.session_key
    UserSession.objects.filter(session_id=key).delete()
    session = client.session
    session[sessions.TOUCHED] = 0
    session.save()

    assert signed_in(client)

    row = UserSession.objects.get(session_id=key)
    assert row.user == alice() and row.ip_prefix == "2001:db8:abcd::/48"
    assert sessions.user_sessions_end(user=alice()) == 1
    assert not signed_in(client)


def test_stale_values_leave_every_session_of_that_user_only():
    """accounts.signals.user_session_values_stale: the named values go from each of the user's
    sessions; other values, other users' sessions and ended sessions are left as they are."""
    from accounts.signals import user_session_values_stale

    User = get_user_model()
    alice, bob = User.objects.create_user(username="stale-a"), User.objects.create_user(username="stale-b")
    clients = {}
    for name, user in (("a1", alice), ("a2", alice), ("b", bob)):
        clients[name] = browser()
        clients[name].force_login(user)
        session = clients[name].session
        session["own_avatar_key"], session["kept"] = "old-stem", "kept"
        session.save()
    assert UserSession.objects.filter(user=alice).count() == 2

    user_session_values_stale.send(sender=None, user=alice, names=["own_avatar_key"])

    for name in ("a1", "a2"):
        data = clients[name].session
        assert "own_avatar_key" not in data and data["kept"] == "kept"
        assert signed_in(clients[name])  # still signed in: only the value went
    assert clients["b"].session["own_avatar_key"] == "old-stem"
    # A session ended meanwhile is not brought back by the rewrite.
    sessions.user_sessions_end(user=alice, revoke_tokens=False)
    assert sessions.user_session_values_drop(user=alice, names=["kept"]) == 0
    assert not Session.objects.filter(session_key=clients["a1"].session.session_key).exists()
