"""S3's error responses: one exception carrying S3's code, message, HTTP status and extra elements."""

from __future__ import annotations

import html
import uuid

from werkzeug.wrappers import Response

SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided."
V2_REFUSED = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."


class S3Error(Exception):
    """An S3 error response: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 403, **extra: str) -> None:
        """Keep S3's error code, message, status and extra elements."""
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra

    def response(self, resource: str = "") -> Response:
        """S3's XML error document."""
        parts = [f"<Code>{html.escape(self.code)}</Code>", f"<Message>{html.escape(self.message)}</Message>"]
        parts += [f"<{k}>{html.escape(v)}</{k}>" for k, v in self.extra.items()]
        if resource:
            parts.append(f"<Resource>{html.escape(resource)}</Resource>")
        request_id = uuid.uuid4().hex[:16].upper()
        parts.append(f"<RequestId>{request_id}</RequestId><HostId>localcloud</HostId>")
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
        return Response(
            body, status=self.status, content_type="application/xml", headers={"x-amz-request-id": request_id}
        )


def access_denied(message: str = "Access Denied") -> S3Error:
    """403 AccessDenied."""
    return S3Error("AccessDenied", message)


def signature_mismatch() -> S3Error:
    """403 SignatureDoesNotMatch."""
    return S3Error("SignatureDoesNotMatch", SIGNATURE_MISMATCH)


def internal_error() -> S3Error:
    """500 InternalError (a bug; details go to the log, never to the client)."""
    return S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
