"""The checks S3 makes before an operation runs, in order: who signed it (``auth``), whether the
POST policy holds (``postpolicy``), which IAM actions it needs (``actions``) and whether the
signer's role allows them (``policy``); CORS (``cors``) on the way out. moto's S3 runs the
operation after. The Gate only routes between those modules.
"""

from __future__ import annotations

from datetime import datetime

from werkzeug.wrappers import Request, Response

from localcloud.identitypool.pool import IdentityPool
from localcloud.s3 import cors, policy
from localcloud.s3.actions import (
    check_xml_body,
    delete_objects,
    needs_body,
    required_actions,
    wrong_case_subresource,
    xml_body,
)
from localcloud.s3.auth import ANONYMOUS, Authenticator, PayloadCheck, Principal
from localcloud.s3.errors import S3Error, access_denied
from localcloud.s3.sigv4 import SigV4Error

__all__ = ["Gate", "S3Error", "as_s3_error"]

# Bodies are held in memory (moto keeps objects there anyway) once the request is authorised;
# larger uploads must use multipart, as the README says.
MAX_BODY = 100 * 1024 * 1024
# A DeleteObjects body is read before it can be authorised: 1000 keys of up to 1 KiB, plus XML.
MAX_DELETE_BODY = 2 * 1024 * 1024


def as_s3_error(exc: S3Error | SigV4Error) -> S3Error:
    """S3's error for a refusal from any of the check modules."""
    return exc if isinstance(exc, S3Error) else S3Error(exc.code, exc.message, exc.status)


class Gate:
    """Authenticates and authorises S3 requests against the identity pool and the admin key."""

    def __init__(self, identity: IdentityPool, region: str, admin_key: str, admin_secret: str) -> None:
        """Bind to the identity pool (credentials, role policies) and the admin key pair."""
        self.identity = identity
        self.auth = Authenticator(identity, region, admin_key, admin_secret)

    @staticmethod
    def body_limit(request: Request) -> int:
        """The largest body the request may have."""
        return MAX_DELETE_BODY if needs_body(request) else MAX_BODY

    def authorize(self, principal: Principal, request: Request, body: bytes, form: dict[str, str]) -> None:
        """AccessDenied unless the principal may perform every action the request needs."""
        if principal.kind == "admin":
            return
        if principal.credentials is None:
            raise access_denied()
        needs = required_actions(request, body, form)
        if needs is None:
            raise access_denied()
        # The policy of the role the credentials were issued for (role mappings may pick another).
        document = self.identity.policy_of(principal.credentials.role_arn)
        variables = {
            "cognito-identity.amazonaws.com:sub": principal.credentials.identity_id,
            "cognito-identity.amazonaws.com:aud": self.identity.id,
            "cognito-identity.amazonaws.com:amr": principal.credentials.kind,
        }
        for action, resource, context in needs:
            if not policy.evaluate(document, action, resource, context, variables):
                raise access_denied()

    # The three steps of a request; each raises S3Error (or SigV4Error) to refuse it.
    def check_head(self, request: Request, now: datetime) -> tuple[Principal, PayloadCheck]:
        """Authenticate and, unless the body names what to act on, authorise: before any body is read."""
        principal, payload = self.auth.authenticate(request, now)
        wrong = wrong_case_subresource(request)
        if wrong is not None:  # S3's parameters are case-sensitive; moto's routing is not
            raise S3Error(
                "InvalidArgument", f"Unknown sub-resource {wrong!r}: S3 parameters are case-sensitive.", 400
            )
        if principal is ANONYMOUS or not needs_body(request):
            self.authorize(principal, request, b"", {})
        return principal, payload

    def check_body(self, principal: Principal, payload: PayloadCheck, request: Request, body: bytes) -> None:
        """The body against the signed payload hash, then the actions it names (DeleteObjects)."""
        payload(body)
        if needs_body(request):
            # Every DeleteObjects body, the admin's too: moto parses it next (entities, depth).
            delete_objects(body)
            self.authorize(principal, request, body, {})
        elif xml_body(request):
            check_xml_body(body)  # every other XML body moto parses, the admin's too

    def check_form(self, request: Request, now: datetime) -> None:
        """A browser POST upload, over a request whose body has been spooled."""
        principal, form = self.auth.authenticate_form(request, now)
        self.authorize(principal, request, b"", form)

    @staticmethod
    def is_form_post(request: Request) -> bool:
        """Whether the request is a browser POST upload (use check_form, after spooling the body)."""
        return Authenticator.is_form_post(request)

    def preflight(self, request: Request) -> Response:
        """An OPTIONS preflight, answered from the bucket's CORS rules."""
        return cors.preflight(request)

    def apply_cors(self, request: Request, response: Response) -> Response:
        """The bucket rule's CORS headers instead of moto's blanket ones."""
        return cors.apply_cors(request, response)
