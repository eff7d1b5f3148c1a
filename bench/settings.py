"""The app's settings plus the benchmark's comparison endpoints (bench/urls.py)."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
