"""Identity-pool role mappings: SetIdentityPoolRoles / GetIdentityPoolRoles, and the role credentials get.

Which role credentials carry is read the way AWS shows it: a Cognito call signed with them is
refused naming ``assumed-role/<role>/CognitoIdentityCredentials``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.localcloud import Stack, signed_json_call, start_stack, write_config

ACCOUNT = "arn:aws:iam::123456789012:role/"
AUTHENTICATED = ACCOUNT + "localcloud-identity-authenticated"
UNAUTHENTICATED = ACCOUNT + "localcloud-identity-unauthenticated"
MODERATOR = ACCOUNT + "localcloud-identity-moderator"
ROLE_A = ACCOUNT + "test-role-a"
ROLE_B = ACCOUNT + "test-role-b"
SEED_ROLES = {"authenticated": AUTHENTICATED, "unauthenticated": UNAUTHENTICATED}


@pytest.fixture(scope="module")
def rbac(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own (its mappings change), with two more roles to map to."""
    tmp = tmp_path_factory.mktemp("rbac")
    extra = {"test-a": {"RoleArn": ROLE_A, "Policy": {}}, "test-b": {"RoleArn": ROLE_B, "Policy": {}}}
    running = start_stack(tmp / "data", write_config(tmp / "config.json", iam_roles=extra))
    yield running
    running.stop()


@pytest.fixture
def seeded(rbac: Stack) -> Iterator[dict[str, Any]]:
    """The pool's roles as seeded; put back after each test."""
    admin = rbac.identity_admin()
    before = admin.get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)
    yield before
    admin.set_identity_pool_roles(
        IdentityPoolId=rbac.identity_pool_id,
        Roles=before["Roles"],
        RoleMappings=before.get("RoleMappings", {}),
    )


def mapping_key(stack: Stack) -> str:
    return f"{stack.provider}:{stack.client_id}"


def set_mapping(stack: Stack, mapping: dict[str, Any] | None) -> None:
    stack.identity_admin().set_identity_pool_roles(
        IdentityPoolId=stack.identity_pool_id,
        Roles=SEED_ROLES,
        RoleMappings={mapping_key(stack): mapping} if mapping else {},
    )


def rules(*rules: tuple[str, str, str, str], ambiguous: str = "AuthenticatedRole") -> dict[str, Any]:
    return {
        "Type": "Rules",
        "AmbiguousRoleResolution": ambiguous,
        "RulesConfiguration": {
            "Rules": [{"Claim": c, "MatchType": m, "Value": v, "RoleARN": r} for c, m, v, r in rules]
        },
    }


def user_token(stack: Stack, groups: tuple[str, ...] = (), **attributes: str) -> str:
    """A fresh user of the stack with these attributes (custom_role → custom:role); their ID token."""
    email = f"rbac-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    attrs = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    attrs += [{"Name": k.replace("custom_", "custom:"), "Value": v} for k, v in attributes.items()]
    idp.admin_create_user(
        UserPoolId=stack.pool_id, Username=email, UserAttributes=attrs, MessageAction="SUPPRESS"
    )
    idp.admin_set_user_password(
        UserPoolId=stack.pool_id, Username=email, Password="Test-pass-1", Permanent=True
    )
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=stack.pool_id, Username=email, GroupName=group)
    return stack.api_login(email, "Test-pass-1")["IdToken"]


def credentials(stack: Stack, token: str, custom_role_arn: str | None = None) -> dict[str, Any]:
    client = stack.cognito_identity()
    logins = {stack.provider: token}
    identity_id = client.get_id(IdentityPoolId=stack.identity_pool_id, Logins=logins)["IdentityId"]
    extra = {"CustomRoleArn": custom_role_arn} if custom_role_arn else {}
    return client.get_credentials_for_identity(IdentityId=identity_id, Logins=logins, **extra)["Credentials"]


def role_of(stack: Stack, creds: dict[str, Any]) -> str:
    """The role ARN credentials were issued for, from the AccessDenied a Cognito call gets with them."""
    client = boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=stack.base,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretKey"],
        aws_session_token=creds["SessionToken"],
    )
    with pytest.raises(ClientError) as exc:
        client.list_users(UserPoolId=stack.pool_id)
    match = re.search(
        r"assumed-role/([^/]+)/CognitoIdentityCredentials", exc.value.response["Error"]["Message"]
    )
    assert match, exc.value.response
    return ACCOUNT + match[1]


def resolved(stack: Stack, token: str, custom_role_arn: str | None = None) -> str:
    return role_of(stack, credentials(stack, token, custom_role_arn))


def refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    error = exc.value.response["Error"]
    return error["Code"], error["Message"]


# --- Set / Get -------------------------------------------------------------------------------------------
def test_get_returns_the_seeded_mapping_keyed_by_provider_and_client(rbac: Stack, seeded) -> None:
    assert seeded["Roles"] == SEED_ROLES
    mapping = seeded["RoleMappings"][f"cognito-idp.us-east-1.amazonaws.com/{rbac.pool_id}:{rbac.client_id}"]
    assert mapping == rules(
        ("custom:role", "Equals", "moderator", MODERATOR), ("custom:role", "Equals", "admin", MODERATOR)
    )


def test_set_replaces_both_maps_and_get_reads_them_back(rbac: Stack, seeded) -> None:
    admin = rbac.identity_admin()
    mapping = {"Type": "Token", "AmbiguousRoleResolution": "Deny"}
    answer = admin.set_identity_pool_roles(
        IdentityPoolId=rbac.identity_pool_id,
        Roles={"authenticated": ROLE_A},
        RoleMappings={mapping_key(rbac): mapping},
    )
    assert set(answer) == {"ResponseMetadata"}  # an empty 200
    got = admin.get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)
    assert (got["Roles"], got["RoleMappings"]) == ({"authenticated": ROLE_A}, {mapping_key(rbac): mapping})
    admin.set_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id, Roles=SEED_ROLES)
    assert "RoleMappings" not in admin.get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)


def test_set_is_a_signed_management_call(rbac: Stack, seeded) -> None:
    params = {"IdentityPoolId": rbac.identity_pool_id, "Roles": {"authenticated": MODERATOR}}
    code, _ = refusal(lambda: rbac.cognito_identity().set_identity_pool_roles(**params))  # unsigned
    assert code == "MissingAuthenticationTokenException"
    token = user_token(rbac, custom_role="admin")
    creds = credentials(rbac, token)  # a moderator's own identity credentials: valid, but not IAM admin
    client = boto3.client(
        "cognito-identity",
        region_name="us-east-1",
        endpoint_url=rbac.base,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretKey"],
        aws_session_token=creds["SessionToken"],
    )
    code, message = refusal(lambda: client.set_identity_pool_roles(**params))
    assert code == "AccessDeniedException" and "cognito-identity:SetIdentityPoolRoles" in message
    now = rbac.identity_admin().get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)
    assert now == {**seeded, "ResponseMetadata": now["ResponseMetadata"]}


def _bad(stack: Stack, case: str) -> dict[str, Any]:
    key = mapping_key(stack)
    good_rule = {"Claim": "custom:role", "MatchType": "Equals", "Value": "x", "RoleARN": ROLE_A}
    token = {"Type": "Token", "AmbiguousRoleResolution": "Deny"}
    cases: dict[str, dict[str, Any]] = {
        "unknown provider": {"RoleMappings": {"accounts.google.com": token}},
        "provider without client": {"RoleMappings": {stack.provider: token}},
        "other client": {"RoleMappings": {f"{stack.provider}:{'1' * 26}": token}},
        "type": {"RoleMappings": {key: {**token, "Type": "Groups"}}},
        "no ambiguity": {"RoleMappings": {key: {"Type": "Token"}}},
        "ambiguity": {"RoleMappings": {key: {**token, "AmbiguousRoleResolution": "Allow"}}},
        "rules missing": {"RoleMappings": {key: {**token, "Type": "Rules"}}},
        "match type": {"RoleMappings": {key: rules(("custom:role", "Regex", "x", ROLE_A))}},
        "rule role": {"RoleMappings": {key: rules(("custom:role", "Equals", "x", ACCOUNT + "nobody"))}},
        "empty value": {"RoleMappings": {key: rules(("custom:role", "Equals", "", ROLE_A))}},
        "rule without value": {
            "RoleMappings": {
                key: {**rules(), "RulesConfiguration": {"Rules": [{**good_rule, "Value": None}]}}
            }
        },
        "too many rules": {"RoleMappings": {key: rules(*[("custom:role", "Equals", "x", ROLE_A)] * 26)}},
        "null mapping": {"RoleMappings": {key: None}},
        "mapping not an object": {"RoleMappings": {key: "Rules"}},
        "null rules configuration": {"RoleMappings": {key: {**rules(), "RulesConfiguration": None}}},
        "null rules": {"RoleMappings": {key: {**rules(), "RulesConfiguration": {"Rules": None}}}},
        "rules not a list": {"RoleMappings": {key: {**rules(), "RulesConfiguration": {"Rules": "x"}}}},
        "null rule": {"RoleMappings": {key: {**rules(), "RulesConfiguration": {"Rules": [None]}}}},
        "rule not an object": {"RoleMappings": {key: {**rules(), "RulesConfiguration": {"Rules": ["x"]}}}},
        "null rule after a good one": {
            "RoleMappings": {key: {**rules(), "RulesConfiguration": {"Rules": [good_rule, None]}}}
        },
        "role type": {"Roles": {"admin": ROLE_A}},
        "unknown role": {"Roles": {"authenticated": ACCOUNT + "nobody"}},
        "role name not arn": {"Roles": {"authenticated": "localcloud-identity-authenticated-x"}},
    }
    return cases[case]


def set_raw(stack: Stack, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """SetIdentityPoolRoles with any JSON (no SDK checks or serializer): (status, JSON answer)."""
    keys = (stack.env["AWS_ACCESS_KEY_ID"], stack.env["AWS_SECRET_ACCESS_KEY"])
    response = signed_json_call(stack.base, "AWSCognitoIdentityService.SetIdentityPoolRoles", params, keys)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("unknown provider", "InvalidParameterException", "is not a valid RoleMapping ProviderName"),
        ("provider without client", "InvalidParameterException", "is not a configured provider"),
        ("other client", "InvalidParameterException", "is not a configured provider"),
        ("type", "InvalidParameterException", "Member must satisfy enum value set: [Token, Rules]"),
        ("no ambiguity", "InvalidParameterException", "AmbiguousRoleResolution must be specified"),
        ("ambiguity", "InvalidParameterException", "enum value set: [AuthenticatedRole, Deny]"),
        ("rules missing", "InvalidParameterException", "RulesConfiguration must be specified"),
        ("match type", "InvalidParameterException", "[Equals, Contains, StartsWith, NotEqual]"),
        ("rule role", "NotAuthorizedException", f"Access to Role '{ACCOUNT}nobody' is forbidden."),
        ("empty value", "InvalidParameterException", "Invalid length for parameter"),
        ("rule without value", "InvalidParameterException", "Missing required parameter in RoleMappings"),
        ("too many rules", "InvalidParameterException", "at most 25 rules"),
        ("null mapping", "InvalidParameterException", "Member must not be null"),
        ("mapping not an object", "SerializationException", "Invalid type for parameter"),
        ("null rules configuration", "InvalidParameterException", "RulesConfiguration must be specified"),
        ("null rules", "InvalidParameterException", "Missing required parameter"),
        ("rules not a list", "SerializationException", "Invalid type for parameter"),
        ("null rule", "SerializationException", "Invalid type for parameter"),
        ("rule not an object", "SerializationException", "Invalid type for parameter"),
        ("null rule after a good one", "SerializationException", "Invalid type for parameter"),
        ("role type", "InvalidParameterException", "(un)?authenticated"),
        ("unknown role", "NotAuthorizedException", "is forbidden"),
        ("role name not arn", "NotAuthorizedException", "is forbidden"),
    ],
)
def test_set_refuses_what_aws_refuses_and_changes_nothing(rbac: Stack, seeded, case, code, message) -> None:
    params = {"IdentityPoolId": rbac.identity_pool_id, "Roles": SEED_ROLES, "RoleMappings": {}}
    status, answer = set_raw(rbac, {**params, **_bad(rbac, case)})
    assert (status, answer.get("__type"), message in answer.get("message", "")) == (400, code, True), answer
    now = rbac.identity_admin().get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)
    assert (now["Roles"], now.get("RoleMappings")) == (seeded["Roles"], seeded["RoleMappings"])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
GOOD_RULE = {"Claim": "custom:role", "MatchType": "Equals", "Value": "x", "RoleARN": ROLE_A}


@given(
    where=st.sampled_from(["mapping", "rules configuration", "rules", "rule", "rule member"]),
    value=JSON,
    member=st.sampled_from(sorted(GOOD_RULE)),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_set_with_any_json_in_a_mapping_is_a_400_never_a_500(
    rbac: Stack, seeded, where, value, member
) -> None:
    """Any JSON where a mapping, its rules or a rule go: refused (400) or taken, never a 500."""
    mapping: Any = {"Type": "Rules", "AmbiguousRoleResolution": "Deny"}
    if where == "mapping":
        mapping = value
    elif where == "rules configuration":
        mapping["RulesConfiguration"] = value
    elif where == "rules":
        mapping["RulesConfiguration"] = {"Rules": value}
    elif where == "rule":
        mapping["RulesConfiguration"] = {"Rules": [GOOD_RULE, value]}
    else:
        mapping["RulesConfiguration"] = {"Rules": [{**GOOD_RULE, member: value}]}
    params = {"IdentityPoolId": rbac.identity_pool_id, "Roles": SEED_ROLES}
    status, answer = set_raw(rbac, {**params, "RoleMappings": {mapping_key(rbac): mapping}})
    if status != 200:
        assert status == 400, answer
        assert answer["__type"] in (
            "InvalidParameterException",
            "SerializationException",
            "NotAuthorizedException",
        ), answer
        return
    # Taken: then it reads back as a well-formed mapping.
    got = rbac.identity_admin().get_identity_pool_roles(IdentityPoolId=rbac.identity_pool_id)
    assert got["RoleMappings"][mapping_key(rbac)]["Type"] == "Rules"


def test_set_on_another_pool_is_not_found(rbac: Stack, seeded) -> None:
    code, _ = refusal(
        lambda: rbac.identity_admin().set_identity_pool_roles(
            IdentityPoolId="us-east-1:00000000-0000-0000-0000-000000000000", Roles=SEED_ROLES
        )
    )
    assert code == "ResourceNotFoundException"


# --- Rules ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grace(rbac: Stack) -> str:
    """An ID token with name "Grace Hopper", custom:role "moderator", no custom:college."""
    return user_token(rbac, name="Grace Hopper", custom_role="moderator")


@pytest.mark.parametrize(
    ("claim", "match_type", "value", "matches"),
    [
        ("custom:role", "Equals", "moderator", True),
        ("custom:role", "Equals", "Moderator", False),  # case-sensitive
        ("custom:role", "Equals", "mod", False),
        ("name", "Contains", "ce Ho", True),
        ("name", "Contains", "hopper", False),
        ("name", "StartsWith", "Grace", True),
        ("name", "StartsWith", "Hopper", False),
        ("custom:role", "NotEqual", "member", True),
        ("custom:role", "NotEqual", "moderator", False),
        ("custom:college", "NotEqual", "Anything", False),  # an absent claim skips the rule
        ("email_verified", "Equals", "true", True),  # a JSON boolean compared as JWTs spell it
    ],
)
def test_each_match_type(rbac: Stack, seeded, grace: str, claim, match_type, value, matches) -> None:
    set_mapping(rbac, rules((claim, match_type, value, ROLE_A)))
    assert resolved(rbac, grace) == (ROLE_A if matches else AUTHENTICATED)


def test_rules_run_in_order_and_the_first_match_wins(rbac: Stack, seeded, grace: str) -> None:
    set_mapping(
        rbac, rules(("name", "Contains", "Grace", ROLE_B), ("custom:role", "Equals", "moderator", ROLE_A))
    )
    assert resolved(rbac, grace) == ROLE_B
    set_mapping(
        rbac, rules(("custom:role", "Equals", "moderator", ROLE_A), ("name", "Contains", "Grace", ROLE_B))
    )
    assert resolved(rbac, grace) == ROLE_A


def test_no_matching_rule_is_ambiguous_authenticated_role_or_deny(rbac: Stack, seeded, grace: str) -> None:
    set_mapping(rbac, rules(("custom:role", "Equals", "admin", ROLE_A)))
    assert resolved(rbac, grace) == AUTHENTICATED
    set_mapping(rbac, rules(("custom:role", "Equals", "admin", ROLE_A), ambiguous="Deny"))
    code, message = refusal(lambda: credentials(rbac, grace))
    assert (code, message) == (
        "NotAuthorizedException",
        f"The ambiguous role mapping rules for: {rbac.provider} denied this request.",
    )


def test_custom_role_arn_with_rules_may_pick_any_matching_rule_only(rbac: Stack, seeded, grace: str) -> None:
    set_mapping(
        rbac,
        rules(
            ("name", "StartsWith", "Grace", ROLE_A),
            ("custom:role", "Equals", "moderator", ROLE_B),
            ("custom:role", "Equals", "admin", MODERATOR),
        ),
    )
    assert resolved(rbac, grace) == ROLE_A
    assert resolved(rbac, grace, custom_role_arn=ROLE_B) == ROLE_B
    for refused in (MODERATOR, AUTHENTICATED, ACCOUNT + "nobody"):
        code, _ = refusal(lambda refused=refused: credentials(rbac, grace, refused))
        assert code == "NotAuthorizedException", refused


def test_without_a_mapping_only_the_authenticated_role(rbac: Stack, seeded, grace: str) -> None:
    set_mapping(rbac, None)
    assert resolved(rbac, grace) == AUTHENTICATED
    assert resolved(rbac, grace, custom_role_arn=AUTHENTICATED) == AUTHENTICATED
    code, _ = refusal(lambda: credentials(rbac, grace, MODERATOR))
    assert code == "NotAuthorizedException"


def test_a_guest_cannot_ask_for_another_role(rbac: Stack, seeded) -> None:
    client = rbac.cognito_identity()
    guest = client.get_id(IdentityPoolId=rbac.identity_pool_id)["IdentityId"]
    code, _ = refusal(lambda: client.get_credentials_for_identity(IdentityId=guest, CustomRoleArn=MODERATOR))
    assert code == "NotAuthorizedException"


def test_a_missing_authenticated_role_is_an_invalid_configuration(rbac: Stack, seeded, grace: str) -> None:
    rbac.identity_admin().set_identity_pool_roles(
        IdentityPoolId=rbac.identity_pool_id, Roles={"unauthenticated": UNAUTHENTICATED}
    )
    code, message = refusal(lambda: credentials(rbac, grace))
    assert (code, message) == (
        "InvalidIdentityPoolConfigurationException",
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    )


# --- Token ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def groups(rbac: Stack) -> dict[str, str]:
    """Groups carrying roles: a (precedence 1), b (precedence 2), b-tie (precedence 1), plain (none)."""
    idp = rbac.idp()
    names = {k: f"{k}-{secrets.token_hex(3)}" for k in ("a", "b", "tie", "norole", "a-noprec")}
    idp.create_group(UserPoolId=rbac.pool_id, GroupName=names["a"], RoleArn=ROLE_A, Precedence=1)
    idp.create_group(UserPoolId=rbac.pool_id, GroupName=names["b"], RoleArn=ROLE_B, Precedence=2)
    idp.create_group(UserPoolId=rbac.pool_id, GroupName=names["tie"], RoleArn=ROLE_B, Precedence=1)
    idp.create_group(UserPoolId=rbac.pool_id, GroupName=names["norole"], Precedence=0)
    idp.create_group(UserPoolId=rbac.pool_id, GroupName=names["a-noprec"], RoleArn=ROLE_A)
    return names


@pytest.mark.parametrize(
    ("members_of", "roles", "preferred"),
    [
        (("a", "b"), [ROLE_A, ROLE_B], ROLE_A),  # lower precedence wins
        (("a", "tie"), [ROLE_A, ROLE_B], None),  # a tie between different roles: none preferred
        (("b", "a-noprec"), [ROLE_A, ROLE_B], ROLE_B),  # a group without precedence loses
        (("a-noprec",), [ROLE_A], ROLE_A),
        (("norole",), None, None),  # a group without a role adds no role claims
    ],
)
def test_the_id_token_carries_the_groups_roles(rbac: Stack, groups, members_of, roles, preferred) -> None:
    claims = rbac.verify(user_token(rbac, groups=tuple(groups[g] for g in members_of)), "id")
    assert claims.get("cognito:roles") == roles
    assert claims.get("cognito:preferred_role") == preferred


def test_token_mapping_gives_the_preferred_role(rbac: Stack, seeded, groups) -> None:
    set_mapping(rbac, {"Type": "Token", "AmbiguousRoleResolution": "Deny"})
    token = user_token(rbac, groups=(groups["a"], groups["b"]))
    assert resolved(rbac, token) == ROLE_A
    assert resolved(rbac, token, custom_role_arn=ROLE_B) == ROLE_B  # one of cognito:roles
    for refused in (MODERATOR, AUTHENTICATED):
        code, _ = refusal(lambda refused=refused: credentials(rbac, token, refused))
        assert code == "NotAuthorizedException", refused


def test_token_mapping_without_a_preferred_role_is_ambiguous(rbac: Stack, seeded, groups) -> None:
    tie = user_token(rbac, groups=(groups["a"], groups["tie"]))
    none = user_token(rbac)
    set_mapping(rbac, {"Type": "Token", "AmbiguousRoleResolution": "Deny"})
    for token in (tie, none):
        code, message = refusal(lambda token=token: credentials(rbac, token))
        assert code == "NotAuthorizedException" and "ambiguous role mapping rules" in message
    assert resolved(rbac, tie, custom_role_arn=ROLE_B) == ROLE_B  # choosing resolves the tie
    set_mapping(rbac, {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"})
    assert resolved(rbac, tie) == AUTHENTICATED
    assert resolved(rbac, none) == AUTHENTICATED


def test_a_forged_roles_claim_is_refused_before_any_mapping(rbac: Stack, seeded) -> None:
    set_mapping(rbac, {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"})
    token = user_token(rbac)
    claims = rbac.verify(token, "id")
    header_kid = "not-the-pool-key"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {**claims, "cognito:roles": [MODERATOR], "cognito:preferred_role": MODERATOR},
        other,
        algorithm="RS256",
        headers={"kid": header_kid},
    )
    code, _ = refusal(lambda: credentials(rbac, forged))
    assert code == "NotAuthorizedException"
