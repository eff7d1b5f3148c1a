"""The two origins: Cognito (hosted UI, JSON APIs) and S3, and nothing of moto's beyond them."""

from __future__ import annotations

import socket
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from localcloud.hosts import allowed_hosts
from tests.support.localcloud import (
    ALICE,
    CALLBACK,
    Person,
    Stack,
    s3_person,
    start_stack,
    write_config,
    xml_code,
)


@pytest.fixture(scope="module")
def alice(stack: Stack) -> Person:
    """alice with identity-pool credentials."""
    return s3_person(stack, stack.api_login(*ALICE)["IdToken"])


def test_moto_api_is_not_served(stack: Stack) -> None:
    for base in (stack.base, stack.s3_base):
        for path in ("/moto-api/data.json", "/moto-api/", "/moto-api/reset"):
            response = requests.get(base + path, headers={"Origin": "http://evil.example"}, timeout=5)
            assert response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN), (base, path)
            assert "Access-Control-Allow-Origin" not in response.headers
            assert ALICE[1] not in response.text
            assert stack.client_secret not in response.text
    posted = requests.post(f"{stack.base}/moto-api/reset", timeout=5)
    assert posted.status_code == HTTPStatus.NOT_FOUND
    assert posted.json()["__type"] == "UnknownOperationException"
    stack.api_login(*ALICE)  # nothing was reset


def test_s3_has_its_own_origin_and_sandboxes_every_response(stack: Stack, alice: Person) -> None:
    assert stack.s3_base != stack.base
    assert stack.env["AWS_S3_ENDPOINT_URL"] == stack.s3_base
    assert stack.env["AWS_ENDPOINT_URL"] == stack.base
    key = alice.key("protected", "page.html")
    alice.s3.put_object(
        Bucket=stack.bucket, Key=key, Body=b"<script>fetch('/_outbox.json')</script>", ContentType="text/html"
    )
    url = alice.s3.generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": key})
    assert url.startswith(stack.s3_base + "/")
    page = requests.get(url, timeout=5)
    assert page.status_code == HTTPStatus.OK
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == "sandbox"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    refused = requests.get(f"{stack.s3_base}/{stack.bucket}/{key}", timeout=5)
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.headers["Content-Security-Policy"] == "sandbox"
    # The Cognito origin serves no objects at all.
    assert requests.get(f"{stack.base}/{stack.bucket}/{key}", timeout=5).status_code == HTTPStatus.NOT_FOUND


BYPASSES: dict[str, dict[str, str]] = {
    "form content type": {"Content-Type": "application/x-www-form-urlencoded"},
    "other service's scope": {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/sts/aws4_request, "
        "SignedHeaders=host, Signature=0000"
    },
    "x-amz-target": {"X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity"},
    "virtual-hosted host": {},  # Host set per request below
}


@pytest.mark.parametrize("bypass", sorted(BYPASSES))
@pytest.mark.parametrize("origin", ["cognito", "s3"])
def test_unsigned_requests_cannot_skip_the_s3_checks(
    stack: Stack, alice: Person, people_key: str, bypass: str, origin: str
) -> None:
    base = stack.base if origin == "cognito" else stack.s3_base
    headers = dict(BYPASSES[bypass])
    path = f"/{stack.bucket}/{people_key}"
    if bypass == "virtual-hosted host":
        # moto reads the bucket from such a Host and the rest of the path as the key.
        headers["Host"] = f"{stack.bucket}.s3.amazonaws.com"
        path = f"/{stack.bucket}/{people_key}"
    attempts: list[tuple[str, str, Any]] = [
        ("GET", f"/{stack.bucket}/", None),  # list
        ("GET", path, None),  # read
        ("PUT", path + ".html", b"<script>alert(1)</script>"),  # write HTML into her prefix
        ("DELETE", path, None),  # delete
    ]
    for method, target, body in attempts:
        sent = {**headers}
        if method == "PUT":
            sent["Content-Type"] = sent.get("Content-Type", "text/html")
        response = requests.request(method, base + target, headers=sent, data=body, timeout=5)
        # A foreign Host is refused before anything else (421: see the DNS-rebinding tests below).
        allowed = (421,) if bypass == "virtual-hosted host" else (400, 403, 404)
        assert response.status_code in allowed, (method, target, response.status_code, response.text)
        assert alice.key("protected") not in response.text or response.status_code != HTTPStatus.OK
        if origin == "s3" and response.status_code != HTTPStatus.MISDIRECTED_REQUEST:
            assert xml_code(response) in ("AccessDenied", "AuthorizationHeaderMalformed"), response.text
    admin = stack.s3()
    assert admin.get_object(Bucket=stack.bucket, Key=people_key)["Body"].read() == b"hers"
    listed = admin.list_objects_v2(Bucket=stack.bucket, Prefix=people_key)
    assert [o["Key"] for o in listed["Contents"]] == [people_key]


@pytest.fixture(scope="module")
def people_key(stack: Stack, alice: Person) -> str:
    """An object in alice's prefix that nobody else may touch."""
    key = alice.key("protected", "kept.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"hers")
    return key


def _answer(sock: socket.socket) -> str:
    """The response read from a raw socket, up to the end of S3's XML error (the socket times out)."""
    data = b""
    while b"</Error>" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def test_unsigned_upload_is_refused_before_its_body_is_read(stack: Stack) -> None:
    # Announce 50 MiB, send 1 KiB: the answer must come without waiting for the rest.
    host, port = stack.s3_base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"PUT /{stack.bucket}/public/big.bin HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Length: {50 * 1024 * 1024}\r\nContent-Type: text/html\r\n\r\n".encode()
            + b"x" * 1024
        )
        answer = _answer(sock)
    assert answer.startswith("HTTP/1.1 403"), answer
    assert "<Code>AccessDenied</Code>" in answer


def test_oversized_bodies_are_refused_unread(stack: Stack) -> None:
    host, port = stack.s3_base.removeprefix("http://").rsplit(":", 1)
    for content_type in ("application/octet-stream", "multipart/form-data; boundary=x"):
        method = "PUT" if content_type.startswith("application") else "POST"
        path = f"/{stack.bucket}/public/huge.bin" if method == "PUT" else f"/{stack.bucket}"
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Length: {200 * 1024 * 1024}\r\nContent-Type: {content_type}\r\n\r\n".encode()
            )
            answer = _answer(sock)
        assert answer.startswith("HTTP/1.1 400"), answer
        assert "<Code>EntityTooLarge</Code>" in answer


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("", HTTPStatus.NOT_FOUND),
        ("AWSSecurityTokenServiceV20110615.GetCallerIdentity", HTTPStatus.BAD_REQUEST),
    ],  # noqa: E501
)
def test_cognito_origin_answers_nothing_else(stack: Stack, target: str, status: int) -> None:
    headers = {"X-Amz-Target": target} if target else {}
    response = requests.post(
        f"{stack.base}/", data="Action=GetCallerIdentity&Version=2011-06-15", headers=headers, timeout=5
    )
    assert response.status_code == status
    assert response.json()["__type"] == "UnknownOperationException"
    assert response.headers["x-amzn-ErrorType"].startswith("UnknownOperationException")


# --- DNS rebinding: only the server's own names ---------------------------------------------------------
def raw_get(base: str, path: str, host: str | None) -> tuple[int, str]:
    """GET path with exactly this Host header (None: no Host at all, as HTTP/1.0 allows)."""
    address, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        head = f"GET {path} HTTP/1.0\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "\r\n"
        sock.sendall(head.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.decode("latin-1").partition("\r\n")
    return int(status_line.split()[1]), rest


def test_a_rebound_name_gets_nothing_from_either_origin(stack: Stack, alice: Person) -> None:
    port = stack.base.rsplit(":", 1)[1]
    forgot = "/forgotPassword?" + urlencode(
        {"client_id": stack.client_id, "response_type": "code", "redirect_uri": CALLBACK}
    )
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.nip.io:{port}", "127.0.0.1",
                 f"localhost:{int(port) + 1}", f"localhost.:{port}", None):  # fmt: skip
        for path in (forgot, "/_outbox.json", "/_health", f"/{stack.pool_id}/.well-known/jwks.json"):
            status, text = raw_get(stack.base, path, host)
            assert status == HTTPStatus.MISDIRECTED_REQUEST, (host, path, text)
            assert "_csrf" not in text and "code" not in text.lower().split("\r\n\r\n", 1)[1]
        # The JSON API too (a rebound page could POST to it).
        headers = {"Host": host or "", "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUsers"}
        api = requests.post(stack.base + "/", data="{}", headers=headers, timeout=5)
        assert api.status_code == HTTPStatus.MISDIRECTED_REQUEST
    s3_port = stack.s3_base.rsplit(":", 1)[1]
    url = alice.s3.generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket, "Key": alice.key("protected")}
    )
    path = url.removeprefix(stack.s3_base)
    for host in (f"attacker.example:{s3_port}", f"{stack.bucket}.s3.amazonaws.com", None):
        status, text = raw_get(stack.s3_base, path, host)
        assert status == HTTPStatus.MISDIRECTED_REQUEST, (host, text)
        assert "Content-Security-Policy: sandbox" in text


def test_the_servers_own_names_still_work(stack: Stack) -> None:
    for base in (stack.base, stack.s3_base):
        port = base.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
            status, text = raw_get(base, "/_health" if base == stack.base else "/", host)
            assert status != HTTPStatus.MISDIRECTED_REQUEST, (host, text)


def test_allowed_host_adds_a_name(tmp_path: Path) -> None:
    running = start_stack(tmp_path / "data", write_config(tmp_path / "config.json"),
                          extra=("--allowed-host", "dev.example"))  # fmt: skip
    try:
        port = running.base.rsplit(":", 1)[1]
        assert raw_get(running.base, "/_health", f"dev.example:{port}")[0] == HTTPStatus.OK
        assert raw_get(running.base, "/_health", f"other.example:{port}")[0] == HTTPStatus.MISDIRECTED_REQUEST
    finally:
        running.stop()


def test_the_host_list() -> None:
    assert allowed_hosts("127.0.0.1", 9229) == {"127.0.0.1:9229", "localhost:9229", "[::1]:9229"}
    assert allowed_hosts("::1", 80, ["Dev.Example"]) == {
        "127.0.0.1:80", "localhost:80", "[::1]:80", "dev.example:80", "127.0.0.1", "localhost", "[::1]",
        "dev.example",
    }  # fmt: skip
    assert "192.168.1.5:9230" in allowed_hosts("192.168.1.5", 9230)


def raw_request(base: str, target: str, hosts: list[str]) -> int:
    """The status of a GET with this request target (absolute-form allowed) and these Host headers."""
    address, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        head = f"GET {target} HTTP/1.1\r\n" + "".join(f"Host: {h}\r\n" for h in hosts)
        sock.sendall((head + "Connection: close\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b"\r\n", 1)[0].split()[1])


def test_an_absolute_target_does_not_hide_a_foreign_host(stack: Stack) -> None:
    # werkzeug replaces HTTP_HOST with an absolute target's host; the Host header sent counts too.
    for base, path in ((stack.base, "/_outbox.json"), (stack.s3_base, "/")):
        port = base.rsplit(":", 1)[1]
        own = f"127.0.0.1:{port}"
        for target, hosts in (
            (f"http://{own}{path}", [f"attacker.example:{port}"]),
            (f"http://{own}{path}", []),
            (f"http://attacker.example:{port}{path}", [own]),
            (path, [f"attacker.example:{port}", own]),
            (path, [own, f"attacker.example:{port}"]),
        ):
            assert raw_request(base, target, hosts) == HTTPStatus.MISDIRECTED_REQUEST, (target, hosts)
        assert raw_request(base, f"http://{own}{path}", [own]) != HTTPStatus.MISDIRECTED_REQUEST
        assert raw_request(base, path, [f"localhost:{port}"]) != HTTPStatus.MISDIRECTED_REQUEST
