"""A localcloud config (config.json's shape) from a CloudFormation template such as infra/template.yaml.

Each resource type localcloud understands has a row in ``KINDS``: what its ``Ref`` and attributes
are here, and where it goes in the config. Any other type is refused, by name. Ids that Cognito
assigns at creation (pool, client and identity-pool ids) are ``__LogicalId__`` placeholders: the config
never holds them (localcloud makes them at start-up), and references between resources are turned
into the names the config uses (a client's ``ClientName``, a role's ARN).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.s3 import policy as iam_policy
from localcloud.template import intrinsics
from localcloud.template.loader import TemplateError, load

STACK_NAME = "localcloud"
_PLACEHOLDER = re.compile(r"__([A-Za-z0-9]+)__")


def placeholder(logical_id: str) -> str:
    """What an id assigned at creation (pool, client, identity pool) resolves to."""
    return f"__{logical_id}__"


@dataclass
class Resolved:
    """A template with its parameters applied: the resources that exist, resolved, and the outputs."""

    parameters: dict[str, Any]
    resources: dict[str, dict[str, Any]]  # logical id -> {"Type", "Properties"}
    outputs: dict[str, Any]
    region: str
    stack_name: str
    # A resource's Ref (attribute None) or Fn::GetAtt value, as the template's references see them.
    reference: Callable[[str, str | None], Any]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """Logical id -> properties of every resource of one type, in template order."""
        return {lid: r["Properties"] for lid, r in self.resources.items() if r["Type"] == kind}


# --- what a resource's Ref and attributes are locally -------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One resource type localcloud understands."""

    ref: Callable[[_Context, str], Any]
    attributes: dict[str, Callable[[_Context, str], Any]] = field(default_factory=dict)


@dataclass
class _Context:
    template: dict[str, Any]
    region: str
    stack_name: str
    resolver: intrinsics.Resolver | None = None
    _properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's properties, resolved (once)."""
        if logical_id not in self._properties:
            if logical_id in self._resolving:
                raise TemplateError(f"circular reference through {logical_id}")
            if self.resolver is None:
                raise RuntimeError("the resolver is set before any property is read")
            self._resolving.add(logical_id)
            raw = self.template["Resources"][logical_id].get("Properties") or {}
            self._properties[logical_id] = self.resolver.resolve(raw)
            self._resolving.discard(logical_id)
        return self._properties[logical_id]

    def prop(self, logical_id: str, name: str, default: Any = None) -> Any:
        return self.properties(logical_id).get(name, default)

    def reference(self, logical_id: str, attribute: str | None) -> Any:
        kind_name = self.template["Resources"][logical_id]["Type"]
        kind = KINDS[kind_name]
        if attribute is None:
            return kind.ref(self, logical_id)
        if attribute not in kind.attributes:
            raise TemplateError(
                f"{logical_id}: localcloud does not know attribute {attribute} of {kind_name}"
            )
        return kind.attributes[attribute](self, logical_id)


def _pool_provider(c: _Context, lid: str) -> str:
    return f"cognito-idp.{c.region}.amazonaws.com/{placeholder(lid)}"


def _role_name(c: _Context, lid: str) -> str:
    return str(c.prop(lid, "RoleName") or f"{c.stack_name}-{lid}")


def _bucket_name(c: _Context, lid: str) -> str:
    return str(c.prop(lid, "BucketName") or f"{c.stack_name}-{lid}".lower())


KINDS: dict[str, Kind] = {
    "AWS::Cognito::UserPool": Kind(
        ref=lambda c, lid: placeholder(lid),
        attributes={
            "ProviderName": _pool_provider,
            "ProviderURL": lambda c, lid: "https://" + _pool_provider(c, lid),
            "UserPoolId": lambda c, lid: placeholder(lid),
            "Arn": lambda c, lid: (
                f"arn:aws:cognito-idp:{c.region}:{intrinsics.ACCOUNT_ID}:userpool/{placeholder(lid)}"
            ),
        },
    ),
    "AWS::Cognito::UserPoolDomain": Kind(ref=lambda c, lid: c.prop(lid, "Domain")),
    "AWS::Cognito::UserPoolClient": Kind(
        ref=lambda c, lid: placeholder(lid),
        attributes={
            "ClientId": lambda c, lid: placeholder(lid),
            "ClientSecret": lambda c, lid: placeholder(f"{lid}ClientSecret"),
            "Name": lambda c, lid: c.prop(lid, "ClientName", lid),
        },
    ),
    "AWS::Cognito::UserPoolGroup": Kind(ref=lambda c, lid: c.prop(lid, "GroupName")),
    "AWS::Cognito::UserPoolIdentityProvider": Kind(ref=lambda c, lid: c.prop(lid, "ProviderName")),
    "AWS::Cognito::IdentityPool": Kind(
        ref=lambda c, lid: placeholder(lid),
        attributes={"Name": lambda c, lid: c.prop(lid, "IdentityPoolName")},
    ),
    "AWS::Cognito::IdentityPoolRoleAttachment": Kind(ref=lambda c, lid: placeholder(lid)),
    "AWS::IAM::Role": Kind(
        ref=_role_name,
        attributes={
            "Arn": lambda c, lid: f"arn:aws:iam::{intrinsics.ACCOUNT_ID}:role/{_role_name(c, lid)}",
            "RoleId": lambda c, lid: placeholder(f"{lid}RoleId"),
        },
    ),
    "AWS::S3::BucketPolicy": Kind(ref=lambda c, lid: placeholder(lid)),
    "AWS::S3::Bucket": Kind(
        ref=_bucket_name,
        attributes={
            "Arn": lambda c, lid: f"arn:aws:s3:::{_bucket_name(c, lid)}",
            "DomainName": lambda c, lid: f"{_bucket_name(c, lid)}.s3.amazonaws.com",
            "RegionalDomainName": lambda c, lid: f"{_bucket_name(c, lid)}.s3.{c.region}.amazonaws.com",
        },
    ),
}


# The properties of each type that localcloud honours, and those it ignores because they change
# nothing it can observe (each with the reason). Any other property stops seeding, by name: a
# LambdaConfig trigger or UserPoolAddOns would make AWS behave in ways localcloud would not.
HONOURED: dict[str, frozenset[str]] = {
    "AWS::Cognito::UserPool": frozenset({
        "UserPoolName", "UsernameAttributes", "UsernameConfiguration", "AutoVerifiedAttributes",
        "VerificationMessageTemplate", "Schema", "Policies", "MfaConfiguration", "EnabledMfas",
        "AccountRecoverySetting", "UserAttributeUpdateSettings",
    }),
    "AWS::Cognito::UserPoolDomain": frozenset({"UserPoolId", "Domain", "ManagedLoginVersion"}),
    "AWS::Cognito::UserPoolClient": frozenset({
        "UserPoolId", "ClientName", "GenerateSecret", "AllowedOAuthFlowsUserPoolClient",
        "AllowedOAuthFlows", "AllowedOAuthScopes", "SupportedIdentityProviders", "CallbackURLs",
        "LogoutURLs", "ExplicitAuthFlows", "ReadAttributes", "WriteAttributes", "AccessTokenValidity",
        "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "EnableTokenRevocation",
        "PreventUserExistenceErrors", "AuthSessionValidity",
    }),
    "AWS::Cognito::UserPoolGroup": frozenset({"UserPoolId", "GroupName", "Description", "Precedence"}),
    "AWS::Cognito::UserPoolIdentityProvider": frozenset({
        "UserPoolId", "ProviderName", "ProviderType", "ProviderDetails", "AttributeMapping", "IdpIdentifiers",
    }),
    "AWS::Cognito::IdentityPool": frozenset({
        "IdentityPoolName", "AllowUnauthenticatedIdentities", "AllowClassicFlow", "CognitoIdentityProviders",
    }),
    "AWS::Cognito::IdentityPoolRoleAttachment": frozenset({"IdentityPoolId", "Roles", "RoleMappings"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Policies", "ManagedPolicyArns", "PermissionsBoundary"}),
    "AWS::S3::Bucket": frozenset({"BucketName", "CorsConfiguration", "LifecycleConfiguration"}),
    "AWS::S3::BucketPolicy": frozenset({"Bucket", "PolicyDocument"}),
}  # fmt: skip
IGNORED: dict[str, dict[str, str]] = {
    "AWS::Cognito::UserPool": {
        "DeletionProtection": "localcloud deletes nothing on its own; a stack update is AWS's concern",
    },
    "AWS::IAM::Role": {
        "Description": "a comment",
        "AssumeRolePolicyDocument": "localcloud's identity pool is the only one that hands out its roles",
    },
    "AWS::S3::Bucket": {
        "BucketEncryption": "encryption at rest is invisible to S3's clients",
        "OwnershipControls": "localcloud refuses ACLs whatever the setting (BucketOwnerEnforced)",
        "PublicAccessBlockConfiguration": "localcloud has no public access to block: every call is signed",
    },
}


def _check_properties(template: dict[str, Any], path: Path) -> None:
    """TemplateError naming every property localcloud would neither honour nor safely ignore."""
    refused = []
    for lid, resource in template["Resources"].items():
        kind = resource["Type"]
        known = HONOURED.get(kind, frozenset()) | set(IGNORED.get(kind, {}))
        refused += [f"{lid}.{name}" for name in sorted(set(resource.get("Properties") or {}) - known)]
    if refused:
        raise TemplateError(
            f"{path}: localcloud cannot honour propert(ies) {', '.join(refused)} (it would behave "
            "unlike AWS: no Lambda triggers, no advanced security, ...); remove them to seed localcloud"
        )


def resolve(
    path: Path,
    parameters: dict[str, str] | None = None,
    *,
    region: str = "us-east-1",
    stack_name: str = STACK_NAME,
) -> Resolved:
    """The template at path with parameters (others: their defaults) applied and every value resolved."""
    template = load(path)
    unknown = sorted(
        {f"{r.get('Type')} ({lid})" for lid, r in template["Resources"].items() if r.get("Type") not in KINDS}
    )
    if unknown:
        raise TemplateError(
            f"{path}: localcloud cannot seed resource type(s) {', '.join(unknown)}; "
            f"it understands {', '.join(sorted(KINDS))}"
        )
    _check_properties(template, path)
    values = intrinsics.parameter_values(template, parameters or {})
    context = _Context(template, region, stack_name)
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": intrinsics.ACCOUNT_ID,
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:aws:cloudformation:{region}:{intrinsics.ACCOUNT_ID}:stack/{stack_name}/"
            "0a1b2c3d-0000-4000-8000-000000000000"
        ),
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }
    resolver = intrinsics.Resolver(template, values, pseudo, context.reference)
    context.resolver = resolver
    resources = {
        lid: {"Type": r["Type"], "Properties": context.properties(lid)}
        for lid, r in template["Resources"].items()
        if resolver.included(r)
    }
    outputs = {
        key: resolver.resolve(spec["Value"])
        for key, spec in (template.get("Outputs") or {}).items()
        if resolver.included(spec)
    }
    return Resolved(values, resources, outputs, region, stack_name, context.reference)


# --- the config ------------------------------------------------------------------------------------------
def config_from_template(
    path: Path,
    parameters: dict[str, str] | None = None,
    *,
    region: str = "us-east-1",
    stack_name: str = STACK_NAME,
) -> dict[str, Any]:
    """A config dict (config.json's keys) seeding localcloud with what the template describes."""
    resolved = resolve(path, parameters, region=region, stack_name=stack_name)
    try:
        return _Converter(resolved).config()
    except (TypeError, AttributeError, KeyError, IndexError) as exc:
        # CloudFormation checks each property against the resource type's schema; the converter
        # reads the shapes it knows, so a property of the wrong shape lands here, not in a traceback.
        raise TemplateError(
            f"{path}: a resource property has the wrong shape ({type(exc).__name__}: {exc})"
        ) from exc


class _Converter:
    """Resolved resources -> config sections; a TemplateError for what localcloud cannot hold."""

    def __init__(self, resolved: Resolved) -> None:
        self.resolved = resolved
        self.pools = resolved.of_type("AWS::Cognito::UserPool")
        if len(self.pools) != 1:
            raise TemplateError(f"localcloud seeds exactly one user pool; the template has {len(self.pools)}")
        self.pool_id = next(iter(self.pools))
        self.clients = resolved.of_type("AWS::Cognito::UserPoolClient")
        self.roles_by_arn = {
            resolved.reference(lid, "Arn"): lid for lid in resolved.of_type("AWS::IAM::Role")
        }

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "_comment": f"Seeded from a CloudFormation template (stack {self.resolved.stack_name}).",
            "region": self.resolved.region,
            "user_pool": self._user_pool(),
            **self._clients(),
            "groups": [_without_pool(props) for props in self._in_pool("UserPoolGroup").values()],
        }
        providers = [_without_pool(props) for props in self._in_pool("UserPoolIdentityProvider").values()]
        if providers:
            config["identity_providers"] = providers
        config.update(self._identity_pool())
        config.update(self._bucket())
        self._check_bucket_policies(config.get("s3", {}).get("bucket"))
        return config

    def _check_bucket_policies(self, bucket: str | None) -> None:
        """Bucket policies: only the plain-HTTP Deny, which localcloud's loopback HTTP stands in for."""
        for lid, props in self.resolved.of_type("AWS::S3::BucketPolicy").items():
            if bucket is None or props.get("Bucket") != bucket:
                raise TemplateError(f"{lid}: Bucket must be a Ref to the template's bucket")
            for statement in _as_list((props.get("PolicyDocument") or {}).get("Statement")):
                if not _denies_plain_http(statement):
                    raise TemplateError(
                        f"{lid}: localcloud evaluates no bucket policy; it accepts only statements that "
                        f"deny every request when aws:SecureTransport is false, not {statement!r}"
                    )

    def _in_pool(self, kind: str) -> dict[str, dict[str, Any]]:
        """Resources of AWS::Cognito::<kind>, each checked to belong to the one user pool."""
        found = self.resolved.of_type(f"AWS::Cognito::{kind}")
        for lid, props in found.items():
            if props.get("UserPoolId") != placeholder(self.pool_id):
                raise TemplateError(f"{lid}: UserPoolId must be a Ref to {self.pool_id}")
        return found

    def _user_pool(self) -> dict[str, Any]:
        pool = dict(self.pools[self.pool_id])
        pool["PoolName"] = pool.pop("UserPoolName", self.pool_id)
        enabled = pool.pop("EnabledMfas", [])
        pool["SoftwareTokenMfaConfiguration"] = {"Enabled": "SOFTWARE_TOKEN_MFA" in enabled}
        unsupported = {"SMS_MFA", "EMAIL_OTP"} & set(enabled)
        if unsupported:
            raise TemplateError(f"{self.pool_id}: localcloud emulates TOTP only, not {sorted(unsupported)}")
        return pool

    def _clients(self) -> dict[str, Any]:
        """The client with a secret is app_client (the Django app's); one without is spa_client."""
        sections: dict[str, Any] = {}
        for lid, props in self._in_pool("UserPoolClient").items():
            client = _without_pool(props)
            client.setdefault("ClientName", lid)
            key = "app_client" if client.get("GenerateSecret") else "spa_client"
            if key in sections:
                raise TemplateError(
                    f"{lid}: localcloud seeds one client with a secret (app_client) and one without "
                    f"(spa_client); {sections[key]['ClientName']!r} is already the {key}"
                )
            sections[key] = client
        if "app_client" not in sections:
            raise TemplateError("the template has no user pool client with a secret (GenerateSecret: true)")
        return sections

    def _client_name(self, client_id: str, where: str) -> str:
        match = _PLACEHOLDER.fullmatch(client_id)
        if not match or match.group(1) not in self.clients:
            raise TemplateError(f"{where}: {client_id!r} is not a client of the template's user pool")
        return str(self.clients[match.group(1)].get("ClientName", match.group(1)))

    def _identity_pool(self) -> dict[str, Any]:
        pools = self.resolved.of_type("AWS::Cognito::IdentityPool")
        if not pools:
            return {}
        if len(pools) > 1:
            raise TemplateError(f"localcloud seeds one identity pool; the template has {len(pools)}")
        lid, props = next(iter(pools.items()))
        provider = f"cognito-idp.{self.resolved.region}.amazonaws.com/{placeholder(self.pool_id)}"
        clients = []
        for entry in props.get("CognitoIdentityProviders", []):
            if entry.get("ServerSideTokenCheck") not in (None, False, "false"):
                raise TemplateError(
                    f"{lid}: localcloud does not emulate ServerSideTokenCheck (leave it false)"
                )
            if entry.get("ProviderName") != provider:
                raise TemplateError(f"{lid}: provider {entry.get('ProviderName')!r} is not the user pool")
            clients.append(self._client_name(entry.get("ClientId", ""), lid))
        pool = {
            "IdentityPoolName": props.get("IdentityPoolName", lid),
            "AllowUnauthenticatedIdentities": bool(props.get("AllowUnauthenticatedIdentities", False)),
            "AllowClassicFlow": bool(props.get("AllowClassicFlow", False)),
            "clients": clients,
        }
        sections: dict[str, Any] = {"identity_pool": pool}
        for attachment_id, attachment in self.resolved.of_type(
            "AWS::Cognito::IdentityPoolRoleAttachment"
        ).items():
            if attachment.get("IdentityPoolId") != placeholder(lid):
                raise TemplateError(f"{attachment_id}: IdentityPoolId must be a Ref to {lid}")
            pool["roles"] = {kind: self._role(arn) for kind, arn in attachment.get("Roles", {}).items()}
            mappings = self._role_mappings(attachment_id, attachment.get("RoleMappings", {}))
            if mappings:
                sections["identity_pool_role_mappings"] = mappings
                sections["iam_roles"] = {
                    self._role_key(rule["RoleARN"]): self._role(rule["RoleARN"])
                    for mapping in mappings.values()
                    for rule in mapping.get("RulesConfiguration", {}).get("Rules", [])
                }
        return sections

    def _role_mappings(self, where: str, mappings: dict[str, Any]) -> dict[str, Any]:
        """RoleMappings keyed by client name (the wire key, <provider>:<clientId>, is made at start-up)."""
        result: dict[str, Any] = {}
        for mapping in mappings.values():
            provider, _, client_id = str(mapping.get("IdentityProvider", "")).rpartition(":")
            if provider != f"cognito-idp.{self.resolved.region}.amazonaws.com/{placeholder(self.pool_id)}":
                raise TemplateError(f"{where}: role mapping for {provider!r}, not the user pool")
            result[self._client_name(client_id, where)] = {
                k: v for k, v in mapping.items() if k != "IdentityProvider"
            }
        return result

    def _role_key(self, arn: str) -> str:
        """ModeratorRole -> "moderator": the name the config gives a role."""
        return self._role_id(arn).removesuffix("Role").lower()

    def _role_id(self, arn: str) -> str:
        if arn not in self.roles_by_arn:
            raise TemplateError(f"role {arn!r} is not an AWS::IAM::Role of the template")
        return self.roles_by_arn[arn]

    def _role(self, arn: str) -> dict[str, Any]:
        """{RoleArn, Policy}: the role's inline policies as one document."""
        lid = self._role_id(arn)
        props = self.resolved.resources[lid]["Properties"]
        if props.get("ManagedPolicyArns") or props.get("PermissionsBoundary"):
            raise TemplateError(f"{lid}: localcloud evaluates inline Policies only (no managed policies)")
        documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        for document in documents:
            try:
                iam_policy.check(document, lid)
            except iam_policy.PolicyError as exc:
                raise TemplateError(str(exc)) from exc
        if len(documents) == 1:
            return {"RoleArn": arn, "Policy": documents[0]}
        statements = [s for document in documents for s in _as_list(document.get("Statement"))]
        return {"RoleArn": arn, "Policy": {"Version": "2012-10-17", "Statement": statements}}

    def _bucket(self) -> dict[str, Any]:
        buckets = self.resolved.of_type("AWS::S3::Bucket")
        if not buckets:
            return {}
        if len(buckets) > 1:
            raise TemplateError(f"localcloud seeds one bucket; the template has {len(buckets)}")
        lid, props = next(iter(buckets.items()))
        section: dict[str, Any] = {
            "bucket": self.resolved.reference(lid, None),
            "CORSRules": [
                cors_rule(rule) for rule in props.get("CorsConfiguration", {}).get("CorsRules", [])
            ],
        }
        lifecycle = props.get("LifecycleConfiguration", {}).get("Rules")
        if lifecycle:
            section["LifecycleRules"] = lifecycle
        return {"s3": section}


# CloudFormation's CorsRule keys -> PutBucketCors' (the config's).
_CORS_KEYS = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}


def cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule in PutBucketCors shape."""
    return {_CORS_KEYS.get(key, key): value for key, value in rule.items()}


def _denies_plain_http(statement: Any) -> bool:
    """Whether a bucket-policy statement is the usual Deny of every request without TLS."""
    return (
        isinstance(statement, dict)
        and set(statement) <= {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
        and statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and _as_list(statement.get("Action")) == ["s3:*"]
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    )


def _without_pool(properties: dict[str, Any]) -> dict[str, Any]:
    """A pool resource's properties as the config holds them (localcloud has one pool)."""
    return {k: v for k, v in properties.items() if k != "UserPoolId"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
