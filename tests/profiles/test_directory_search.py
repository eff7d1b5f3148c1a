"""The directory finds people whatever the accents and capitals, says how many, and helps when none."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client

from profiles import selectors
from tests.support.users import make_member

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def names(client: Client, q: str) -> list[str]:
    return [p.display_name for p in client.get("/people/", {"q": q}).context["page"].object_list]


def test_accents_and_capitals_do_not_matter_either_way():
    viewer, _ = make_member(name="Viewer")
    make_member(name="Niná Quispe", college="Universidad de Córdoba")
    make_member(name="Zoë Ångström")
    make_member(name="Jürgen Straße")
    client = client_for(viewer)
    for term in ("nina", "NINA", "Niná", "niná q", "NÍNA"):
        assert names(client, term) == ["Niná Quispe"], term
    assert names(client, "cordoba") == ["Niná Quispe"]  # college
    assert names(client, "zoe angstrom") == ["Zoë Ångström"]
    assert names(client, "STRASSE") == ["Jürgen Straße"]  # unaccent's rules, not only combining marks
    assert names(client, "nino") == []


def test_result_counts_and_a_helpful_empty_state():
    viewer, _ = make_member(name="Viewer")
    for i in range(23):
        make_member(name=f"Counted {i:02d}")
    client = client_for(viewer)
    first = client.get("/people/", {"q": "counted"}).content.decode()
    assert "23 people match “counted” · page 1" in first
    last = client.get("/people/", {"q": "counted", "page": 2}).content.decode()
    assert "23 people match “counted” · page 2" in last
    one = client.get("/people/", {"q": "counted 07"}).content.decode()
    assert "1 person matches “counted 07”" in one
    none = client.get("/people/", {"q": "zzqx"}).content.decode()
    assert "No one matches “zzqx”" in none and 'href="/people/"' in none


def test_the_count_stops_at_the_cap(monkeypatch):
    from profiles import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 22)  # the cap itself, not the data, is what is tested
    viewer, _ = make_member(name="Viewer")
    for i in range(25):
        make_member(name=f"Capped {i:02d}")
    page = client_for(viewer).get("/people/", {"q": "capped"}).content.decode()
    assert "More than 22 people match “capped”" in page
    last = client_for(viewer).get("/people/", {"q": "capped", "page": 2}).content.decode()
    assert "25 people match “capped” · page 2" in last  # the last page knows exactly


def test_the_search_expression_is_the_indexed_one_and_the_wrapper_is_immutable():
    viewer, _ = make_member(name="Viewer")
    sql, params = selectors.directory_queryset(query="niná", viewer=viewer).query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show
        cursor.execute("SET LOCAL enable_indexscan = off")  # which indexes the filter can use
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT provolatile FROM pg_proc WHERE proname = 'immutable_unaccent'")
        volatility = cursor.fetchone()[0]
    assert "profile_name_folded_trgm" in plan and "profile_college_folded_trgm" in plan, plan
    assert volatility == "i"
