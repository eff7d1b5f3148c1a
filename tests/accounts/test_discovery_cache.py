"""Discovery and JWKS are cached for a day, in the process and the shared cache: for the pool as
configured now, never for an endpoint the app used before (another port of the local stack)."""

from __future__ import annotations

import json
from http import HTTPStatus

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from project.integrations import cognito, outbound

pytestmark = pytest.mark.django_db

# Where the local stack listened before its port changed (same data dir, same pool): nothing now.
OLD = "http://127.0.0.1:1"


def _as_served_from(origin: str, document: dict, settings) -> dict:
    text = json.dumps(document)
    return json.loads(text.replace(settings.COGNITO_DOMAIN, origin).replace(settings.COGNITO_IDP_URL, origin))


def test_after_the_endpoint_changes_nothing_cached_for_the_old_one_is_used(settings, monkeypatch, sign_in):
    served = requests.get(cognito.discovery_url(), timeout=10).json()
    old_document = _as_served_from(OLD, served, settings)
    assert old_document["token_endpoint"].startswith(OLD) and old_document["issuer"] == served["issuer"]
    old_key = json.loads(
        jwt.algorithms.RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key())
    )
    old_keys = {"keys": [{**old_key, "kid": "old-kid", "alg": "RS256", "use": "sig"}]}
    configured = (settings.COGNITO_IDP_URL, settings.COGNITO_DOMAIN)

    # The app as it ran on the old port: its discovery document and keys went to the shared cache.
    settings.COGNITO_IDP_URL = settings.COGNITO_DOMAIN = OLD
    before = cognito.CognitoUserPool()
    monkeypatch.setattr(
        before, "_get_json", lambda url: old_document if url.endswith("/openid-configuration") else old_keys
    )
    assert before.endpoint("token_endpoint").startswith(OLD) and before.signing_key("old-kid")

    # Restarted on the new port with the same database: a whole sign-in uses the new one only.
    settings.COGNITO_IDP_URL, settings.COGNITO_DOMAIN = configured
    with outbound.recording() as calls:
        response = sign_in()
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/me/"
    assert calls and not [call.url for call in calls if call.url.startswith(f"{OLD}/")]
    assert cognito.user_pool().endpoint("token_endpoint") == served["token_endpoint"]
