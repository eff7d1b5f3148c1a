"""Federated users (reference-2 §1.4-1.5): ``<Provider>_<id>`` profiles, attribute mapping, linking.

Also the identity-provider operations where moto is looser than Cognito (duplicates, types) and
the linking operations moto lacks (AdminLinkProviderForUser, AdminDisableProviderForUser).
"""

from __future__ import annotations

import json
import time
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.cognitoidp.models import (
    CognitoIdpGroup,
    CognitoIdpIdentityProvider,
    CognitoIdpUser,
    CognitoIdpUserPoolClient,
)
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow

from localcloud.userpool import backend as bk
from localcloud.userpool import services as sv
from localcloud.userpool.api import _admin_pool, _dict, _str, op
from localcloud.userpool.models import EXTERNAL_PROVIDER, LocalUserPool, is_external

PROVIDER_TYPES = {"SAML", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple", "OIDC"}
# Social providers' fixed names: ProviderName must equal the type (Cognito's rule).
SOCIAL = {"Facebook", "Google", "LoginWithAmazon", "SignInWithApple"}
# Where each provider puts its user id when the mapping names no "username" claim.
DEFAULT_ID_CLAIM = {"Facebook": "id", "LoginWithAmazon": "user_id"}
MAX_LINKS = 5
# ProviderDetails that are URLs (https on AWS) and the hosts localcloud also takes over http.
URL_DETAILS = {"authorize_url", "token_url", "attributes_url", "jwks_uri", "oidc_issuer"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_VALUE = 2048
# Mapping keys that are no attribute the client writes: the user id, and the verification flags
# (whether AWS wants those in WriteAttributes is unconfirmed; they are not asked for).
NOT_WRITES = {"username", "email_verified", "phone_number_verified"}


class FederationError(Exception):
    """A federated sign-in refused: redirected to the app as error / error_description."""

    def __init__(self, error: str, description: str) -> None:
        """Record the OAuth error code and its description."""
        super().__init__(description)
        self.error = error
        self.description = description


def link_key(provider_name: str, provider_user_id: str) -> tuple[str, str]:
    """The key of a linked identity in ``pool.provider_links`` (a pair: names may hold any separator)."""
    return (provider_name, provider_user_id)


def provider_config(provider: CognitoIdpIdentityProvider) -> dict[str, Any]:
    """The provider's CreateIdentityProvider fields as moto stores them."""
    return provider.extended_config


def provider_user_id(provider: CognitoIdpIdentityProvider, claims: dict[str, Any]) -> str:
    """The provider's id for the user: the claim mapped to ``username`` (default sub / id / user_id)."""
    config = provider_config(provider)
    mapping = config.get("AttributeMapping") or {}
    claim = mapping.get("username") or DEFAULT_ID_CLAIM.get(config.get("ProviderType", ""), "sub")
    value = claims.get(claim)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value) or len(str(value)) > 128:
        raise FederationError("invalid_request", f"The provider's response lacks the user id ({claim}).")
    return str(value)


def _identity(provider: CognitoIdpIdentityProvider, user_id: str, *, primary: bool) -> dict[str, Any]:
    """One entry of the ``identities`` attribute (GetUser shape: primary boolean, dateCreated number)."""
    config = provider_config(provider)
    ptype = config.get("ProviderType", "")
    issuer = (config.get("ProviderDetails") or {}).get("oidc_issuer") if ptype == "OIDC" else None
    return {"userId": user_id, "providerName": provider.name, "providerType": ptype, "issuer": issuer,
            "primary": primary, "dateCreated": int(time.time() * 1000)}  # fmt: skip


def identities(user: CognitoIdpUser) -> list[dict[str, Any]]:
    """The user's ``identities`` attribute, parsed (empty when none or unreadable)."""
    try:
        entries = json.loads(user.attribute_lookup.get("identities") or "[]")
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _set_identities(user: CognitoIdpUser, entries: list[dict[str, Any]]) -> None:
    if entries:
        user.update_attributes([{"Name": "identities", "Value": json.dumps(entries, separators=(",", ":"))}])
    else:
        user.delete_attributes(["identities"])


def _claim_text(value: Any) -> str | None:
    """A claim as a user-pool attribute value (booleans as "true"/"false"); None when unusable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)[:MAX_VALUE]
    return None


def mapped_attributes(
    pool: LocalUserPool, provider: CognitoIdpIdentityProvider, claims: dict[str, Any]
) -> dict[str, str]:
    """AttributeMapping applied: pool attribute → value, for the claims the provider sent.

    A missing claim leaves the stored value alone; a mapped ``email`` without a mapped
    ``email_verified`` is unverified (reference-2 §1.1).
    """
    mapping = provider_config(provider).get("AttributeMapping") or {}
    known = sv.schema_names(pool)
    values: dict[str, str] = {}
    for attribute, claim in mapping.items():
        if attribute in ("username", "sub", "identities") or attribute not in known:
            continue
        value = _claim_text(claims.get(claim))
        if value is not None:
            values[attribute] = value
    if "email" in values and "email_verified" not in mapping:
        values["email_verified"] = "false"
    if "email_verified" in values:
        values["email_verified"] = "true" if values["email_verified"].lower() == "true" else "false"
    return values


def provider_says_verified(claims: dict[str, Any]) -> bool:
    """The provider's own word that the e-mail is verified (boolean, or Apple's "true")."""
    verified = claims.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def federated_sign_in(
    pool: LocalUserPool,
    provider: CognitoIdpIdentityProvider,
    claims: dict[str, Any],
    *,
    link_verified_email: bool,
    client: CognitoIdpUserPoolClient | None = None,
) -> CognitoIdpUser:
    """The user a verified provider response signs in: linked native user, existing or new profile."""
    if client is not None:
        _check_client_writes(provider, client)
    user_id = provider_user_id(provider, claims)
    user = _linked_user(pool, provider.name, user_id) or pool.users.get(f"{provider.name}_{user_id}")
    if user is None and link_verified_email:
        user = _pre_sign_up_link(pool, provider, user_id, claims)
    attributes = mapped_attributes(pool, provider, claims)
    if user is None:
        return _create(pool, provider, user_id, attributes)
    if not user.enabled:
        raise FederationError("invalid_request", "User is disabled.")
    _check_mutable(pool, attributes)
    if not is_external(user):
        attributes = _onto_native(pool, user, attributes)
    if attributes:
        user.update_attributes([{"Name": k, "Value": v} for k, v in attributes.items()])
    return user


def _check_client_writes(provider: CognitoIdpIdentityProvider, client: CognitoIdpUserPoolClient) -> None:
    """Every mapped attribute must be one the app client may write, or the sign-in fails.

    AWS: "If your app client allows users to sign in through an IdP, this array [WriteAttributes]
    must include all attributes that you have mapped to IdP attributes ... If your app client does
    not have write access to a mapped attribute, Amazon Cognito throws an error" (UserPoolClientType,
    reference-2 §1.1) — standard attributes too, so no provider can set custom:role (or anything
    else the client cannot). The verification flags are not asked for: whether AWS wants them in
    WriteAttributes is unconfirmed. No WriteAttributes at all: every attribute is writable.
    """
    writable = client.extended_config.get("WriteAttributes")
    mapping = provider_config(provider).get("AttributeMapping") or {}
    refused = sorted(a for a in mapping if a not in NOT_WRITES and writable is not None and a not in writable)
    if refused:
        raise FederationError(
            "invalid_request", f"The app client cannot write the mapped attribute(s) {', '.join(refused)}."
        )


def _check_mutable(pool: LocalUserPool, attributes: dict[str, str]) -> None:
    """An existing user's mapped attributes are written at every sign-in: an immutable one fails it.

    AWS (SchemaAttributeType.Mutable): "If an attribute is immutable, Amazon Cognito throws an error
    when it attempts to update the attribute" — at the second sign-in, whatever the value; the
    redirect reads ``error=invalid_request&error_description=Invalid user attributes: email:
    Attribute cannot be updated.`` (amazon-archives/amazon-cognito-auth-js#159, #48;
    aws-amplify/aws-sdk-ios#2296, #5536).
    """
    for name in sorted(attributes):
        schema = pool.schema_attributes.get(name)
        if schema is not None and not schema.mutable:
            raise FederationError(
                "invalid_request", f"Invalid user attributes: {name}: Attribute cannot be updated."
            )


def _onto_native(pool: LocalUserPool, user: CognitoIdpUser, attributes: dict[str, str]) -> dict[str, str]:
    """The mapped attributes a linked native user takes: never another user's e-mail.

    The e-mail is a sign-in alias of the native user, so the mapping follows AdminUpdateUserAttributes'
    rule (AliasExistsException): an address another user has is not taken, nor is an unverified
    provider address over a verified native one (nor is a verified address un-verified). Cognito's
    exact behaviour here is unconfirmed; leaving the e-mail as it was keeps both accounts safe and
    the sign-in working, and the other mapped attributes are still written (reference-2 §1.5).
    """
    email = attributes.get("email")
    if email is None:
        return attributes
    kept = {k: v for k, v in attributes.items() if k not in ("email", "email_verified")}
    current = str(user.attribute_lookup.get("email", ""))
    native_verified = user.attribute_lookup.get("email_verified") == "true"
    if email.lower() == current.lower():
        if native_verified or "email_verified" not in attributes:
            return kept
        return {**kept, "email_verified": attributes["email_verified"]}
    other = sv.find_user(pool, email)
    if (other is not None and other.username != user.username) or (
        native_verified and attributes.get("email_verified") != "true"
    ):
        return kept
    return attributes


def _linked_user(pool: LocalUserPool, provider_name: str, user_id: str) -> CognitoIdpUser | None:
    username = pool.provider_links.get(link_key(provider_name, user_id))
    if username is None:
        return None
    user = pool.users.get(username)
    if user is None:  # the destination was deleted
        del pool.provider_links[link_key(provider_name, user_id)]
    return user


def _pre_sign_up_link(
    pool: LocalUserPool, provider: CognitoIdpIdentityProvider, user_id: str, claims: dict[str, Any]
) -> CognitoIdpUser | None:
    """The emulated PreSignUp_ExternalProvider trigger: link to the native user with this e-mail.

    Only when the provider says the e-mail is verified AND the native user's e-mail is verified
    too: otherwise anyone could claim an address at some provider (or sign up with it here) and
    take over the other person's account. Nor when the user unlinked this identity before
    (``pool.unlinked``): unlinking must stay true (the real Lambda needs the same record).
    """
    email = claims.get("email")
    if not isinstance(email, str) or not email or not provider_says_verified(claims):
        return None
    wanted = email.strip().lower()
    native = next(
        (u for u in pool.users.values()
         if not is_external(u) and str(u.attribute_lookup.get("email", "")).lower() == wanted
         and u.attribute_lookup.get("email_verified") == "true" and u.status == "CONFIRMED" and u.enabled),
        None,
    )  # fmt: skip
    if native is None or len(identities(native)) >= MAX_LINKS:
        return None
    if (provider.name, user_id, native.username) in pool.unlinked:
        return None  # the user removed this link: it signs in on its own now
    link(pool, provider, user_id, native)
    return native


def link(
    pool: LocalUserPool, provider: CognitoIdpIdentityProvider, user_id: str, native: CognitoIdpUser
) -> None:
    """Link the provider identity to a native user (its sign-ins then return the native user)."""
    pool.provider_links[link_key(provider.name, user_id)] = native.username
    entries = [
        e for e in identities(native) if (e.get("providerName"), e.get("userId")) != (provider.name, user_id)
    ]
    _set_identities(native, [*entries, _identity(provider, user_id, primary=False)])


def _create(
    pool: LocalUserPool, provider: CognitoIdpIdentityProvider, user_id: str, attributes: dict[str, str]
) -> CognitoIdpUser:
    """A new ``<Provider>_<id>`` profile in ``<poolId>_<Provider>``; every required attribute mapped."""
    missing = [a.name for a in pool.schema_attributes.values() if a.required and a.name not in attributes]
    if missing:
        raise FederationError(
            "invalid_request", f"Attribute(s) required but not provided: {', '.join(missing)}"
        )
    username = f"{provider.name}_{user_id}"
    entry = _identity(provider, user_id, primary=True)
    attrs = [{"Name": k, "Value": v} for k, v in attributes.items()]
    attrs.append({"Name": "identities", "Value": json.dumps([entry], separators=(",", ":"))})
    user = CognitoIdpUser(pool.id, username, None, EXTERNAL_PROVIDER, attrs)
    pool.users[username] = user
    group_name = f"{pool.id}_{provider.name}"
    group = pool.groups.get(group_name)
    if group is None:
        group = pool.groups[group_name] = CognitoIdpGroup(
            pool.id,
            group_name,
            f"Autogenerated group for users who sign in using {provider.name}",
            None,
            None,
        )
    group.users.add(user)
    user.groups.add(group)
    return user


# --- the operations ---------------------------------------------------------------------------------
def _provider(pool: LocalUserPool, name: str) -> CognitoIdpIdentityProvider:
    provider = pool.identity_providers.get(name)
    if provider is None:
        raise ResourceNotFoundError(f"Identity provider {name} does not exist.")
    return provider


def _source(
    pool: LocalUserPool, params: dict[str, Any], member: str
) -> tuple[CognitoIdpIdentityProvider, str]:
    """The provider and provider user id named by SourceUser / User (ProviderName, ...Value)."""
    source = _dict(params, member)
    name = _str(source, "ProviderName")
    if name == "Cognito":
        raise InvalidParameterException(f"{member} must name an external identity provider, not Cognito.")
    provider = _provider(pool, name)
    if (
        provider_config(provider).get("ProviderType") != "SAML"
        and source.get("ProviderAttributeName") != "Cognito_Subject"
    ):
        raise InvalidParameterException(
            "ProviderAttributeName must be Cognito_Subject for social and OIDC providers."
        )
    return provider, _str(source, "ProviderAttributeValue")


@op("AdminLinkProviderForUser")
def admin_link_provider_for_user(params: dict[str, Any]) -> dict[str, Any]:
    """Link an external identity to an existing native user (reference-2 §1.5)."""
    pool = _admin_pool(params)
    destination = _dict(params, "DestinationUser")
    if destination.get("ProviderName") != "Cognito":
        raise InvalidParameterException("DestinationUser.ProviderName must be Cognito.")
    native = sv.find_user(pool, _str(destination, "ProviderAttributeValue"))
    if native is None or is_external(native):
        raise UserNotFoundError("User does not exist.")
    provider, user_id = _source(pool, params, "SourceUser")
    if f"{provider.name}_{user_id}" in pool.users:
        raise InvalidParameterException(
            "Merging is not currently supported, provide a SourceUser that has not been signed up "
            "in order to link"
        )
    if _linked_user(pool, provider.name, user_id) is not None:
        # Already linked (to this user or another): the source now stands for a native user, and AWS
        # answers so (a repeated link: aws/aws-sdk-js-v3#5281, aws-amplify/amplify-js#13334,
        # boto3#4163; AWS has since reworded it, aws/aws-sdk#766, new text unknown).
        raise InvalidParameterException(
            "Invalid SourceUser: Cognito users with a username/password may not be passed in as a "
            "SourceUser, only as a DestinationUser"
        )
    if len(identities(native)) >= MAX_LINKS:
        raise JsonRESTError("LimitExceededException", "A user can be linked to at most 5 identities.")
    link(pool, provider, user_id, native)
    pool.unlinked.discard((provider.name, user_id, native.username))  # an explicit link wins
    return {}


@op("AdminDisableProviderForUser")
def admin_disable_provider_for_user(params: dict[str, Any]) -> dict[str, Any]:
    """Remove a link; a federated profile of that identity is disabled instead."""
    pool = _admin_pool(params)
    provider, user_id = _source(pool, params, "User")
    username = pool.provider_links.pop(link_key(provider.name, user_id), None)
    if username is not None:
        pool.unlinked.add((provider.name, user_id, username))
        native = pool.users.get(username)
        if native is not None:
            kept = [
                e
                for e in identities(native)
                if (e.get("providerName"), e.get("userId")) != (provider.name, user_id)
            ]
            _set_identities(native, kept)
        return {}
    profile = pool.users.get(f"{provider.name}_{user_id}")
    if profile is None:
        raise UserNotFoundError("User does not exist.")
    profile.enabled = False
    return {}


STORED = ("ProviderDetails", "AttributeMapping", "IdpIdentifiers", "AcrMapping")


@op("CreateIdentityProvider")
def create_identity_provider(params: dict[str, Any]) -> dict[str, Any]:
    """Cognito's checks (moto overwrites duplicates and takes any type), then moto's backend stores it."""
    pool = _admin_pool(params)
    name, ptype = _str(params, "ProviderName"), _str(params, "ProviderType")
    if name in pool.identity_providers:
        raise JsonRESTError("DuplicateProviderException", f"A provider with the name {name} already exists.")
    _check_name(name)
    _check_provider(name, ptype, params.get("ProviderDetails") or {})
    _check_mapping(pool, params.get("AttributeMapping") or {})
    config = {"ProviderType": ptype, **{k: params[k] for k in STORED if params.get(k) is not None}}
    provider = bk.backend(pool.region).create_identity_provider(pool.id, name, config)
    return _described(pool, provider)


@op("UpdateIdentityProvider")
def update_identity_provider(params: dict[str, Any]) -> dict[str, Any]:
    """The details are checked as at creation (given ProviderDetails are merged into the stored ones)."""
    pool = _admin_pool(params)
    provider = _provider(pool, _str(params, "ProviderName"))
    config = provider_config(provider)
    details = {**(config.get("ProviderDetails") or {}), **(params.get("ProviderDetails") or {})}
    _check_provider(provider.name, config.get("ProviderType", ""), details)
    _check_mapping(pool, params.get("AttributeMapping") or {})
    config.update({k: params[k] for k in STORED if params.get(k) is not None})
    config["ProviderDetails"] = details
    provider.last_modified_date = utcnow()
    return _described(pool, provider)


@op("DeleteIdentityProvider")
def delete_identity_provider(params: dict[str, Any]) -> None:
    """Deleting a provider drops its links and their ``identities`` entries (moto then deletes it)."""
    pool = _admin_pool(params)
    name = _provider(pool, _str(params, "ProviderName")).name
    for key in [k for k in pool.provider_links if k[0] == name]:
        native = pool.users.get(pool.provider_links.pop(key))
        if native is not None:
            _set_identities(native, [e for e in identities(native) if e.get("providerName") != name])
    return None


def _check_name(name: str) -> None:
    """CreateIdentityProvider's ProviderName pattern (botocore ProviderNameTypeV2), which the
    generic validation leaves out: ``[^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+``."""
    categories = [unicodedata.category(c)[0] for c in name]
    if (
        len(name) < 3  # noqa: PLR2004 - the pattern's three parts
        or any(c == "_" or k == "Z" for i, (c, k) in enumerate(zip(name, categories, strict=True)) if i != 1)
        or categories[1] not in "LMSNP"
    ):
        raise InvalidParameterException(
            "1 validation error detected: Value at 'providerName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+"
        )


def _check_provider(name: str, ptype: str, details: dict[str, Any]) -> None:
    if name.lower() == "cognito":
        raise InvalidParameterException("ProviderName Cognito is reserved.")
    if ptype not in PROVIDER_TYPES:
        raise InvalidParameterException(f"ProviderType {ptype} is not supported.")
    if ptype in SOCIAL and name != ptype:
        raise InvalidParameterException(f"ProviderName must be {ptype} for a {ptype} provider.")
    if ptype in SOCIAL | {"OIDC"} and not details.get("client_id"):
        raise InvalidParameterException("ProviderDetails must include client_id.")
    if ptype == "OIDC" and not details.get("oidc_issuer"):
        raise InvalidParameterException("ProviderDetails must include oidc_issuer for an OIDC provider.")
    for key in URL_DETAILS & set(details):
        if not _acceptable_url(details[key]):
            raise InvalidParameterException(f"ProviderDetails {key} must be an https URL.")


def _acceptable_url(value: object) -> bool:
    """An https URL, as AWS requires; localcloud also takes http to this machine (its fakes, tests)."""
    if not isinstance(value, str) or any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        url = urlsplit(value)
        host = url.hostname
        url.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    if not host or url.username is not None or url.password is not None:
        return False
    return url.scheme == "https" or (url.scheme == "http" and host in LOOPBACK)


def _check_mapping(pool: LocalUserPool, mapping: dict[str, Any]) -> None:
    """AttributeMapping keys: pool attributes (or username); a custom one must be mutable."""
    known = sv.schema_names(pool) | {"username"}
    for attribute in mapping:
        if attribute not in known:
            raise InvalidParameterException(f"Attribute {attribute} does not exist in the user pool schema.")
        schema = pool.schema_attributes.get(attribute)
        if attribute.startswith("custom:") and schema is not None and not schema.mutable:
            raise InvalidParameterException(f"Attribute {attribute} is immutable and cannot be mapped.")


@op("DescribeIdentityProvider")
def describe_identity_provider(params: dict[str, Any]) -> dict[str, Any]:
    """The stored provider."""
    pool = _admin_pool(params)
    return _described(pool, _provider(pool, _str(params, "ProviderName")))


def _described(pool: LocalUserPool, provider: CognitoIdpIdentityProvider) -> dict[str, Any]:
    """Create/Update/DescribeIdentityProvider's answer: as on AWS, Apple's private_key never returned."""
    config = provider_config(provider)
    details = {k: v for k, v in (config.get("ProviderDetails") or {}).items() if k != "private_key"}
    return {
        "IdentityProvider": {
            "UserPoolId": pool.id,
            "ProviderName": provider.name,
            "ProviderType": config.get("ProviderType"),
            "ProviderDetails": details,
            "AttributeMapping": config.get("AttributeMapping") or {},
            "IdpIdentifiers": config.get("IdpIdentifiers") or [],
            "LastModifiedDate": provider.last_modified_date.timestamp(),
            "CreationDate": provider.creation_date.timestamp(),
        }
    }
