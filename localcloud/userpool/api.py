"""The cognito-idp JSON API (``X-Amz-Target: AWSCognitoIdentityProviderService.<Op>``).

Operations where moto is looser than Cognito (codes, SECRET_HASH, WriteAttributes, token checks,
revocation, TOTP) are answered here; everything else is passed to moto's own handler, with the
request's region fixed first: moto routes unsigned calls to us-east-1, so we add a credential scope
naming the pool's region (moto reads the region from it and never checks signatures).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.cognitoidp.models import CognitoIdpUser, UserStatus
from moto.core.exceptions import JsonRESTError
from werkzeug.wrappers import Response

from localcloud import moto_adapter as moto
from localcloud.awsjson import json_response
from localcloud.userpool import backend as bk
from localcloud.userpool import passwordless
from localcloud.userpool import services as sv
from localcloud.userpool.lockout import LOCKOUT
from localcloud.userpool.models import ADMIN_SCOPE, LocalUserPool

TARGET_PREFIX = "AWSCognitoIdentityProviderService."

# A handler returns the response body, or None to let moto answer after its checks passed.
Handler = Callable[[dict[str, Any]], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}
# Operations that change state (a snapshot is written after them).
READ_ONLY = {
    "GetUser", "AdminGetUser", "ListUsers", "ListGroups", "GetGroup", "DescribeUserPool",
    "DescribeUserPoolClient", "ListUserPools", "ListUserPoolClients", "AdminListGroupsForUser",
    "ListUsersInGroup", "GetUserPoolMfaConfig", "DescribeUserPoolDomain", "DescribeIdentityProvider",
    "ListIdentityProviders",
}  # fmt: skip


def op(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for one operation."""

    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


# --- parameter helpers ------------------------------------------------------------------------------
def _str(params: dict[str, Any], name: str, *, required: bool = True) -> str:
    """A string parameter; InvalidParameter (Cognito's validation wording) when wrong."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise InvalidParameterException(
                f"1 validation error detected: Value at '{name[:1].lower() + name[1:]}' failed"
                " to satisfy constraint: Member must not be null"
            )
        return ""
    if not isinstance(value, str) or len(value) > 4096:
        raise InvalidParameterException(f"Invalid type or length for parameter {name}")
    return value


def _dict(params: dict[str, Any], name: str) -> dict[str, Any]:
    """An object parameter (AuthParameters, ChallengeResponses...)."""
    value = params.get(name) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidParameterException(f"{name} must be a map of strings")
    return value


def _client(params: dict[str, Any]) -> tuple[LocalUserPool, Any]:
    """The pool and client named by ClientId."""
    return bk.pool_for_client(_str(params, "ClientId"))


def _client_and_username(params: dict[str, Any]) -> tuple[LocalUserPool, Any, str]:
    """Pool, client and Username of an unauthenticated user call, SECRET_HASH checked."""
    pool, client = _client(params)
    username = _str(params, "Username")
    sv.check_secret_hash(client, [username], params.get("SecretHash"))
    return pool, client, username


def _token_user(params: dict[str, Any]) -> tuple[LocalUserPool, CognitoIdpUser, dict[str, Any]]:
    """The pool, user and claims of a valid AccessToken with the admin scope."""
    pool, claims = bk.verify_access_token(_str(params, "AccessToken"), required_scope=ADMIN_SCOPE)
    return pool, pool.user(claims["username"]), claims


def _names(user: CognitoIdpUser) -> list[str]:
    """Names a SECRET_HASH may be computed over: the username or its email alias."""
    return [user.username, str(user.attribute_lookup.get("email", ""))]


def _user_json(pool: LocalUserPool, user: CognitoIdpUser, client_id: str | None) -> dict[str, Any]:
    """GetUser's shape: attributes readable by the token's client."""
    readable = set(pool.clients[client_id].get_readable_fields()) if client_id in pool.clients else set()
    attrs = [a for a in user.attributes if a["Name"] == "sub" or not readable or a["Name"] in readable]
    mfa = ["SOFTWARE_TOKEN_MFA"] if user.software_token_mfa_enabled else []
    result: dict[str, Any] = {"Username": user.username, "UserAttributes": attrs}
    if mfa:
        result["UserMFASettingList"] = mfa
        result["PreferredMfaSetting"] = user.preferred_mfa_setting or "SOFTWARE_TOKEN_MFA"
    return result


# --- sign-up and codes ---------------------------------------------------------------------------------
@op("SignUp")
def sign_up(params: dict[str, Any]) -> dict[str, Any]:
    """SignUp with code delivery to the outbox and SECRET_HASH checked."""
    pool, client, username = _client_and_username(params)
    attrs = sv.parse_attributes(pool, params.get("UserAttributes"))
    user, delivery = sv.sign_up(pool, client, username, _str(params, "Password"), attrs)
    return {"UserConfirmed": False, "UserSub": user.id, "CodeDeliveryDetails": delivery}


@op("ConfirmSignUp")
def confirm_sign_up(params: dict[str, Any]) -> dict[str, Any]:
    """ConfirmSignUp, checking the code (moto accepts any)."""
    pool, client, username = _client_and_username(params)
    code = _str(params, "ConfirmationCode")
    sv.confirm_sign_up(pool, username, code, hide_existence=sv.hides_existence(client))
    return {}


@op("ResendConfirmationCode")
def resend_confirmation_code(params: dict[str, Any]) -> dict[str, Any]:
    """ResendConfirmationCode (not in moto)."""
    pool, client, username = _client_and_username(params)
    return {"CodeDeliveryDetails": sv.resend_code(pool, username, hide_existence=sv.hides_existence(client))}


@op("ForgotPassword")
def forgot_password(params: dict[str, Any]) -> dict[str, Any]:
    """ForgotPassword with a real code in the outbox."""
    pool, client, username = _client_and_username(params)
    delivery = sv.forgot_password(pool, username, hide_existence=sv.hides_existence(client))
    return {"CodeDeliveryDetails": delivery}


@op("ConfirmForgotPassword")
def confirm_forgot_password(params: dict[str, Any]) -> dict[str, Any]:
    """ConfirmForgotPassword checking code and password policy."""
    pool, _, username = _client_and_username(params)
    sv.confirm_forgot_password(pool, username, _str(params, "ConfirmationCode"), _str(params, "Password"))
    return {}


# --- authentication ------------------------------------------------------------------------------------
def _password_auth(pool: LocalUserPool, client: Any, auth: dict[str, str]) -> dict[str, Any]:
    """Username/password sign-in with challenges, shared by InitiateAuth and AdminInitiateAuth."""
    username = auth.get("USERNAME", "")
    if not username:
        raise InvalidParameterException("Missing required parameter USERNAME")
    sv.check_secret_hash(client, [username], auth.get("SECRET_HASH"))
    user = sv.authenticate(pool, username, auth.get("PASSWORD"))
    return _after_first_factor(pool, client, user)


def _after_first_factor(pool: LocalUserPool, client: Any, user: CognitoIdpUser) -> dict[str, Any]:
    """Tokens, or the next challenge with a session."""
    challenge = sv.next_challenge(pool, user)
    if challenge is None:
        return {"ChallengeParameters": {}, "AuthenticationResult": sv.issue_tokens(pool, client, user)}
    session = sv.start_challenge(pool, client.id, user, challenge)
    params: dict[str, str] = {"USER_ID_FOR_SRP": user.username}
    if challenge == "NEW_PASSWORD_REQUIRED":
        attrs = {k: v for k, v in user.attribute_lookup.items() if k not in ("sub", "email_verified")}
        params.update({"userAttributes": json.dumps(attrs), "requiredAttributes": "[]"})
    if challenge == "MFA_SETUP":
        params["MFAS_CAN_SETUP"] = '["SOFTWARE_TOKEN_MFA"]'
    return {"ChallengeName": challenge, "Session": session, "ChallengeParameters": params}


def _refresh_auth(pool: LocalUserPool, client: Any, auth: dict[str, str]) -> dict[str, Any]:
    """REFRESH_TOKEN_AUTH: new access and ID tokens, no new refresh token."""
    token = auth.get("REFRESH_TOKEN", "")
    if not token:
        raise InvalidParameterException("Missing required parameter REFRESH_TOKEN")
    entry = moto.refresh_entry(pool, token)
    if entry is not None and entry.client_id != client.id:
        raise NotAuthorizedError("Invalid Refresh Token")
    _, origin = pool.refresh_origin(token)
    user = pool.user(origin.username)
    if client.generate_secret:
        sv.check_secret_hash(client, _names(user), auth.get("SECRET_HASH"))
    access, id_token, expires_in = pool.create_tokens_from_refresh_token(token)
    result = {"AccessToken": access, "ExpiresIn": expires_in, "TokenType": "Bearer", "IdToken": id_token}
    return {"ChallengeParameters": {}, "AuthenticationResult": result}


def _initiate(params: dict[str, Any], admin: bool) -> dict[str, Any]:
    """InitiateAuth / AdminInitiateAuth."""
    pool, client = _client(params)
    if admin and _str(params, "UserPoolId") != pool.id:
        raise ResourceNotFoundError("User pool client does not exist in this pool.")
    flow = _str(params, "AuthFlow")
    auth = _dict(params, "AuthParameters")
    password_flows = {"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"} if admin else {"USER_PASSWORD_AUTH"}
    if flow in password_flows:
        sv.check_auth_flow(client, flow)
        return _password_auth(pool, client, auth)
    if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        sv.check_auth_flow(client, flow)
        return _refresh_auth(pool, client, auth)
    if flow == "USER_AUTH":
        return passwordless.initiate(pool, client, auth, _after_first_factor)
    if flow in ("USER_SRP_AUTH", "CUSTOM_AUTH"):
        # moto "verifies" SRP without the password; refusing is safer than a fake success.
        raise InvalidParameterException(f"{flow} is not supported by localcloud; use USER_PASSWORD_AUTH")
    raise InvalidParameterException(
        f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint"
    )


@op("InitiateAuth")
def initiate_auth(params: dict[str, Any]) -> dict[str, Any]:
    """InitiateAuth (unsigned)."""
    return _initiate(params, admin=False)


@op("AdminInitiateAuth")
def admin_initiate_auth(params: dict[str, Any]) -> dict[str, Any]:
    """AdminInitiateAuth."""
    return _initiate(params, admin=True)


def _session_user(pool: LocalUserPool, challenge: sv.Challenge, given: object) -> CognitoIdpUser:
    """The user of a password sign-in's challenge; ChallengeResponses.USERNAME must name them.

    A Session is bound to the client it was issued to (get_challenge) and to its user: another
    user's name (or e-mail) with it is Cognito's "Invalid session for the user."
    """
    if not isinstance(given, str) or not given:
        raise InvalidParameterException("Missing required parameter USERNAME")
    user = pool.user(challenge.username)
    if given != user.username and sv.find_user(pool, given) is not user:
        raise NotAuthorizedError("Invalid session for the user.")
    return user


def _respond(params: dict[str, Any], admin: bool) -> dict[str, Any]:
    """RespondToAuthChallenge / AdminRespondToAuthChallenge."""
    pool, client = _client(params)
    if admin and _str(params, "UserPoolId") != pool.id:
        raise ResourceNotFoundError("User pool client does not exist in this pool.")
    name = _str(params, "ChallengeName")
    responses = _dict(params, "ChallengeResponses")
    session = _str(params, "Session")
    challenge = sv.get_challenge(session, client.id)
    if challenge.name in passwordless.CHALLENGES:
        return passwordless.respond(pool, client, name, session, challenge, responses, _after_first_factor)
    user = _session_user(pool, challenge, responses.get("USERNAME"))
    sv.check_secret_hash(client, _names(user), responses.get("SECRET_HASH"))
    if name != challenge.name:
        raise InvalidParameterException(f"Unexpected challenge {name}; expected {challenge.name}")
    if name == "NEW_PASSWORD_REQUIRED":
        sv.set_new_password(pool, user, responses.get("NEW_PASSWORD"))
    elif name == "SOFTWARE_TOKEN_MFA":
        sv.check_challenge_code(
            session, challenge, user, sv.check_totp, responses.get("SOFTWARE_TOKEN_MFA_CODE")
        )
        sv.end_challenge(session, spent=True)
        return {"ChallengeParameters": {}, "AuthenticationResult": sv.issue_tokens(pool, client, user)}
    elif name == "MFA_SETUP":
        # A secret verified in THIS challenge, not one left over from an earlier enrolment.
        if not challenge.data.get("totp_verified"):
            raise InvalidParameterException("Software token MFA has not been verified for the user")
        user.software_token_mfa_enabled = True
        sv.end_challenge(session, spent=True)
        return {"ChallengeParameters": {}, "AuthenticationResult": sv.issue_tokens(pool, client, user)}
    else:
        raise InvalidParameterException(f"Challenge {name} is not supported by localcloud")
    sv.end_challenge(session, spent=True)
    return _after_first_factor(pool, client, user)


@op("RespondToAuthChallenge")
def respond_to_auth_challenge(params: dict[str, Any]) -> dict[str, Any]:
    """RespondToAuthChallenge (unsigned)."""
    return _respond(params, admin=False)


@op("AdminRespondToAuthChallenge")
def admin_respond_to_auth_challenge(params: dict[str, Any]) -> dict[str, Any]:
    """AdminRespondToAuthChallenge."""
    return _respond(params, admin=True)


# --- calls with the user's access token ------------------------------------------------------------------
@op("GetUser")
def get_user(params: dict[str, Any]) -> dict[str, Any]:
    """GetUser: refuses revoked, expired and foreign tokens."""
    pool, user, claims = _token_user(params)
    return _user_json(pool, user, claims.get("client_id"))


def _verify_before_update(pool: LocalUserPool) -> set[str]:
    """Attributes whose new value waits for its code (UserAttributeUpdateSettings)."""
    settings = pool.extended_config.get("UserAttributeUpdateSettings") or {}
    return set(settings.get("AttributesRequireVerificationBeforeUpdate") or ())


def _send_email_code(user: CognitoIdpUser, address: str) -> dict[str, str]:
    """A fresh email-verification code to `address` (which may be a pending one)."""
    code = sv._new_code(user, "verify_email", sv.CODE_LIFETIME)
    sv.outbox.send(
        recipient=address, subject="Your verification code",
        body=f"Your verification code is {code}", code=code, kind="verify_email",
    )  # fmt: skip
    return {"Destination": sv.mask(address), "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _change_email(pool: LocalUserPool, user: CognitoIdpUser, email: str) -> dict[str, str] | None:
    """A new email in an update: pending until verified, or changed at once and unverified.

    With `email` in AttributesRequireVerificationBeforeUpdate the stored address (and with it
    sign-in and the tokens) stays as it was until VerifyUserAttribute; without it the address
    changes now with `email_verified: "false"`. Returns the code's delivery details, or None
    when nothing changes (an update back to the current address cancels a pending one).
    """
    state = pool.user_state(user)
    if email == user.attribute_lookup.get("email"):
        state.pending_email = None  # back to the address in use: nothing waits (unconfirmed on AWS)
        return None
    if sv.find_user(pool, email) is not None:
        raise sv.error("AliasExistsException", "An account with the given email already exists.")
    if "email" in _verify_before_update(pool):
        state.pending_email = email
    else:
        state.pending_email = None
        user.update_attributes(
            [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}]
        )
    return _send_email_code(user, email)


@op("UpdateUserAttributes")
def update_user_attributes(params: dict[str, Any]) -> dict[str, Any]:
    """UpdateUserAttributes limited to the client's WriteAttributes; email changes need a code."""
    pool, user, claims = _token_user(params)
    attrs = _updatable(pool, params)
    if not attrs:
        raise InvalidParameterException("UserAttributes must not be empty")
    sv.check_writable(pool.clients[claims["client_id"]], set(attrs))
    result: dict[str, Any] = {}
    email = attrs.pop("email", None)
    if email:
        attrs.pop("email_verified", None)  # verification is the code's business, not the caller's
        delivery = _change_email(pool, user, email)
        if delivery is not None:
            result["CodeDeliveryDetailsList"] = [delivery]
    if attrs:
        user.update_attributes([{"Name": k, "Value": v} for k, v in attrs.items()])
    return result


def _email_attribute(params: dict[str, Any]) -> None:
    if _str(params, "AttributeName") != "email":
        raise InvalidParameterException("Only email verification is emulated")


@op("GetUserAttributeVerificationCode")
def get_user_attribute_verification_code(params: dict[str, Any]) -> dict[str, Any]:
    """A new code for the pending address if there is one, else for the address in use."""
    pool, user, _ = _token_user(params)
    _email_attribute(params)
    address = pool.user_state(user).pending_email or sv.user_email(user)
    return {"CodeDeliveryDetails": _send_email_code(user, address)}


@op("VerifyUserAttribute")
def verify_user_attribute(params: dict[str, Any]) -> dict[str, Any]:
    """VerifyUserAttribute for email: applies a pending address, or marks the current one verified."""
    pool, user, _ = _token_user(params)
    _email_attribute(params)
    sv._check_code(user, "verify_email", _str(params, "Code"))
    state = pool.user_state(user)
    pending, state.pending_email = state.pending_email, None
    if pending:
        other = sv.find_user(pool, pending)
        if other is not None and other is not user:  # taken by someone else meanwhile
            raise sv.error("AliasExistsException", "An account with the given email already exists.")
        user.update_attributes([{"Name": "email", "Value": pending}])
    user.update_attributes([{"Name": "email_verified", "Value": "true"}])
    return {}


def _check_kept(pool: LocalUserPool, name: str, what: str) -> None:
    """Refuse to delete or empty an attribute that is required (schema) or used to sign in."""
    config = pool.extended_config
    sign_in = {*(config.get("UsernameAttributes") or ()), *(config.get("AliasAttributes") or ())}
    attribute = pool.schema_attributes.get(name)
    if name == "sub" or (attribute is not None and attribute.required):
        raise InvalidParameterException(f"user.{name}: Required attribute cannot be {what}.")
    if name in sign_in:
        raise InvalidParameterException(f"user.{name}: An attribute used to sign in cannot be {what}.")


def _deletable_names(pool: LocalUserPool, params: dict[str, Any]) -> list[str]:
    """UserAttributeNames, refused when one is required (schema) or used to sign in (as Cognito does)."""
    names = params.get("UserAttributeNames")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise InvalidParameterException("UserAttributeNames must be a list of strings")
    for name in names:
        _check_kept(pool, name, "deleted")
    return names


def _updatable(pool: LocalUserPool, params: dict[str, Any]) -> dict[str, str]:
    """UserAttributes of an update: never sub, no required or sign-in attribute emptied, a plausible
    email, verified flags "true" or "false"."""
    attrs = sv.parse_attributes(pool, params.get("UserAttributes"))
    if "sub" in attrs:  # users are found by sub: one must never take another's
        raise InvalidParameterException("user.sub: Attribute cannot be updated.")
    for name, value in attrs.items():
        if not value.strip():
            _check_kept(pool, name, "empty")
    if "email" in attrs and attrs["email"] and not sv.valid_email(attrs["email"]):
        raise InvalidParameterException("Invalid email address format.")
    for flag in ("email_verified", "phone_number_verified"):
        if flag in attrs and attrs[flag] not in ("true", "false"):
            raise InvalidParameterException(f"user.{flag}: Value must be 'true' or 'false'.")
    return attrs


@op("DeleteUserAttributes")
def delete_user_attributes(params: dict[str, Any]) -> dict[str, Any]:
    """DeleteUserAttributes limited to the client's WriteAttributes; never a required attribute."""
    pool, user, claims = _token_user(params)
    names = _deletable_names(pool, params)
    sv.check_writable(pool.clients[claims["client_id"]], set(names))
    user.delete_attributes(names)
    return {}


@op("ChangePassword")
def change_password(params: dict[str, Any]) -> dict[str, Any]:
    """ChangePassword: previous password (attempt-limited) and policy checked.

    Wrong previous passwords count toward the user's sign-in lockout (one count per user, so
    neither path resets the other's); while it holds, the answer is Cognito's
    LimitExceededException ("Attempt limit exceeded, please try after some time."), the right
    password included. A right one does not reset the count: only a completed sign-in does.
    """
    pool, user, _ = _token_user(params)
    previous = _str(params, "PreviousPassword")
    key = (pool.id, user.username)
    try:
        LOCKOUT.check(key)
    except NotAuthorizedError as exc:
        raise sv.error(
            "LimitExceededException", "Attempt limit exceeded, please try after some time."
        ) from exc
    if not hmac.compare_digest(
        (user.password or "").encode("utf-8", "surrogatepass"), previous.encode("utf-8", "surrogatepass")
    ):
        LOCKOUT.failed(key)
        raise NotAuthorizedError("Incorrect username or password.")
    user.password = sv.check_password(pool, _str(params, "ProposedPassword"))
    sv.end_user_challenges(pool, user)
    return {}


@op("GlobalSignOut")
def global_sign_out(params: dict[str, Any]) -> dict[str, Any]:
    """GlobalSignOut in the token's own region."""
    pool, user, _ = _token_user(params)
    pool.sign_out(user.username)
    return {}


@op("DeleteUser")
def delete_user(params: dict[str, Any]) -> dict[str, Any]:
    """DeleteUser."""
    pool, user, _ = _token_user(params)
    pool.sign_out(user.username)
    _delete(pool, user)
    return {}


def _delete(pool: LocalUserPool, user: CognitoIdpUser) -> None:
    """Remove a user from the pool, its groups and the lockout store."""
    for group in list(user.groups):
        group.users.discard(user)
    del pool.users[user.username]
    LOCKOUT.forget((pool.id, user.username))
    # Identities linked to the user go with it.
    for key in [k for k, v in pool.provider_links.items() if v == user.username]:
        del pool.provider_links[key]


@op("RevokeToken")
def revoke_token(params: dict[str, Any]) -> dict[str, Any]:
    """RevokeToken: a refresh token and its access tokens (moto's version is a no-op)."""
    pool, client = _client(params)
    token = _str(params, "Token")
    if client.generate_secret and params.get("ClientSecret") != client.secret:
        raise NotAuthorizedError("Client secret is missing or invalid.")
    if token.count(".") == 2 and not token.startswith("lc."):
        raise sv.error("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
    entry = moto.refresh_entry(pool, token)
    if entry is not None:
        if entry.client_id != client.id:
            raise NotAuthorizedError("Token was not issued to this client.")
        pool.revoke_origin(entry.origin_jti)
    return {}


def _challenge_pool(pool_id: str) -> LocalUserPool:
    """The pool of a pending challenge (it may have been deleted meanwhile)."""
    pool = bk.pool_by_id(pool_id)
    if pool is None:
        raise NotAuthorizedError("Invalid session for the user.")
    return pool


def _setup_challenge(session: object) -> tuple[sv.Challenge, CognitoIdpUser]:
    """The MFA_SETUP challenge of a Session, and its user.

    Only that challenge may register a secret: a Session from any other step (a SOFTWARE_TOKEN_MFA
    prompt after the password) would let whoever knows the password replace the user's TOTP.
    """
    challenge = sv.get_challenge(session)
    if challenge.name != "MFA_SETUP":
        raise NotAuthorizedError("Invalid session for the user.")
    pool = _challenge_pool(challenge.pool_id)
    return challenge, pool.user(challenge.username)


@op("AssociateSoftwareToken")
def associate_software_token(params: dict[str, Any]) -> dict[str, Any]:
    """AssociateSoftwareToken with a per-user secret (moto hands everyone the same one).

    With a Session (MFA_SETUP): a new Session answers, the one given is dead (sv.renew_challenge).
    """
    if params.get("Session"):
        challenge, user = _setup_challenge(params["Session"])
        sv.check_totp_available(_challenge_pool(challenge.pool_id))
        challenge.data.pop("totp_verified", None)
        secret = sv.new_totp_secret(user)
        return {"SecretCode": secret, "Session": sv.renew_challenge(params["Session"], challenge)}
    pool, user, _ = _token_user(params)
    sv.check_totp_available(pool)
    return {"SecretCode": sv.new_totp_secret(user)}


@op("VerifySoftwareToken")
def verify_software_token(params: dict[str, Any]) -> dict[str, Any]:
    """VerifySoftwareToken against the user's pending secret; with a Session, a new one answers."""
    code = _str(params, "UserCode")
    if params.get("Session"):
        challenge, user = _setup_challenge(params["Session"])
        sv.check_challenge_code(params["Session"], challenge, user, sv.verify_new_totp, code)
        challenge.data["totp_verified"] = True
        return {"Status": "SUCCESS", "Session": sv.renew_challenge(params["Session"], challenge)}
    _, user, _ = _token_user(params)
    sv.verify_new_totp(user, code)
    return {"Status": "SUCCESS"}


@op("SetUserMFAPreference")
def set_user_mfa_preference(params: dict[str, Any]) -> dict[str, Any]:
    """SetUserMFAPreference for TOTP."""
    _, user, _ = _token_user(params)
    sv.set_mfa_preference(user, params.get("SoftwareTokenMfaSettings"))
    return {}


# --- admin calls where moto is looser -----------------------------------------------------------------------
def _admin_pool(params: dict[str, Any]) -> LocalUserPool:
    """The pool named by UserPoolId."""
    pool = bk.pool_by_id(_str(params, "UserPoolId"))
    if pool is None:
        raise ResourceNotFoundError(f"User pool {params.get('UserPoolId')} does not exist.")
    return pool


def _admin_user(params: dict[str, Any]) -> tuple[LocalUserPool, CognitoIdpUser]:
    """The pool and user of an admin call."""
    pool = _admin_pool(params)
    user = sv.find_user(pool, _str(params, "Username"))
    if user is None:
        raise UserNotFoundError("User does not exist.")
    return pool, user


def _new_temporary_password() -> str:
    return "Tmp-" + sv.secrets.token_urlsafe(6) + "1a!"


def _resend_invitation(pool: LocalUserPool, user: CognitoIdpUser | None) -> CognitoIdpUser:
    """MessageAction=RESEND: only for an invitation not yet accepted, as AWS allows it."""
    if user is None:
        raise UserNotFoundError("User does not exist.")
    if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
        raise sv.error(
            "UnsupportedUserStateException",
            f"Resend not possible. {user.username} status is not FORCE_CHANGE_PASSWORD.",
        )
    return user


@op("AdminCreateUser")
def admin_create_user(params: dict[str, Any]) -> dict[str, Any]:
    """AdminCreateUser: temporary password generated and 'sent' when not given."""
    pool = _admin_pool(params)
    username = _str(params, "Username")
    attrs = sv.parse_attributes(pool, params.get("UserAttributes"))
    action = params.get("MessageAction")
    temp = params.get("TemporaryPassword") or None
    existing = sv.find_user(pool, username)
    if action == "RESEND":
        user = _resend_invitation(pool, existing)
        if temp is None:
            temp = _new_temporary_password()
        sv.check_password(pool, temp)
        # A new temporary password: the one e-mailed before no longer signs in (as on AWS).
        user.password = temp
        sv.end_user_challenges(pool, user)
    else:
        if existing is not None:
            raise sv.error("UsernameExistsException", "An account with the given email already exists.")
        if not sv.valid_email(username):
            raise InvalidParameterException("Username should be an email.")
        if temp is None:
            temp = _new_temporary_password()
        sv.check_password(pool, temp)
        attrs["email"] = username
        user = CognitoIdpUser(
            pool.id, None, temp, UserStatus.FORCE_CHANGE_PASSWORD,
            [{"Name": k, "Value": v} for k, v in attrs.items()],
        )  # fmt: skip
        pool.users[user.username] = user
    if temp and action != "SUPPRESS":
        sv.send_temporary_password(user, temp)
    pool.user_state(user).temporary_password_expires = time.time() + 7 * 86400
    return {"User": user.to_json(extended=True)}


@op("AdminResetUserPassword")
def admin_reset_user_password(params: dict[str, Any]) -> dict[str, Any]:
    """AdminResetUserPassword: RESET_REQUIRED and a reset code in the outbox."""
    _, user = _admin_user(params)
    if not user.enabled:
        raise NotAuthorizedError("User is disabled")
    # As AWS (and moto): only a confirmed user with somewhere to send the code. An invited user
    # who never chose a password (FORCE_CHANGE_PASSWORD) gets a new invitation instead.
    if user.status not in (UserStatus.CONFIRMED, UserStatus.RESET_REQUIRED):
        raise NotAuthorizedError("User password cannot be reset in the current state.")
    if (
        user.attribute_lookup.get("email_verified") != "true"
        and user.attribute_lookup.get("phone_number_verified") != "true"
    ):
        raise InvalidParameterException(
            "Cannot reset password for the user as there is no registered/verified email or phone_number"
        )
    # Its pending sign-in steps are not ended here: each is answered PasswordResetRequiredException
    # (and used up) from now on, and none can be NEW_PASSWORD_REQUIRED (refused above unless CONFIRMED).
    user.status = UserStatus.RESET_REQUIRED
    code = sv._new_code(user, "reset", sv.RESET_CODE_LIFETIME)
    sv.outbox.send(
        recipient=sv.user_email(user), subject="Your password reset code",
        body=f"Your password reset code is {code}", code=code, kind="admin_reset",
    )  # fmt: skip
    return {}


@op("AdminUpdateUserAttributes")
def admin_update_user_attributes(params: dict[str, Any]) -> dict[str, Any]:
    """AdminUpdateUserAttributes with schema validation (admins may write any attribute)."""
    pool, user = _admin_user(params)
    attrs = _updatable(pool, params)
    email = attrs.get("email")
    if email and email != user.attribute_lookup.get("email") and sv.find_user(pool, email):
        raise sv.error("AliasExistsException", "An account with the given email already exists.")
    user.update_attributes([{"Name": k, "Value": v} for k, v in attrs.items()])
    return {}


@op("AdminDeleteUser")
def admin_delete_user(params: dict[str, Any]) -> dict[str, Any]:
    """AdminDeleteUser (as moto's, and its lockout record goes too)."""
    pool, user = _admin_user(params)
    _delete(pool, user)
    return {}


@op("AdminDeleteUserAttributes")
def admin_delete_user_attributes(params: dict[str, Any]) -> dict[str, Any]:
    """AdminDeleteUserAttributes; never a required or sign-in attribute (moto deletes anything)."""
    pool, user = _admin_user(params)
    user.delete_attributes(_deletable_names(pool, params))
    return {}


@op("AdminSetUserPassword")
def admin_set_user_password(params: dict[str, Any]) -> dict[str, Any]:
    """AdminSetUserPassword with Cognito's policy messages."""
    pool, user = _admin_user(params)
    user.password = sv.check_password(pool, _str(params, "Password"))
    user.status = UserStatus.CONFIRMED if params.get("Permanent") else UserStatus.FORCE_CHANGE_PASSWORD
    sv.end_user_challenges(pool, user)
    return {}


@op("AdminDisableUser")
def admin_disable_user(params: dict[str, Any]) -> dict[str, Any]:
    """AdminDisableUser: Enabled false and, as on AWS, every access and refresh token revoked
    (moto only flips Enabled). AdminEnableUser does not bring them back: a new sign-in does."""
    pool, user = _admin_user(params)
    user.enabled = False
    pool.sign_out(user.username)
    return {}


@op("AdminUserGlobalSignOut")
def admin_user_global_sign_out(params: dict[str, Any]) -> dict[str, Any]:
    """AdminUserGlobalSignOut (does not end the hosted-UI session, as on AWS)."""
    pool, user = _admin_user(params)
    pool.sign_out(user.username)
    return {}


@op("AdminSetUserMFAPreference")
def admin_set_user_mfa_preference(params: dict[str, Any]) -> dict[str, Any]:
    """AdminSetUserMFAPreference for TOTP."""
    _, user = _admin_user(params)
    sv.set_mfa_preference(user, params.get("SoftwareTokenMfaSettings"))
    return {}


# --- groups: moto answers, after the group is checked as AWS checks it ----------------------------------
# moto's ResourceNotFoundException for an unknown group carries the bare group name; AWS says this.
GROUP_NOT_FOUND = "Group not found."


def _group_exists(params: dict[str, Any]) -> dict[str, Any] | None:
    """ResourceNotFoundException as AWS words it unless the pool has the group; moto does the rest."""
    pool = _admin_pool(params)
    if _str(params, "GroupName") not in pool.groups:
        raise ResourceNotFoundError(GROUP_NOT_FOUND)


for _name in (
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "GetGroup",
    "DeleteGroup",
    "UpdateGroup",
    "ListUsersInGroup",
):
    op(_name)(_group_exists)  # returns None: moto answers


# --- dispatch ----------------------------------------------------------------------------------------------
def region_for(params: dict[str, Any]) -> str | None:
    """The region an unsigned call belongs to, from its AccessToken, ClientId or UserPoolId."""
    try:
        if isinstance(params.get("AccessToken"), str):
            return bk.pool_for_token(params["AccessToken"])[0].region
        if isinstance(params.get("ClientId"), str):
            return bk.pool_for_client(params["ClientId"])[0].region
    except JsonRESTError:
        return None
    pool_id = params.get("UserPoolId")
    if isinstance(pool_id, str) and "_" in pool_id:
        return pool_id.split("_", 1)[0]
    return None


def handle(operation: str, params: dict[str, Any]) -> Response | None:
    """Answer an operation we own, or None to let moto answer it."""
    handler = HANDLERS.get(operation)
    if handler is None:
        return None
    result = handler(params)
    return None if result is None else json_response(result)
