"""Directory search at 100,000 profiles: trigram-indexed search vs a sequential-scan baseline.

Seeds a separate database (`<DATABASE_URL's name>_bench`) once, then runs the directory's real
query (the selector, first page plus the page count) repeatedly for a name prefix and a college,
and again with index scans disabled in the same process. Prints p50/p95 and their ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROFILES = int(os.environ.get("BENCH_PROFILES", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "50"))


def seed() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:  # all or nothing
        cursor.execute("SELECT count(*) FROM profiles_profile")
        have = cursor.fetchone()[0]
        if have >= PROFILES:
            return
        print(f"seeding {PROFILES - have} profiles…", flush=True)
        first_names = [
            "Alice",
            "Bob",
            "Carol",
            "Dave",
            "Erin",
            "Frank",
            "Grace",
            "Heidi",
            "Ivan",
            "Judy",
            "Mallory",
            "Niaj",
            "Olivia",
            "Peggy",
            "Rupert",
            "Sybil",
            "Trent",
            "Victor",
            "Walter",
            "Zoë",
        ]
        colleges = [
            "Example College",
            "Trinity College",
            "King's College",
            "Balliol College",
            "Girton College",
            "Merton College",
            "Christ Church",
            "St John's College",
        ]
        cursor.execute(
            """
            WITH n AS (SELECT g FROM generate_series(%(start)s, %(end)s) g)
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                       is_active, date_joined, cognito_sub, cognito_username, name, pending_email)
            SELECT '!', false, 'bench-' || g, '', '', 'bench-' || g || '@example.com', false, true, now(),
                   'bench-sub-' || g, 'bench-' || g,
                   (%(first)s::text[])[1 + g %% 20] || ' ' || md5(g::text), ''
            FROM n
            ON CONFLICT (username) DO NOTHING
            """,
            {"start": have + 1, "end": PROFILES, "first": first_names},
        )
        cursor.execute(
            """
            INSERT INTO profiles_profile (user_id, display_name, handle, college, role, bio, pronouns, location,
                                          website, visibility, version, sync_pending, sync_error, created_at, updated_at,
                                          identity_id, avatar_key)
            SELECT u.id, u.name, 'h' || u.id, (%(colleges)s::text[])[1 + abs(hashtext(u.id::text)) %% 8], 'member', '', '', '', '',
                   CASE WHEN u.id %% 10 = 3 THEN 'private' ELSE 'members' END, 1, false, '', now(), now(),
                   '', ''
            FROM accounts_user u LEFT JOIN profiles_profile p ON p.user_id = u.id
            WHERE p.id IS NULL AND u.username LIKE 'bench-%%'
            """,
            {"colleges": colleges},
        )
    # Outside the transaction: flush the GIN pending lists and refresh the planner's statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE profiles_profile")


def measure(query: str, viewer, *, seqscan: bool) -> list[float]:
    from django.db import connection, transaction

    from profiles.selectors import directory_page

    timings = []
    for _ in range(REPEATS):
        with transaction.atomic():
            if seqscan:
                with connection.cursor() as cursor:
                    # One statement per call: prepared statements (the default) refuse two.
                    cursor.execute("SET LOCAL enable_indexscan = off")
                    cursor.execute("SET LOCAL enable_bitmapscan = off")
            started = time.perf_counter()
            directory_page(query=query, viewer=viewer, page_number=1)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    from bench.database import check_django_database, use_bench_database

    # `<name>_bench`, kept between runs: seeding 100k profiles is the slow part, and idempotent.
    name = use_bench_database(reset=False)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    check_django_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed()
    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.filter(username="bench-1").first()
    print(f"database {name}: {PROFILES} profiles, {REPEATS} runs per case (ms, first page)")
    print(f"{'case':<26}{'indexed p50':>12}{'p95':>8}{'seqscan p50':>13}{'p95':>8}{'speed-up p50':>14}")
    for label, query in [
        ("name prefix 'ali'", "ali"),
        ("college 'Trinity'", "Trinity"),
        ("rare 'Zoë 4f2'", "Zoë 4f2"),
    ]:
        fast = measure(query, viewer, seqscan=False)
        slow = measure(query, viewer, seqscan=True)
        p = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1]  # noqa: E731
        print(
            f"{label:<26}{statistics.median(fast):>12.1f}{p(fast, 95):>8.1f}"
            f"{statistics.median(slow):>13.1f}{p(slow, 95):>8.1f}{statistics.median(slow) / statistics.median(fast):>13.1f}x"
        )


if __name__ == "__main__":
    main()
