"""IAM for the Cognito APIs: the operator's credentials and SigV4 on every call AWS signs.

On AWS every ``Admin*``, group, pool, client, identity-provider and identity-pool management
operation needs a SigV4 signature by an IAM principal allowed to call it; only the public and
token-authorised calls are unsigned (``"authtype": "none"`` in the botocore service models).
localcloud has one IAM principal, the operator, whose keys are random per data dir
(``operator.json``, 0600) and written to ``app.env`` as ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``. Identity-pool credentials are valid AWS principals here (they sign S3
requests) but their roles grant nothing in Cognito, so they get ``AccessDeniedException``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.wrappers import Request, Response

from localcloud.awsjson import error_response
from localcloud.files import write_private
from localcloud.identitypool.pool import Credentials, IdentityPool
from localcloud.s3 import sigv4

logger = logging.getLogger(__name__)

OPERATOR_FILE = "operator.json"
ACCOUNT_ID = "123456789012"
# JSON services accept a request up to 5 minutes away from their clock (S3 allows 15).
MAX_SKEW = 300

# Operations AWS serves without a signature, from the botocore 1.44 service models (operations
# whose "auth" is ["smithy.api#noAuth"]); tests/localcloud/test_iam.py compares them with the model.
UNSIGNED_OPERATIONS: dict[str, frozenset[str]] = {
    "cognito-idp": frozenset(
        {
            "AssociateSoftwareToken",
            "ChangePassword",
            "CompleteWebAuthnRegistration",
            "ConfirmDevice",
            "ConfirmForgotPassword",
            "ConfirmSignUp",
            "DeleteUser",
            "DeleteUserAttributes",
            "DeleteWebAuthnCredential",
            "ForgetDevice",
            "ForgotPassword",
            "GetDevice",
            "GetTokensFromRefreshToken",
            "GetUser",
            "GetUserAttributeVerificationCode",
            "GetUserAuthFactors",
            "GlobalSignOut",
            "InitiateAuth",
            "ListDevices",
            "ListUserSessions",
            "ListWebAuthnCredentials",
            "ResendConfirmationCode",
            "RespondToAuthChallenge",
            "RevokeToken",
            "RevokeUserSession",
            "SetUserMFAPreference",
            "SetUserSettings",
            "SignUp",
            "StartWebAuthnRegistration",
            "UpdateAuthEventFeedback",
            "UpdateDeviceStatus",
            "UpdateUserAttributes",
            "VerifySoftwareToken",
            "VerifyUserAttribute",
        }
    ),  # fmt: skip
    "cognito-identity": frozenset({"GetCredentialsForIdentity", "GetId", "GetOpenIdToken", "UnlinkIdentity"}),
}
_AUTH_HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*"
)


class IamError(Exception):
    """A refused call: AWS's error type and message (always HTTP 400 for these JSON services)."""

    def __init__(self, error_type: str, message: str) -> None:
        """Keep the error type and message."""
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def response(self) -> Response:
        """The JSON 1.1 error response."""
        return error_response(self.error_type, self.message)


def _invalid_token() -> IamError:
    return IamError("UnrecognizedClientException", "The security token included in the request is invalid.")


def _mismatch() -> IamError:
    return IamError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.",
    )


# --- the operator's credentials -------------------------------------------------------------
@dataclass(frozen=True)
class OperatorCredentials:
    """The long-term key pair of localcloud's one IAM principal (full access)."""

    access_key_id: str
    secret_access_key: str

    @property
    def arn(self) -> str:
        """The principal's ARN, as AWS names an IAM user."""
        return f"arn:aws:iam::{ACCOUNT_ID}:user/localcloud-operator"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def operator_credentials(data_dir: Path) -> OperatorCredentials:
    """The data dir's operator keys: created (0600) on first start, loaded afterwards."""
    path = data_dir / OPERATOR_FILE
    if path.exists():
        try:
            data = json.loads(path.read_text())
            return OperatorCredentials(str(data["AccessKeyId"]), str(data["SecretAccessKey"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("%s is unreadable; issuing new operator credentials", path)
    credentials = OperatorCredentials(
        access_key_id="LC" + _random(string.ascii_uppercase + string.digits, 18),
        secret_access_key=_random(string.ascii_letters + string.digits, 40),
    )
    record = {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "CreateDate": datetime.now(UTC).isoformat(),
    }
    write_private(path, json.dumps(record))
    return credentials


# --- request verification ---------------------------------------------------------------------
def _stamp(moment: datetime) -> str:
    return moment.strftime(sigv4.AMZ_DATE_FORMAT)


def _parse_authorization(auth: str) -> tuple[re.Match[str], sigv4.Scope]:
    """The Authorization header's parts and its credential scope; IamError when malformed."""
    if not auth:
        raise IamError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH_HEADER.fullmatch(auth.strip())
    if not match:
        raise IamError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters (AWS4-HMAC-SHA256). Authorization={auth[:64]}",
        )
    try:
        scope = sigv4.parse_credential(match["credential"])
    except sigv4.SigV4Error:
        raise IamError(
            "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements"
        ) from None
    return match, scope


def _check_scope(scope: sigv4.Scope, service: str, amz_date: str) -> None:
    """The credential must be scoped to this service and to the request's date."""
    if scope.service != service:
        raise IamError(
            "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'. "
        )
    if scope.date != amz_date[:8]:
        raise IamError(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{scope.date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )


def _refuse_identity_credentials(credentials: Credentials, now: datetime, action: str) -> None:
    """Identity-pool credentials are refused: expired, or (valid) with no Cognito permission at all."""
    if credentials.expiration <= now.timestamp():
        raise IamError("ExpiredTokenException", "The security token included in the request is expired")
    # Identity-pool roles grant S3 access only: nothing in Cognito.
    role = credentials.role_arn.rsplit("/", 1)[-1]
    arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/CognitoIdentityCredentials"
    raise IamError(
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: {action} "
        f"because no identity-based policy allows the {action} action",
    )


class Authorizer:
    """Decides whether a Cognito API call may run: unsigned operations, or SigV4 by the operator."""

    def __init__(
        self,
        operator: OperatorCredentials,
        identity: IdentityPool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Bind to the operator's keys and the identity pool (whose credentials are principals)."""
        self.operator = operator
        self.identity = identity
        self.clock = clock

    def check(self, request: Request, service: str, operation: str, body: bytes) -> Response | None:
        """None when the call may proceed; otherwise AWS's error response."""
        if operation in UNSIGNED_OPERATIONS.get(service, frozenset()):
            return None
        try:
            self.verify(request, service, operation, body)
        except IamError as exc:
            return exc.response()
        return None

    def verify(self, request: Request, service: str, operation: str, body: bytes) -> None:
        """Check the SigV4 header signature and the principal's permission; IamError otherwise."""
        match, scope = _parse_authorization(request.headers.get("Authorization", ""))
        headers = sigv4.lower_headers(request)
        signed = match["signed"].split(";")
        if "host" not in signed:
            raise IamError(
                "InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization."
            )
        if "x-amz-target" not in signed:
            # The operation is only in this header: unsigned, a signed call could be replayed as another.
            raise IamError(
                "InvalidSignatureException",
                "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
            )
        amz_date = headers.get("x-amz-date", "")
        try:
            moment = sigv4.parse_amz_date(amz_date)
        except sigv4.SigV4Error:
            raise IamError(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ) from None
        secret, credentials = self._secret_for(scope.access_key_id, headers.get("x-amz-security-token"))
        _check_scope(scope, service, amz_date)
        if scope.region != self.identity.region:
            # The stack serves one region (moto would run the call in that region's empty backend).
            raise IamError("InvalidSignatureException", "Credential should be scoped to a valid region.")
        now = self._check_clock(moment, amz_date)
        raw_path, raw_query = sigv4.raw_path_and_query(request)
        try:
            to_sign = sigv4.string_to_sign(
                method=request.method,
                raw_path=raw_path,
                raw_query=raw_query,
                headers=headers,
                signed_headers=signed,
                payload_hash=hashlib.sha256(body).hexdigest(),
                amz_date=amz_date,
                scope=scope,
            )
        except sigv4.SigV4Error:
            raise _mismatch() from None
        expected = sigv4.sign(sigv4.signing_key(secret, scope), to_sign)
        if not hmac.compare_digest(expected, match["signature"]):
            raise _mismatch()
        if credentials is not None:
            _refuse_identity_credentials(credentials, now, f"{service}:{operation}")

    def _check_clock(self, moment: datetime, amz_date: str) -> datetime:
        """Now, if the request was signed within MAX_SKEW of it; IamError otherwise."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        skew = (moment - now).total_seconds()
        if skew < -MAX_SKEW:
            earliest = datetime.fromtimestamp(now.timestamp() - MAX_SKEW, UTC)
            raise IamError(
                "InvalidSignatureException",
                f"Signature expired: {amz_date} is now earlier than {_stamp(earliest)} "
                f"({_stamp(now)} - 5 min.)",
            )
        if skew > MAX_SKEW:
            latest = datetime.fromtimestamp(now.timestamp() + MAX_SKEW, UTC)
            raise IamError(
                "InvalidSignatureException",
                f"Signature not yet current: {amz_date} is still later than {_stamp(latest)} "
                f"({_stamp(now)} + 5 min.)",
            )
        return now

    def _secret_for(self, access_key_id: str, session_token: str | None) -> tuple[str, Credentials | None]:
        """(secret, identity credentials or None) for a key id; UnrecognizedClient when unknown."""
        if hmac.compare_digest(access_key_id.encode(), self.operator.access_key_id.encode()):
            if session_token:
                raise _invalid_token()
            return self.operator.secret_access_key, None
        credentials = self.identity.lookup(access_key_id)
        if credentials is None or not session_token:
            raise _invalid_token()
        if not hmac.compare_digest(session_token.encode(), credentials.session_token.encode()):
            raise _invalid_token()
        return credentials.secret_key, credentials
