"""Process-level behaviour on private instances: CLI, persistence, key rotation, reset, expiry, regions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from http import HTTPStatus
from pathlib import Path

import boto3
import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.localcloud import ALICE, ROOT, Stack, code_for, exchange
from tests.support.waiting import wait_until


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localcloud", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
    )


def test_refuses_non_loopback_host(tmp_path: Path) -> None:
    wildcard = "0.0.0.0"  # noqa: S104 - the address being refused
    result = run_cli("--host", wildcard, "--port", "0", "--data-dir", str(tmp_path / "d"))
    assert result.returncode != 0
    assert "non-loopback" in result.stderr
    assert not (tmp_path / "d").exists()


def test_app_env_health_and_ready_line(stack: Stack) -> None:
    env = stack.env
    for key in (
        "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET",
        "COGNITO_DOMAIN", "COGNITO_IDP_URL", "AWS_ENDPOINT_URL", "COGNITO_ISSUER", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):  # fmt: skip
        assert env[key], key
        assert " " not in env[key]
    assert env["COGNITO_REGION"] == "us-east-1"
    assert (
        env["COGNITO_ISSUER"] == f"https://cognito-idp.us-east-1.amazonaws.com/{env['COGNITO_USER_POOL_ID']}"
    )
    assert env["COGNITO_DOMAIN"] == stack.base
    discovery = requests.get(
        f"{env['COGNITO_IDP_URL']}/{env['COGNITO_USER_POOL_ID']}/.well-known/openid-configuration", timeout=5
    ).json()
    assert discovery["issuer"] == env["COGNITO_ISSUER"]
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
    ):
        assert discovery[name].startswith(stack.base)
    assert discovery["end_session_endpoint"] == f"{stack.base}/logout"
    assert discovery["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    health = requests.get(f"{stack.base}/_health", timeout=5)
    assert health.status_code == HTTPStatus.OK
    assert health.json()["status"] == "ok"
    output = "".join(stack.output)
    assert "alice@example.com / Alice-pass-1" in output
    assert env["COGNITO_CLIENT_ID"] in output
    assert env["COGNITO_CLIENT_SECRET"] not in output  # in app.env only (test_console_secrets.py)


def test_unknown_pool_documents_are_404(stack: Stack) -> None:
    response = requests.get(f"{stack.base}/us-east-1_nope/.well-known/jwks.json", timeout=5)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_jwks_never_contains_motos_public_key(stack: Stack) -> None:
    kids = [k["kid"] for k in stack.jwks()["keys"]]
    assert kids
    assert "dummy" not in kids
    token = stack.api_login(*ALICE)["IdToken"]
    assert jwt.get_unverified_header(token)["kid"] in kids


def test_state_survives_restart(private_stack, tmp_path: Path) -> None:
    # No timing here: a timed assertion fails on a busy machine (start-up speed is not a test).
    first = private_stack()
    idp = first.idp()
    pool_id, client_id, secret = first.pool_id, first.client_id, first.client_secret
    idp.admin_create_user(UserPoolId=pool_id, Username="kept@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="kept@example.com", Password="Kept-pass-1", Permanent=True
    )
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="kept@example.com", GroupName="admin")
    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username="kept@example.com", UserAttributes=[{"Name": "name", "Value": "Kept"}]
    )
    kept = first.api_login("kept@example.com", "Kept-pass-1")
    revoked = first.api_login(*ALICE)
    idp.revoke_token(Token=revoked["RefreshToken"], ClientId=client_id, ClientSecret=secret)
    first.stop()

    second = private_stack(data_dir=first.data_dir)
    assert (second.pool_id, second.client_id, second.client_secret) == (pool_id, client_id, secret)
    claims = second.verify(second.api_login("kept@example.com", "Kept-pass-1")["IdToken"], "id")
    assert claims["name"] == "Kept"
    assert claims["cognito:groups"] == ["admin"]
    auth = (client_id, secret)
    ok = requests.post(
        f"{second.base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": kept["RefreshToken"]},
        auth=auth,
        timeout=5,
    )
    assert ok.status_code == HTTPStatus.OK, ok.text
    assert second.idp().get_user(AccessToken=kept["AccessToken"])["Username"]
    bad = requests.post(
        f"{second.base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": revoked["RefreshToken"]},
        auth=auth,
        timeout=5,
    )
    assert bad.json()["error"] == "invalid_grant"


def test_data_dir_files_are_private_even_when_they_existed(private_stack) -> None:
    first = private_stack()
    first.stop()
    data_dir = first.data_dir
    # A data dir left by an older version (or a loose umask): world-readable files and temp files.
    os.chmod(data_dir, 0o755)  # noqa: S103 - the loose mode being tightened
    for path in list(data_dir.iterdir()):
        os.chmod(path, 0o644)
        path.with_suffix(".tmp").write_text("stale")
        os.chmod(path.with_suffix(".tmp"), 0o644)
    umask = os.umask(0o022)
    try:
        second = private_stack(data_dir=data_dir)
    finally:
        os.umask(umask)
    idp = second.idp()
    email = "private-files@example.com"
    idp.admin_create_user(
        UserPoolId=second.pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=second.pool_id, Username=email, Password="Priv-pass-1", Permanent=True
    )
    idp.forgot_password(ClientId=second.client_id, Username=email, SecretHash=second.secret_hash(email))
    assert second.latest_code(email)
    second.identity_credentials(second.api_login(email, "Priv-pass-1")["IdToken"])
    assert run_cli("rotate-key", "--data-dir", str(data_dir)).returncode == 0
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    written = {"app.env", "outbox.json", "keys.json", "cognito-idp.pickle", "identity-pool.json"}
    assert written <= {p.name for p in data_dir.iterdir()}
    for name in written:
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def test_rotate_key_while_running(private_stack) -> None:
    running = private_stack()
    old_tokens = running.api_login(*ALICE)
    old_kid = jwt.get_unverified_header(old_tokens["IdToken"])["kid"]
    result = run_cli("rotate-key", "--data-dir", str(running.data_dir))
    assert result.returncode == 0, result.stderr
    new_tokens = running.api_login(*ALICE)
    new_kid = jwt.get_unverified_header(new_tokens["IdToken"])["kid"]
    assert new_kid != old_kid
    kids = [k["kid"] for k in running.jwks()["keys"]]
    assert kids[0] == new_kid
    assert old_kid in kids
    # Tokens signed before the rotation still verify, and Cognito's APIs still accept them.
    assert running.verify(old_tokens["IdToken"], "id")
    assert running.verify(new_tokens["IdToken"], "id")
    assert running.idp().get_user(AccessToken=old_tokens["AccessToken"])


def test_retired_key_leaves_jwks_after_max_token_lifetime(private_stack) -> None:
    short = {"AccessTokenValidity": 2, "IdTokenValidity": 2, "TokenValidityUnits": {
        "AccessToken": "seconds", "IdToken": "seconds", "RefreshToken": "days"}}  # fmt: skip
    running = private_stack(app_client=short)
    old_kid = running.jwks()["keys"][0]["kid"]
    run_cli("rotate-key", "--data-dir", str(running.data_dir))
    assert old_kid in [k["kid"] for k in running.jwks()["keys"]]
    wait_until(
        lambda: old_kid not in [k["kid"] for k in running.jwks()["keys"]],
        what="the retired key to leave the JWKS",
    )


def test_expired_codes_and_access_tokens_are_refused(private_stack) -> None:
    short = {"AccessTokenValidity": 1, "IdTokenValidity": 1, "TokenValidityUnits": {
        "AccessToken": "seconds", "IdToken": "seconds", "RefreshToken": "days"}}  # fmt: skip
    running = private_stack(app_client=short, hosted_ui={"authorization_code_seconds": 1})
    code, _ = code_for(running, *ALICE)
    code_expired_by = time.time() + 1  # the code was issued before this moment, for 1 s
    fresh_code, _ = code_for(running, *ALICE)
    tokens = exchange(running, fresh_code).json()
    assert tokens["expires_in"] == 1

    def userinfo() -> requests.Response:
        return requests.get(
            f"{running.base}/oauth2/userInfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=5,
        )

    # Redeeming the code would spend it, so wait on the access token (and the code's known end).
    wait_until(
        lambda: time.time() > code_expired_by and userinfo().status_code != HTTPStatus.OK,
        what="the code and the access token to expire",
    )
    assert exchange(running, code).json()["error"] == "invalid_grant"
    assert userinfo().status_code == HTTPStatus.UNAUTHORIZED
    with pytest.raises(ClientError) as exc:
        running.idp().get_user(AccessToken=tokens["access_token"])
    assert "expired" in str(exc.value)
    # The refresh token outlives them and gives new ones.
    refreshed = requests.post(
        f"{running.base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(running.client_id, running.client_secret),
        timeout=5,
    )
    assert refreshed.status_code == HTTPStatus.OK


def test_reset_wipes_the_data_dir(private_stack) -> None:
    running = private_stack()
    pool_id = running.pool_id
    running.stop()
    result = run_cli("reset", "--data-dir", str(running.data_dir))
    assert result.returncode == 0
    assert not running.data_dir.exists()
    again = private_stack(data_dir=running.data_dir)
    assert again.pool_id != pool_id


def test_unsigned_calls_reach_the_pools_region(private_stack) -> None:
    running = private_stack(region="eu-west-1")
    assert running.pool_id.startswith("eu-west-1_")
    assert running.issuer == f"https://cognito-idp.eu-west-1.amazonaws.com/{running.pool_id}"

    def unsigned(operation: str, body: dict) -> requests.Response:
        return requests.post(
            running.base + "/",
            data=json.dumps(body),
            headers={
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
            },
            timeout=5,
        )

    login = unsigned(
        "InitiateAuth",
        {
            "ClientId": running.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {
                "USERNAME": ALICE[0],
                "PASSWORD": ALICE[1],
                "SECRET_HASH": running.secret_hash(ALICE[0]),
            },
        },
    )
    assert login.status_code == HTTPStatus.OK, login.text
    access = login.json()["AuthenticationResult"]["AccessToken"]
    assert running.verify(access, "access")
    assert unsigned("GetUser", {"AccessToken": access}).status_code == HTTPStatus.OK
    # Admin calls must be signed; unsigned ones are refused before any routing.
    user = unsigned("AdminGetUser", {"UserPoolId": running.pool_id, "Username": ALICE[0]})
    assert user.json()["__type"] == "MissingAuthenticationTokenException"
    signed = boto3.client(
        "cognito-idp",
        region_name="eu-west-1",
        endpoint_url=running.base,
        aws_access_key_id=running.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=running.env["AWS_SECRET_ACCESS_KEY"],
    )
    assert signed.admin_get_user(UserPoolId=running.pool_id, Username=ALICE[0])["UserStatus"] == "CONFIRMED"
    # Unsigned operations localcloud leaves to moto go to the pool's region (moto alone: us-east-1).
    devices = unsigned("ListDevices", {"AccessToken": access})
    assert devices.status_code == HTTPStatus.BAD_REQUEST
    assert devices.json()["__type"] == "UnsupportedOperationException"
    assert unsigned("GlobalSignOut", {"AccessToken": access}).status_code == HTTPStatus.OK
    assert unsigned("GetUser", {"AccessToken": access}).status_code == HTTPStatus.BAD_REQUEST


def test_latency_delays_cognito_requests_only(tmp_path: Path) -> None:
    from tests.support.localcloud import start_stack, write_config

    running = start_stack(
        tmp_path / "data", write_config(tmp_path / "c.json"), extra=("--latency-ms", "1500")
    )
    try:
        started = time.monotonic()
        assert requests.get(f"{running.base}/_health", timeout=5).status_code == HTTPStatus.OK
        assert time.monotonic() - started >= 1.5
        started = time.monotonic()
        requests.get(f"{running.s3_base}/{running.bucket}/", timeout=5)
        assert time.monotonic() - started < 1.5  # not delayed (a wide margin for a busy machine)
    finally:
        running.stop()
    assert run_cli("--latency-ms", "-1").returncode == 2
