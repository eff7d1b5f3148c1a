"""S3 behind the identity pool: role policies per prefix, SigV4 in its three forms, POST policies."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.localcloud import ALICE, Person, Stack, code_of, s3_person, xml_code
from tests.support.waiting import wait_until

APP_ORIGIN = "http://localhost:8000"


# --- role policies -----
def test_owner_writes_only_her_own_prefixes(stack: Stack, people: dict[str, Person]) -> None:
    alice, bob = people["alice"], people["bob"]
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("protected"), Body=b"alice")
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("private"), Body=b"secret")
    for key in (
        bob.key("protected"),
        bob.key("private"),
        "public/x.txt",
        "elsewhere.txt",
        f"protected/{alice.identity_id}x/y",
    ):
        assert code_of(lambda k=key: alice.s3.put_object(Bucket=stack.bucket, Key=k, Body=b"x")) == (
            "AccessDenied"
        ), key


def test_every_signed_in_user_and_guest_reads_protected_and_public(
    stack: Stack, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("protected", "shared.txt"), Body=b"shared")
    stack.s3().put_object(Bucket=stack.bucket, Key="public/notice.txt", Body=b"public")
    for name in ("alice", "bob", "guest"):
        client = people[name].s3
        shared = client.get_object(Bucket=stack.bucket, Key=alice.key("protected", "shared.txt"))
        assert shared["Body"].read() == b"shared"
        assert client.get_object(Bucket=stack.bucket, Key="public/notice.txt")["Body"].read() == b"public"
        assert client.head_object(Bucket=stack.bucket, Key="public/notice.txt")["ContentLength"] == 6


def test_private_prefix_is_owner_only(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("private", "diary.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"dear diary")
    assert alice.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read() == b"dear diary"
    for name in ("bob", "guest"):
        assert code_of(lambda c=people[name].s3: c.get_object(Bucket=stack.bucket, Key=key)) == "AccessDenied"
    assert code_of(lambda: people["bob"].s3.delete_object(Bucket=stack.bucket, Key=key)) == "AccessDenied"
    alice.s3.delete_object(Bucket=stack.bucket, Key=key)
    assert code_of(lambda: alice.s3.get_object(Bucket=stack.bucket, Key=key)) == "NoSuchKey"


def test_guest_cannot_write_or_delete(stack: Stack, people: dict[str, Person]) -> None:
    guest, alice = people["guest"], people["alice"]
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("protected", "keep.txt"), Body=b"keep")
    for key in (guest.key("protected"), guest.key("private"), "public/guest.txt"):
        assert (
            code_of(lambda k=key: guest.s3.put_object(Bucket=stack.bucket, Key=k, Body=b"x"))
            == "AccessDenied"
        )
    delete = lambda: guest.s3.delete_object(Bucket=stack.bucket, Key=alice.key("protected", "keep.txt"))  # noqa: E731
    assert code_of(delete) == "AccessDenied"
    many = {"Objects": [{"Key": alice.key("protected", "keep.txt")}]}
    assert code_of(lambda: guest.s3.delete_objects(Bucket=stack.bucket, Delete=many)) == "AccessDenied"
    assert stack.s3().get_object(Bucket=stack.bucket, Key=alice.key("protected", "keep.txt"))


def test_listing_is_limited_by_prefix(stack: Stack, people: dict[str, Person]) -> None:
    alice, bob, guest = people["alice"], people["bob"], people["guest"]
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("private", "list.txt"), Body=b"x")
    listed = alice.s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"private/{alice.identity_id}/")
    assert alice.key("private", "list.txt") in [o["Key"] for o in listed["Contents"]]
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("protected", "list.txt"), Body=b"x")
    own = alice.s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"protected/{alice.identity_id}/")
    assert alice.key("protected", "list.txt") in [o["Key"] for o in own["Contents"]]
    # Readable by key is not listable: nobody may enumerate protected/ (the app keeps the avatars
    # of private profiles there, under random keys).
    for who in (guest, bob):
        assert (
            code_of(lambda w=who: w.s3.list_objects_v2(Bucket=stack.bucket, Prefix="protected/"))
            == "AccessDenied"
        )
    assert (
        code_of(
            lambda: guest.s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"protected/{alice.identity_id}/")
        )
        == "AccessDenied"
    )
    assert "KeyCount" in guest.s3.list_objects_v2(Bucket=stack.bucket, Prefix="public/")  # allowed
    other = f"private/{alice.identity_id}/"
    assert code_of(lambda: bob.s3.list_objects_v2(Bucket=stack.bucket, Prefix=other)) == "AccessDenied"
    assert code_of(lambda: alice.s3.list_objects_v2(Bucket=stack.bucket)) == "AccessDenied"
    assert code_of(lambda: guest.s3.list_objects_v2(Bucket=stack.bucket, Prefix="private/")) == "AccessDenied"
    # Bucket configuration is not for identity credentials.
    assert code_of(lambda: alice.s3.get_bucket_cors(Bucket=stack.bucket)) == "AccessDenied"
    assert code_of(lambda: alice.s3.list_buckets()) == "AccessDenied"


def test_multipart_and_copy_follow_the_policy(stack: Stack, people: dict[str, Person]) -> None:
    alice, bob = people["alice"], people["bob"]
    key = alice.key("protected", "parts.bin")
    upload = alice.s3.create_multipart_upload(Bucket=stack.bucket, Key=key)["UploadId"]
    part = alice.s3.upload_part(Bucket=stack.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 100)
    alice.s3.complete_multipart_upload(
        Bucket=stack.bucket,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    assert alice.s3.head_object(Bucket=stack.bucket, Key=key)["ContentLength"] == 100
    assert code_of(lambda: bob.s3.create_multipart_upload(Bucket=stack.bucket, Key=key)) == "AccessDenied"
    alice.s3.put_object(Bucket=stack.bucket, Key=alice.key("private", "src.txt"), Body=b"src")
    source = {"Bucket": stack.bucket, "Key": alice.key("private", "src.txt")}
    copy = lambda: bob.s3.copy_object(Bucket=stack.bucket, Key=bob.key("protected"), CopySource=source)  # noqa: E731
    assert code_of(copy) == "AccessDenied"
    alice.s3.copy_object(Bucket=stack.bucket, Key=alice.key("protected", "copy.txt"), CopySource=source)


def test_anonymous_requests_are_refused(stack: Stack) -> None:
    stack.s3().put_object(Bucket=stack.bucket, Key="public/anon.txt", Body=b"x")
    for method, path in (
        ("GET", "public/anon.txt"),
        ("PUT", "public/anon2.txt"),
        ("GET", ""),
        ("DELETE", "public/anon.txt"),
    ):
        response = requests.request(method, f"{stack.s3_base}/{stack.bucket}/{path}", data=b"x", timeout=5)
        assert response.status_code == HTTPStatus.FORBIDDEN, (method, path)
        assert xml_code(response) == "AccessDenied"
        assert "<Message>Access Denied</Message>" in response.text


def test_admin_key_has_full_access_and_is_checked(stack: Stack) -> None:
    admin = stack.s3()
    admin.put_object(Bucket=stack.bucket, Key="anywhere/admin.txt", Body=b"admin")
    assert "anywhere/admin.txt" in [o["Key"] for o in admin.list_objects_v2(Bucket=stack.bucket)["Contents"]]
    assert admin.get_bucket_cors(Bucket=stack.bucket)["CORSRules"]
    wrong = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=stack.s3_base,
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key="wrong-secret",
        config=admin.meta.config,
    )
    assert (
        code_of(lambda: wrong.get_object(Bucket=stack.bucket, Key="anywhere/admin.txt"))
        == "SignatureDoesNotMatch"
    )


# --- SigV4: header form -----
def test_wrong_or_missing_session_token_and_unknown_key(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("protected", "token.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    other = dict(alice.credentials, SessionToken=people["bob"].credentials["SessionToken"])
    assert code_of(lambda: stack.s3(other).get_object(Bucket=stack.bucket, Key=key)) == "InvalidToken"
    no_token = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=stack.s3_base,
        aws_access_key_id=alice.credentials["AccessKeyId"],
        aws_secret_access_key=alice.credentials["SecretKey"],
        config=alice.s3.meta.config,
    )
    assert code_of(lambda: no_token.get_object(Bucket=stack.bucket, Key=key)) == "InvalidAccessKeyId"
    unknown = dict(alice.credentials, AccessKeyId="ASIAAAAAAAAAAAAAAAAA")
    assert code_of(lambda: stack.s3(unknown).get_object(Bucket=stack.bucket, Key=key)) == "InvalidAccessKeyId"
    wrong_secret = dict(alice.credentials, SecretKey="x" * 40)
    assert (
        code_of(lambda: stack.s3(wrong_secret).get_object(Bucket=stack.bucket, Key=key))
        == "SignatureDoesNotMatch"
    )


def _after_signing(client: Any, change: Callable[[Any], None]) -> None:
    """Run change(request) on every request after botocore signed it (a man in the middle)."""
    client.meta.events.register("before-send", lambda request, **_: change(request))


def test_tampered_header_signatures_are_refused(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("protected", "tamper.txt")

    def flip_signature(request: Any) -> None:
        auth = request.headers["Authorization"]
        auth = auth.decode() if isinstance(auth, bytes) else auth
        request.headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")

    client = stack.s3(alice.credentials)
    _after_signing(client, flip_signature)
    assert code_of(lambda: client.get_object(Bucket=stack.bucket, Key=key)) == "SignatureDoesNotMatch"

    def redirect_to_bob(request: Any) -> None:
        mine, bobs = (quote(p.identity_id) for p in (alice, people["bob"]))
        assert mine in request.url
        request.url = request.url.replace(mine, bobs)

    client = stack.s3(alice.credentials)
    _after_signing(client, redirect_to_bob)
    assert (
        code_of(lambda: client.put_object(Bucket=stack.bucket, Key=key, Body=b"x")) == "SignatureDoesNotMatch"
    )

    def swap_body(request: Any) -> None:
        request.body = b"y" * 5

    client = stack.s3(alice.credentials)
    _after_signing(client, swap_body)
    assert code_of(lambda: client.put_object(Bucket=stack.bucket, Key=key, Body=b"x" * 5)) == (
        "XAmzContentSHA256Mismatch"
    )


def test_request_signed_long_ago_is_refused(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=old):
        code = code_of(lambda: alice.s3.get_object(Bucket=stack.bucket, Key=alice.key("protected")))
    assert code == "RequestTimeTooSkewed"


def test_sigv2_is_refused(stack: Stack) -> None:
    v2 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=stack.s3_base,
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
    )
    url = v2.generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": "public/notice.txt"})
    assert "Signature=" in url and "X-Amz-Signature" not in url
    response = requests.get(url, timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert xml_code(response) == "InvalidRequest"


# --- SigV4: presigned URLs -----
def _replace_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, value if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_presigned_get_and_its_tampering(stack: Stack, people: dict[str, Person]) -> None:
    alice, bob = people["alice"], people["bob"]
    key = alice.key("protected", "photo one.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"photo")
    url = alice.s3.generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket, "Key": key}, ExpiresIn=300
    )
    assert "X-Amz-Security-Token=" in url
    response = requests.get(url, timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b"photo"

    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    tampered = {
        "signature": _replace_param(url, "X-Amz-Signature", signature[::-1]),
        "expires": _replace_param(url, "X-Amz-Expires", "600"),
        "key": url.replace("photo%20one", "photo%20two"),
        "extra parameter": url + "&response-content-type=text%2Fhtml",
    }
    for name, bad in tampered.items():
        response = requests.get(bad, timeout=5)
        assert response.status_code == HTTPStatus.FORBIDDEN, name
        assert xml_code(response) == "SignatureDoesNotMatch", name
    wrong_token = _replace_param(url, "X-Amz-Security-Token", bob.credentials["SessionToken"])
    assert xml_code(requests.get(wrong_token, timeout=5)) == "InvalidToken"
    # A PUT URL for her prefix works; one for bob's prefix is signed fine but refused by policy.
    put_url = alice.s3.generate_presigned_url("put_object", Params={"Bucket": stack.bucket, "Key": key})
    assert requests.put(put_url, data=b"new", timeout=5).status_code == HTTPStatus.OK
    bob_url = alice.s3.generate_presigned_url(
        "put_object", Params={"Bucket": stack.bucket, "Key": bob.key("protected")}
    )
    response = requests.put(bob_url, data=b"x", timeout=5)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert xml_code(response) == "AccessDenied"


def test_presigned_url_past_its_expiry_is_refused(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("protected", "expiring.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=old):
        url = alice.s3.generate_presigned_url(
            "get_object", Params={"Bucket": stack.bucket, "Key": key}, ExpiresIn=60
        )
    response = requests.get(url, timeout=5)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert xml_code(response) == "AccessDenied"
    assert "Request has expired" in response.text


# --- browser POST uploads -----
def _post(
    stack: Stack,
    presigned: dict[str, Any],
    content: bytes = b"\x89PNG....",
    *,
    filename: str = "a.png",
    **fields: str | None,
) -> requests.Response:
    """Submit a presigned POST the way a browser does (fields then the file)."""
    data = {**presigned["fields"], **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return requests.post(
        presigned["url"],
        data=data,
        files={"file": (filename, content)},
        headers={"Origin": APP_ORIGIN},
        timeout=5,
    )


def _presigned_post(
    stack: Stack, who: Person, key: str, *, max_size: int = 1000, expires: int = 300
) -> dict[str, Any]:
    prefix = f"protected/{who.identity_id}/uploads/"
    return who.s3.generate_presigned_post(
        stack.bucket,
        key,
        Fields={"Content-Type": "image/png"},
        Conditions=[
            ["starts-with", "$key", prefix],
            {"Content-Type": "image/png"},
            ["content-length-range", 1, max_size],
        ],
        ExpiresIn=expires,
    )


def test_presigned_post_upload_works_with_cors(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("protected", "uploads/avatar.png")
    response = _post(stack, _presigned_post(stack, alice, key))
    assert response.status_code == HTTPStatus.NO_CONTENT, response.text
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    stored = stack.s3().get_object(Bucket=stack.bucket, Key=key)
    assert stored["Body"].read() == b"\x89PNG...."
    with_status = alice.s3.generate_presigned_post(
        stack.bucket,
        key,
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )
    response = _post(stack, with_status)
    assert response.status_code == HTTPStatus.CREATED


@dataclass
class _PostAttempt:
    """A browser POST of alice's, about to be spoilt in one way."""

    stack: Stack
    people: dict[str, Person]
    key: str
    presigned: dict[str, Any]
    content: bytes = b"\x89PNG...."
    fields: dict[str, Any] = field(default_factory=dict)


def _key_outside_prefix(a: _PostAttempt) -> None:
    a.fields["key"] = a.people["bob"].key("protected", "uploads/c.png")


def _wrong_content_type(a: _PostAttempt) -> None:
    a.fields["Content-Type"] = "text/html"


def _too_large(a: _PostAttempt) -> None:
    a.content = b"x" * 101


def _empty(a: _PostAttempt) -> None:
    a.content = b""


def _expired_policy(a: _PostAttempt) -> None:
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    # Signed ten minutes ago with one minute to live (the x-amz-date is old too, as it would be).
    with (
        mock.patch("botocore.signers.get_current_datetime", return_value=old),
        mock.patch("botocore.auth.get_current_datetime", return_value=old),
    ):
        a.presigned = _presigned_post(a.stack, a.people["alice"], a.key, expires=60)


def _extra_field(a: _PostAttempt) -> None:
    a.fields["x-amz-meta-owner"] = "mallory"


def _tampered_policy(a: _PostAttempt) -> None:
    document = json.loads(base64.b64decode(a.presigned["fields"]["policy"]))
    document["conditions"] = [
        c for c in document["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    a.fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()


def _wrong_session_token(a: _PostAttempt) -> None:
    a.fields["x-amz-security-token"] = a.people["bob"].credentials["SessionToken"]


def _no_signature(a: _PostAttempt) -> None:
    a.fields["x-amz-signature"] = None


def _guest_upload(a: _PostAttempt) -> None:
    guest = a.people["guest"]
    a.presigned = _presigned_post(a.stack, guest, guest.key("protected", "uploads/c.png"))


_SPOIL_POST = {
    "key outside prefix": _key_outside_prefix,
    "wrong content type": _wrong_content_type,
    "too large": _too_large,
    "empty": _empty,
    "expired policy": _expired_policy,
    "extra field": _extra_field,
    "tampered policy": _tampered_policy,
    "wrong session token": _wrong_session_token,
    "no signature": _no_signature,
    "allowed by conditions, denied by role": _guest_upload,
}


@pytest.mark.parametrize(
    ("case", "status", "code", "message"),
    [
        ("key outside prefix", 403, "AccessDenied", "Policy Condition failed"),
        ("wrong content type", 403, "AccessDenied", "Policy Condition failed"),
        ("too large", 400, "EntityTooLarge", "exceeds the maximum allowed size"),
        ("empty", 400, "EntityTooSmall", "smaller than the minimum"),
        ("expired policy", 403, "AccessDenied", "Policy expired"),
        ("extra field", 403, "AccessDenied", "Extra input fields: x-amz-meta-owner"),
        ("tampered policy", 403, "SignatureDoesNotMatch", "does not match"),
        ("wrong session token", 400, "InvalidToken", "token"),
        ("no signature", 400, "InvalidArgument", "x-amz-signature"),
        ("allowed by conditions, denied by role", 403, "AccessDenied", "Access Denied"),
    ],
)
def test_post_policy_conditions_are_enforced(
    stack: Stack, people: dict[str, Person], case: str, status: int, code: str, message: str
) -> None:
    alice = people["alice"]
    key = alice.key("protected", "uploads/c.png")
    attempt = _PostAttempt(stack, people, key, _presigned_post(stack, alice, key, max_size=100))
    _SPOIL_POST[case](attempt)
    response = _post(stack, attempt.presigned, attempt.content, **attempt.fields)
    assert response.status_code == status, response.text
    assert xml_code(response) == code
    assert message in response.text
    if case != "allowed by conditions, denied by role":
        assert code_of(lambda: stack.s3().head_object(Bucket=stack.bucket, Key=key)) == "404"


def test_cors_preflight_follows_the_bucket_rule(stack: Stack) -> None:
    url = f"{stack.s3_base}/{stack.bucket}"
    ok = requests.options(
        url,
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=5,
    )
    assert ok.status_code == HTTPStatus.OK
    assert ok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    for origin, method in (("http://evil.example", "POST"), (APP_ORIGIN, "DELETE")):
        refused = requests.options(
            url, headers={"Origin": origin, "Access-Control-Request-Method": method}, timeout=5
        )
        assert refused.status_code == HTTPStatus.FORBIDDEN
        assert "Access-Control-Allow-Origin" not in refused.headers
    # moto's blanket "*" is gone: a foreign origin gets no CORS header on a real response either.
    stack.s3().put_object(Bucket=stack.bucket, Key="public/cors.txt", Body=b"x")
    url = stack.s3().generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket, "Key": "public/cors.txt"}
    )
    foreign = requests.get(url, headers={"Origin": "http://evil.example"}, timeout=5)
    assert foreign.status_code == HTTPStatus.OK
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert (
        requests.get(url, headers={"Origin": APP_ORIGIN}, timeout=5).headers["Access-Control-Allow-Origin"]
        == APP_ORIGIN
    )


# --- expiry of the credentials themselves -----
def test_expired_credentials_sign_nothing(private_stack) -> None:
    running = private_stack(identity_pool={"credentials_seconds": 2})
    alice = s3_person(running, running.api_login(*ALICE)["IdToken"])
    assert 0 < alice.credentials["Expiration"].timestamp() - time.time() <= 2
    key = alice.key("protected")
    alice.s3.put_object(Bucket=running.bucket, Key=key, Body=b"x")
    url = alice.s3.generate_presigned_url(
        "get_object", Params={"Bucket": running.bucket, "Key": key}, ExpiresIn=3600
    )
    assert requests.get(url, timeout=5).status_code == HTTPStatus.OK
    wait_until(
        lambda: requests.get(url, timeout=5).status_code != HTTPStatus.OK, what="the credentials to expire"
    )
    assert code_of(lambda: alice.s3.get_object(Bucket=running.bucket, Key=key)) == "ExpiredToken"
    # The URL's own ExpiresIn is longer, but the credentials that signed it are dead.
    response = requests.get(url, timeout=5)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert xml_code(response) == "ExpiredToken"


@pytest.mark.parametrize(
    ("method", "query", "headers", "body"),
    [
        ("GET", "", {"Authorization": "AWS4-HMAC-SHA256 garbage"}, None),
        (
            "GET",
            "",
            {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/s3/x, SignedHeaders=host, Signature=x"},
            None,
        ),
        ("GET", "", {"Authorization": "AWS AKIA:c2lnbmF0dXJl"}, None),
        ("GET", "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=zz&X-Amz-Expires=abc", {}, None),
        ("GET", "?X-Amz-Credential=a", {}, None),
        ("POST", "", {"Content-Type": "multipart/form-data; boundary=xx"}, b"garbage\xff"),
        ("POST", "", {"Content-Type": "multipart/form-data"}, b"garbage"),
        ("PUT", "/%ff%fe", {}, b"\xff"),
    ],
)
def test_malformed_requests_get_s3_errors(
    stack: Stack, method: str, query: str, headers: dict, body: bytes
) -> None:
    url = f"{stack.s3_base}/{stack.bucket}/x{query}"
    response = requests.request(method, url, headers=headers, data=body, timeout=5)
    assert 400 <= response.status_code < 500, response.text
    assert xml_code(response)


def _streaming_put(
    stack: Stack, who: Person, key: str, chunks: list[bytes], *, tamper: bool = False
) -> requests.Response:
    """A PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: botocore signs the seed, the test each chunk."""
    import hashlib
    import hmac

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class StreamingAuth(S3SigV4Auth):
        """botocore's S3 signer (S3 path encoding) with the streaming payload marker."""

        def payload(self, request: Any) -> str:
            return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

    creds = who.credentials
    url = f"{stack.s3_base}/{stack.bucket}/{quote(key)}"
    request = AWSRequest(
        method="PUT",
        url=url,
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(sum(len(c) for c in chunks)),
        },
    )
    signer_credentials = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    StreamingAuth(signer_credentials, "s3", "us-east-1").add_auth(request)
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key_bytes = ("AWS4" + creds["SecretKey"]).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key_bytes = hmac.new(key_bytes, part.encode(), hashlib.sha256).digest()
    previous = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    empty = hashlib.sha256(b"").hexdigest()
    for chunk in [*chunks, b""]:
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty, hashlib.sha256(chunk).hexdigest()]
        )
        previous = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
        sent = chunk.upper() if tamper else chunk
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    return requests.put(url, data=body, headers=dict(request.headers.items()), timeout=5)


def test_streaming_chunk_signatures_are_checked(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    key = alice.key("protected", "streamed.txt")
    response = _streaming_put(stack, alice, key, [b"hello ", b"world"])
    assert response.status_code == HTTPStatus.OK, response.text
    assert stack.s3().get_object(Bucket=stack.bucket, Key=key)["Body"].read() == b"hello world"
    response = _streaming_put(stack, alice, key, [b"hello ", b"world"], tamper=True)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert xml_code(response) == "SignatureDoesNotMatch"


# --- DeleteObjects: the gate reads the keys exactly as moto does -----
def _signed(stack: Stack, who: Person, method: str, url: str, body: bytes) -> requests.Response:
    """A request signed with who's credentials (body hash included), sent as is."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = who.credentials
    request = AWSRequest(method=method, url=url, data=body)
    signer = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    S3SigV4Auth(signer, "s3", "us-east-1").add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers.items()), timeout=5)


@pytest.mark.parametrize(
    "body",
    [
        "<Delete><Object><Key >{bob}</Key ></Object></Delete>",
        "<Delete><Object><Key>{mine}</Key></Object><Object><Key\n>{bob}</Key\n></Object></Delete>",
        "<Delete><Object><Key>{mine}</Key></Object><Object><Key>{bob}</Key></Object></Delete>",
        '<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object>'
        "<Key>{bob}</Key></Object></Delete>",
    ],
)
def test_delete_objects_authorises_every_key_moto_would_delete(
    stack: Stack, people: dict[str, Person], body: str
) -> None:
    alice, bob = people["alice"], people["bob"]
    mine, bobs = alice.key("protected", "mine.txt"), bob.key("protected", "kept.txt")
    alice.s3.put_object(Bucket=stack.bucket, Key=mine, Body=b"x")
    bob.s3.put_object(Bucket=stack.bucket, Key=bobs, Body=b"bob's")
    url = f"{stack.s3_base}/{stack.bucket}?delete"
    response = _signed(stack, alice, "POST", url, body.format(mine=mine, bob=bobs).encode())
    assert response.status_code == HTTPStatus.FORBIDDEN, response.text
    assert xml_code(response) == "AccessDenied"
    assert stack.s3().get_object(Bucket=stack.bucket, Key=bobs)["Body"].read() == b"bob's"
    assert stack.s3().head_object(Bucket=stack.bucket, Key=mine)


@pytest.mark.parametrize(
    "body",
    [b"<Delete><Object><Key>a", b"not xml", b"<Delete></Delete>", b"",
     b"<Delete><Object><Key a='1'>k</Key></Object></Delete>",
     b'<!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object></Delete>'],
)  # fmt: skip
def test_delete_objects_that_does_not_parse_is_refused(
    stack: Stack, people: dict[str, Person], body: bytes
) -> None:
    response = _signed(stack, people["alice"], "POST", f"{stack.s3_base}/{stack.bucket}?delete", body)
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.text
    assert xml_code(response) == "MalformedXML"


def test_delete_objects_of_her_own_keys_works(stack: Stack, people: dict[str, Person]) -> None:
    alice = people["alice"]
    keys = [alice.key("protected", f"many-{n}.txt") for n in range(3)]
    for key in keys:
        alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    result = alice.s3.delete_objects(Bucket=stack.bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(keys)


def test_a_virtual_hosted_host_cannot_shift_the_key_moto_writes(
    stack: Stack, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    key = alice.key("protected", "hosted.txt")
    client = stack.s3(alice.credentials)

    def virtual_host(request: Any, **_: Any) -> None:
        request.headers["Host"] = f"{stack.bucket}.s3.amazonaws.com"  # signed, and sent

    client.meta.events.register("before-sign.s3", virtual_host)
    # Refused outright (not one of the server's names); moto, besides, always gets a path-style Host.
    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket=stack.bucket, Key=key, Body=b"hosted")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == HTTPStatus.MISDIRECTED_REQUEST
    assert code_of(lambda: stack.s3().head_object(Bucket=stack.bucket, Key=key)) == "404"
    shifted = stack.s3().list_objects_v2(Bucket=stack.bucket, Prefix=f"{stack.bucket}/")
    assert shifted["KeyCount"] == 0
