"""The fault switch (localcloud/faults.py): only the operator may use it, only when the stack was
started with --faults, and what it injects looks like what AWS sends."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config

from tests.support.localcloud import ALICE, Faults, Stack, code_of, fault_request, s3_person
from tests.support.waiting import wait_until

# Without boto3's retries, so each injected failure reaches the test.
ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def operator(stack: Stack) -> tuple[str, str]:
    return stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"]


def error_type(response: requests.Response) -> str:
    return str(response.json()["__type"])


# --- the boundary -------------------------------------------------------------------------------------
def test_off_unless_the_stack_was_started_with_faults(private_stack: Any, tmp_path: Path) -> None:
    plain = private_stack(data_dir=tmp_path / "plain")
    response = fault_request(plain.base, "PutFault", {"Match": "GetUser", "Kind": "error"}, operator(plain))
    assert response.status_code == 400
    assert error_type(response) == "UnknownOperationException"
    assert requests.post(f"{plain.base}/_faults", timeout=5).status_code == 404
    # Nothing was switched on: the call it named still runs.
    assert plain.api_login(*ALICE)["AccessToken"]


def test_unsigned_calls_are_refused(stack: Stack, faults: Faults) -> None:
    for operation, params in [("PutFault", {"Match": "GetUser", "Kind": "error"}), ("ListFaults", {}),
                              ("ClearFaults", {})]:  # fmt: skip
        response = fault_request(stack.base, operation, params, None)
        assert response.status_code == 400
        assert error_type(response) == "MissingAuthenticationTokenException"
    assert faults.list() == []


def test_a_wrong_secret_or_another_service_scope_is_refused(stack: Stack, faults: Faults) -> None:
    key, secret = operator(stack)
    put = {"Match": "GetUser", "Kind": "error", "Count": 0}
    wrong = fault_request(
        stack.base, "PutFault", put, (key, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    )
    assert error_type(wrong) == "InvalidSignatureException"
    # A signature for cognito-idp (what the app's own clients make) does not open the switch.
    scoped = fault_request(stack.base, "PutFault", put, (key, secret), service="cognito-idp")
    assert error_type(scoped) == "InvalidSignatureException"
    unknown = fault_request(stack.base, "PutFault", put, ("LC" + "A" * 18, secret))
    assert error_type(unknown) == "UnrecognizedClientException"
    assert faults.list() == []


def test_identity_pool_credentials_are_refused(stack: Stack, faults: Faults) -> None:
    person = s3_person(stack, stack.api_login(*ALICE)["IdToken"])
    creds = person.credentials
    keys = (creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    response = fault_request(stack.base, "PutFault", {"Match": "GetUser", "Kind": "error"}, keys)
    assert error_type(response) == "AccessDeniedException"
    guest = s3_person(stack).credentials
    keys = (guest["AccessKeyId"], guest["SecretKey"], guest["SessionToken"])
    assert error_type(fault_request(stack.base, "ClearFaults", {}, keys)) == "AccessDeniedException"
    assert faults.list() == []


def test_a_signed_call_cannot_be_replayed_as_another(stack: Stack, faults: Faults) -> None:
    listed = fault_request(stack.base, "ListFaults", {}, operator(stack))
    assert listed.status_code == 200
    headers = dict(listed.request.headers)
    # The operation is in a signed header, the parameters in the signed body.
    as_put = {**headers, "X-Amz-Target": "LocalCloudFaults.PutFault"}
    replayed = requests.post(f"{stack.base}/_faults", data=listed.request.body, headers=as_put, timeout=5)
    assert error_type(replayed) == "InvalidSignatureException"
    body = b'{"Match": "GetUser", "Kind": "error"}'
    headers.pop("Content-Length", None)
    tampered = requests.post(f"{stack.base}/_faults", data=body, headers=headers, timeout=5)
    assert error_type(tampered) == "InvalidSignatureException"
    assert faults.list() == []


def test_a_foreign_host_is_refused(stack: Stack, faults: Faults) -> None:
    signed = fault_request(stack.base, "ClearFaults", {}, operator(stack))
    headers = {**dict(signed.request.headers), "Host": "attacker.example"}
    response = requests.post(f"{stack.base}/_faults", data=signed.request.body, headers=headers, timeout=5)
    assert response.status_code == 421


def test_bad_parameters_are_refused(faults: Faults) -> None:
    for params in [{"Kind": "error"}, {"Match": "GetUser", "Kind": "explode"},
                   {"Match": "GetUser", "Kind": "error", "Status": 200},
                   {"Match": "GetUser", "Kind": "delay", "Seconds": 10_000},
                   {"Match": "GetUser", "Kind": "error", "Count": -1},
                   {"Match": "GetUser", "Kind": "error", "Extra": 1}]:  # fmt: skip
        response = fault_request(faults.base, "PutFault", params, faults.keys)
        assert response.status_code == 400, params
        assert error_type(response) == "InvalidParameterException"
    unknown = fault_request(faults.base, "DropTables", {}, faults.keys)
    assert error_type(unknown) == "UnknownOperationException"
    assert faults.list() == []


# --- what it injects ------------------------------------------------------------------------------------
def test_s3_skip_then_error_with_s3s_error_shape(stack: Stack, faults: Faults) -> None:
    person = s3_person(stack, stack.api_login(*ALICE)["IdToken"])
    s3 = stack.s3(person.credentials, retries={"total_max_attempts": 1, "mode": "standard"})
    faults.put("s3:PutObject", Skip=1, Count=1)
    s3.put_object(Bucket=stack.bucket, Key=person.key("protected", "one"), Body=b"1")
    assert code_of(
        lambda: s3.put_object(Bucket=stack.bucket, Key=person.key("protected", "two"), Body=b"2")
    ) == ("InternalError")
    s3.put_object(Bucket=stack.bucket, Key=person.key("protected", "three"), Body=b"3")
    assert faults.hits("s3:PutObject") == 1
    keys = {
        o["Key"]
        for o in s3.list_objects_v2(Bucket=stack.bucket, Prefix=person.key("protected", ""))["Contents"]
    }
    assert person.key("protected", "two") not in keys  # the failed write wrote nothing


def test_a_refused_request_does_not_use_a_fault_up(stack: Stack, faults: Faults) -> None:
    person = s3_person(stack, stack.api_login(*ALICE)["IdToken"])
    s3 = stack.s3(person.credentials, retries={"total_max_attempts": 1, "mode": "standard"})
    faults.put("s3:PutObject", Kind="throttle")
    # Another identity's prefix: refused by the role policy before the fault switch is consulted.
    assert code_of(lambda: s3.put_object(Bucket=stack.bucket, Key="protected/someone/x", Body=b"1")) == (
        "AccessDenied"
    )
    assert (
        code_of(lambda: s3.put_object(Bucket=stack.bucket, Key=person.key("protected"), Body=b"1"))
        == "SlowDown"
    )


def test_cognito_throttle_and_error_types(stack: Stack, faults: Faults) -> None:
    idp = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=stack.base, config=ONE_TRY,
                       aws_access_key_id="unused", aws_secret_access_key="unused")  # fmt: skip
    access = stack.api_login(*ALICE)["AccessToken"]
    faults.put("GetUser", Kind="throttle", Count=2)
    assert code_of(lambda: idp.get_user(AccessToken=access)) == "TooManyRequestsException"
    faults.put("GetId", ErrorType="ResourceNotFoundException", Status=400, Message="gone", Count=0)
    client = boto3.client("cognito-identity", region_name="us-east-1", endpoint_url=stack.base,
                          config=ONE_TRY.merge(Config(signature_version=UNSIGNED)))  # fmt: skip
    assert (
        code_of(lambda: client.get_id(IdentityPoolId=stack.identity_pool_id)) == "ResourceNotFoundException"
    )
    assert (
        code_of(lambda: client.get_id(IdentityPoolId=stack.identity_pool_id)) == "ResourceNotFoundException"
    )
    listed = {f["Match"]: f for f in faults.list()}
    assert listed["GetId"]["Hits"] == 2 and listed["GetId"]["Remaining"] is None


def test_hosted_ui_paths(stack: Stack, faults: Faults) -> None:
    faults.put("/.well-known/jwks.json", Status=503, Count=1)
    jwks = f"{stack.base}/{stack.pool_id}/.well-known/jwks.json"
    assert requests.get(jwks, timeout=5).status_code == 503
    assert requests.get(jwks, timeout=5).status_code == 200
    faults.put("/oauth2/token", Kind="throttle")
    response = requests.post(f"{stack.base}/oauth2/token", data={"grant_type": "refresh_token"}, timeout=5)
    assert response.status_code == 429
    assert response.json()["error"] == "TooManyRequestsException"


def test_delay_then_run(stack: Stack, faults: Faults) -> None:
    faults.put("/_health", Kind="delay", Seconds=0.4)
    started = time.monotonic()
    assert requests.get(f"{stack.base}/_health", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_hang_until_cleared(stack: Stack, faults: Faults) -> None:
    faults.put("/_health", Kind="hang", Count=0)
    with pytest.raises(requests.Timeout):
        requests.get(f"{stack.base}/_health", timeout=0.5)
    results: list[int] = []
    waiter = threading.Thread(
        target=lambda: results.append(requests.get(f"{stack.base}/_health", timeout=30).status_code)
    )
    waiter.start()
    wait_until(lambda: faults.hits("/_health") == 2, what="the second request held")
    faults.clear()
    waiter.join(timeout=10)
    assert results == [200]


def test_clear_releases_a_request_held_before_a_later_fault_was_added(stack: Stack, faults: Faults) -> None:
    results: list[int] = []
    waiter = threading.Thread(
        target=lambda: results.append(requests.get(f"{stack.base}/_health", timeout=60).status_code)
    )
    faults.put("/_health", Kind="hang", Seconds=120)
    waiter.start()
    wait_until(lambda: faults.hits("/_health") == 1, what="the request held")
    # Another fault added while the first request hangs: the clear must still release it.
    faults.put("GetUser", Kind="error", Count=0)
    faults.clear()
    waiter.join(timeout=15)
    assert results == [200]


def test_clear_cuts_a_delay_short(stack: Stack, faults: Faults) -> None:
    results: list[int] = []
    waiter = threading.Thread(
        target=lambda: results.append(requests.get(f"{stack.base}/_health", timeout=60).status_code)
    )
    faults.put("/_health", Kind="delay", Seconds=120)
    waiter.start()
    wait_until(lambda: faults.hits("/_health") == 1, what="the request delayed")
    faults.clear()
    waiter.join(timeout=15)
    assert results == [200]


def test_malformed_kinds_error_types_and_counts_are_refused(faults: Faults) -> None:
    for params in [{"Match": "GetUser", "Kind": []}, {"Match": "GetUser", "Kind": {}},
                   {"Match": "GetUser", "Kind": "error", "ErrorType": "Bad\r\nX-Injected: 1"},
                   {"Match": "GetUser", "Kind": "error", "ErrorType": "<Code>x"},
                   {"Match": "GetUser", "Kind": "error", "ErrorType": "9Starts"},
                   {"Match": "GetUser", "Kind": "error", "ErrorType": "A" * 65},
                   {"Match": "GetUser", "Kind": "error", "Count": 0.5},
                   {"Match": "GetUser", "Kind": "error", "Count": True},
                   {"Match": "GetUser", "Kind": "error", "Skip": 1.5}]:  # fmt: skip
        response = fault_request(faults.base, "PutFault", params, faults.keys)
        assert response.status_code == 400, params
        assert error_type(response) == "InvalidParameterException", params
    assert faults.list() == []
    faults.put("GetUser", ErrorType="Custom.Error1")  # what the pattern allows still works


def test_discovery_faults_match_only_the_pools_own_documents(stack: Stack, faults: Faults) -> None:
    faults.put("/.well-known/openid-configuration", Status=503, Count=0)
    faults.put("/.well-known/jwks.json", Status=503, Count=0)
    others = [
        "/_idp/google/.well-known/openid-configuration",
        "/nonexistent/.well-known/jwks.json",
        "/nonexistent/.well-known/openid-configuration",
        f"/x/{stack.pool_id}/.well-known/jwks.json",
    ]
    for path in others:
        assert requests.get(f"{stack.base}{path}", timeout=5).status_code != 503, path
    assert faults.hits("/.well-known/openid-configuration") == faults.hits("/.well-known/jwks.json") == 0
    for doc in ["openid-configuration", "jwks.json"]:
        assert requests.get(f"{stack.base}/{stack.pool_id}/.well-known/{doc}", timeout=5).status_code == 503
