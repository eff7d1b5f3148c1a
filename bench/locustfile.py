"""The load `make load` applies (bench/load.py runs it headless): people using the site and the API.

Each simulated person signs in through the hosted UI with an account of their own, then mixes
profile views and edits, directory searches, API reads and writes and avatar uploads, with a
fresh hosted-UI sign-in now and then. Accounts and access tokens come from LOAD_ACCOUNTS (a JSON
file bench/load.py writes). Any status other than the expected one counts as a failure.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from locust import HttpUser, between, task
from PIL import Image

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"]).read())  # noqa: SIM115 - read once at import
_next_account = itertools.count()
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')
_HANDLE = re.compile(r'name="handle"[^>]*value="([^"]*)"')
_NAME = re.compile(r'name="display_name"[^>]*value="([^"]*)"')
SEARCHES = ["load", "person", "an", "lo", "er", "zz", "a", "per"]


def _picture() -> bytes:
    """A small photo-like JPEG (noise over a gradient), made once."""
    image = Image.effect_noise((320, 240), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


PICTURE = _picture()


class _Form(HTMLParser):
    """The hosted UI's sign-in form: action and fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "form" and not self.action:
            self.action = attrs.get("action") or ""
        elif tag in ("input", "button") and attrs.get("name"):
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


class Person(HttpUser):
    """Someone signed in: pages, the directory, the API and avatars."""

    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        self.account = ACCOUNTS["people"][next(_next_account) % len(ACCOUNTS["people"])]
        self.api = {"Authorization": f"Bearer {self.account['access_token']}"}
        self.sign_in()

    # --- the hosted-UI sign-in, timed as one request ------------------------------------------
    def sign_in(self) -> None:
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self._sign_in()
        except (AssertionError, requests.RequestException) as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="FLOW", name="sign-in (hosted UI, whole)", response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=error, context={},
        )  # fmt: skip

    def _sign_in(self) -> None:
        self.client.cookies.clear()
        start = self.client.get(
            "/oidc/authenticate/", allow_redirects=False, name="sign-in: /oidc/authenticate/"
        )
        assert start.status_code == 302, start.status_code
        hosted = requests.Session()  # a fresh browser profile on the hosted UI: the form, every time
        page = hosted.get(start.headers["Location"], timeout=30)
        assert page.status_code == 200, page.status_code
        form = _Form()
        form.feed(page.text)
        data = {**form.fields, "username": self.account["email"], "password": self.account["password"]}
        answer = hosted.post(urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.status_code
        callback = urlsplit(answer.headers["Location"])
        done = self.client.get(f"{callback.path}?{callback.query}", allow_redirects=False,
                               name="sign-in: /oidc/callback/")  # fmt: skip
        assert done.status_code == 302 and done.headers["Location"] == "/me/", done.status_code

    @task(1)
    def sign_in_again(self) -> None:
        self.sign_in()

    # --- pages --------------------------------------------------------------------------------
    @task(5)
    def view_profile(self) -> None:
        self.client.get("/me/", allow_redirects=False, name="/me/")

    @task(3)
    def search_directory(self) -> None:
        self.client.get(f"/people/?q={random.choice(SEARCHES)}", allow_redirects=False, name="/people/?q=")  # noqa: S311

    @task(2)
    def edit_profile(self) -> None:
        page = self.client.get("/me/edit/", allow_redirects=False, name="/me/edit/")
        if page.status_code != 200:
            return
        data = {
            "csrfmiddlewaretoken": _CSRF.search(page.text).group(1),
            "version": _VERSION.search(page.text).group(1),
            "handle": _HANDLE.search(page.text).group(1),
            "display_name": _NAME.search(page.text).group(1),
            "college": "Load College",
            "visibility": "members",
            "bio": f"Edited at {time.time():.3f}",
        }
        with self.client.post("/me/edit/", data=data, allow_redirects=False, name="/me/edit/ [POST]",
                              catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 302:
                answer.failure(f"edit answered {answer.status_code}")

    @task(1)
    def upload_avatar(self) -> None:
        page = self.client.get("/me/avatar/", allow_redirects=False, name="/me/avatar/")
        if page.status_code != 200:
            return
        token = _CSRF.search(page.text).group(1)
        files = {"image": ("me.jpg", PICTURE, "image/jpeg")}
        with self.client.post("/me/avatar/", data={"csrfmiddlewaretoken": token}, files=files,
                              allow_redirects=False, name="/me/avatar/ [POST]", catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 302:
                answer.failure(f"upload answered {answer.status_code}")

    # --- the API ------------------------------------------------------------------------------
    @task(6)
    def api_read(self) -> None:
        self.client.get("/api/user/me", headers=self.api, name="GET /api/user/me")

    @task(2)
    def api_write(self) -> None:
        body = {"bio": f"Written through the API at {time.time():.3f}"}
        self.client.patch("/api/user/me", json=body, headers=self.api, name="PATCH /api/user/me")
