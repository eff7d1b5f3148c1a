"""The bench-only endpoints exist only when BENCH_URLS says so."""

from __future__ import annotations

import importlib
from http import HTTPStatus

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve

import project.urls

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/bench/me-fixed-user", "/bench/me-userinfo", "/bench/me-jwks-per-request"])
def test_bench_urls_are_absent_by_default(client, path):
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    with pytest.raises(Resolver404):
        resolve(path)


def test_bench_urls_are_mounted_when_the_setting_is_on():
    """So the test above would notice if they were mounted unconditionally."""
    try:
        with override_settings(BENCH_URLS=True):
            importlib.reload(project.urls)
            clear_url_caches()
            assert resolve("/bench/me-fixed-user").func.__name__ == "me_fixed_user"
    finally:
        importlib.reload(project.urls)
        clear_url_caches()
    with pytest.raises(Resolver404):
        resolve("/bench/me-fixed-user")
