"""The checks S3 makes before an operation runs, in order: who signed it (``auth``), whether the
POST policy holds (``postpolicy``), which IAM actions it needs (``actions``) and whether the
signer's role allows them (``policy``); CORS (``cors``) on the way out. moto's S3 runs the
operation after. The Gate only routes between those modules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from localcloud.identitypool.pool import IdentityPool
from localcloud.s3 import cors, policy
from localcloud.s3.actions import required_actions
from localcloud.s3.auth import Authenticator, Principal
from localcloud.s3.errors import S3Error, access_denied
from localcloud.s3.sigv4 import SigV4Error

__all__ = ["Gate", "S3Error"]


class Gate:
    """Authenticates and authorises S3 requests against the identity pool and the admin key."""

    def __init__(self, identity: IdentityPool, region: str, admin_key: str, admin_secret: str) -> None:
        """Bind to the identity pool (credentials, role policies) and the admin key pair."""
        self.identity = identity
        self.auth = Authenticator(identity, region, admin_key, admin_secret)

    def authorize(self, principal: Principal, request: Request, body: bytes, form: dict[str, str]) -> None:
        """AccessDenied unless the principal may perform every action the request needs."""
        if principal.kind == "admin":
            return
        if principal.credentials is None:
            raise access_denied()
        needs = required_actions(request, body, form)
        if needs is None:
            raise access_denied()
        document = self.identity.policy_for(principal.credentials.kind)
        variables = {
            "cognito-identity.amazonaws.com:sub": principal.credentials.identity_id,
            "cognito-identity.amazonaws.com:aud": self.identity.id,
            "cognito-identity.amazonaws.com:amr": principal.credentials.kind,
        }
        for action, resource, context in needs:
            if not policy.evaluate(document, action, resource, context, variables):
                raise access_denied()

    def check(self, request: Request, body: bytes) -> Response | None:
        """None when the request may go on to moto; otherwise S3's error response."""
        now = datetime.now(UTC)
        try:
            principal, form = self.auth.authenticate(request, body, now)
            self.authorize(principal, request, body, form)
        except (S3Error, SigV4Error) as exc:
            error = exc if isinstance(exc, S3Error) else S3Error(exc.code, exc.message, exc.status)
            return error.response(request.path)
        return None

    def preflight(self, request: Request) -> Response:
        """An OPTIONS preflight, answered from the bucket's CORS rules."""
        return cors.preflight(request)

    def apply_cors(self, request: Request, response: Response) -> Response:
        """The bucket rule's CORS headers instead of moto's blanket ones."""
        return cors.apply_cors(request, response)
