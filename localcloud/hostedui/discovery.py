"""OIDC discovery document and JWKS of a pool (served at the local base URL)."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from localcloud.userpool.models import LocalUserPool


def base_url(request: Request) -> str:
    """The stack's base URL as the client reached it (works on any port)."""
    return f"{request.scheme}://{request.host}"


def openid_configuration(request: Request, pool: LocalUserPool) -> Response:
    """Cognito's discovery document; issuer is AWS's string, endpoints are local."""
    base = base_url(request)
    doc = {
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "end_session_endpoint": f"{base}/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": pool.issuer,
        "jwks_uri": f"{base}/{pool.id}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint": f"{base}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": f"{base}/oauth2/userInfo",
    }
    return Response(json.dumps(doc), content_type="application/json;charset=UTF-8")


def jwks(pool: LocalUserPool) -> Response:
    """The pool's public keys (current and still-valid retired ones)."""
    keystore = pool.keystore
    if keystore is None:
        raise RuntimeError("LocalUserPool.keystore not configured")
    return Response(json.dumps(keystore.jwks()), content_type="application/json;charset=UTF-8")
