"""infra/template.yaml's security properties and its Outputs, which are the app's environment."""

from __future__ import annotations

import re
import stat

import pytest

from infra import env_from_stack
from infra.env_from_stack import OUTPUTS, env_from_outputs, env_name, render, write_private
from localcloud.template.loader import load
from profiles.avatars import upload_key_is_own
from tests.support.infra import ENV_EXAMPLE, TEMPLATE, resolved_template, template_value

PROVIDERS = {
    "Google": {"GoogleClientId": "g.apps.googleusercontent.com", "GoogleClientSecret": "s"},
    "Facebook": {"FacebookAppId": "123", "FacebookAppSecret": "s"},
    "SignInWithApple": {
        "AppleServicesId": "com.example",
        "AppleTeamId": "T",
        "AppleKeyId": "K",
        "ApplePrivateKey": "P",
    },
    "OIDC": {"OidcClientId": "c", "OidcClientSecret": "s", "OidcIssuer": "https://idp.example.com"},
}
CLIENTS = ("WebClient", "SpaClient")


@pytest.fixture(scope="module")
def template():
    return resolved_template()


def test_no_client_may_write_a_claim_that_picks_a_role(template):
    """custom:role picks the moderator role: a client that could write it would let users pick it."""
    rules = [
        rule
        for mapping in template_value(template, "IdentityPoolRoles.RoleMappings").values()
        for rule in mapping["RulesConfiguration"]["Rules"]
    ]
    assert {rule["Claim"] for rule in rules} == {"custom:role"}
    for client in CLIENTS:
        writable = set(template_value(template, f"{client}.WriteAttributes"))
        readable = set(template_value(template, f"{client}.ReadAttributes"))
        assert not writable & {rule["Claim"] for rule in rules}, client
        # A claim counts only if it is in the ID token: the client must read it.
        assert "custom:role" in readable, client


def test_only_the_web_clients_tokens_may_get_the_moderator_role(template):
    """The public SpaClient's tokens get the member role: no mapping of it may name ModeratorRole.

    Moderation is enforced twice (the app's checks and records, then S3 with the moderator role) only
    when the app itself, through the confidential web client, asks for the credentials.
    """
    mappings = template_value(template, "IdentityPoolRoles.RoleMappings")
    pool = template.reference("UserPool", "ProviderName")
    assert [m["IdentityProvider"] for m in mappings.values()] == [f"{pool}:__WebClient__"]
    (mapping,) = mappings.values()
    moderator = template.reference("ModeratorRole", "Arn")
    assert mapping["Type"] == "Rules"
    assert mapping["AmbiguousRoleResolution"] == "AuthenticatedRole"
    rules = mapping["RulesConfiguration"]["Rules"]
    assert {(r["MatchType"], r["Value"], r["RoleARN"]) for r in rules} == {
        ("Equals", "moderator", moderator),
        ("Equals", "admin", moderator),
    }
    # The SPA still gets credentials (the pool trusts it): with no mapping, the authenticated role.
    providers = template_value(template, "IdentityPool.CognitoIdentityProviders")
    assert {p["ClientId"] for p in providers} == {"__WebClient__", "__SpaClient__"}
    assert template_value(template, "IdentityPoolRoles.Roles")["authenticated"] == template.reference(
        "AuthenticatedRole", "Arn"
    )


@pytest.mark.parametrize(
    ("role", "amr"),
    [
        ("AuthenticatedRole", "authenticated"),
        ("ModeratorRole", "authenticated"),
        ("UnauthenticatedRole", "unauthenticated"),
    ],
)
def test_each_role_trusts_only_this_identity_pool_and_its_kind_of_identity(template, role, amr):
    (statement,) = template_value(template, f"{role}.AssumeRolePolicyDocument.Statement")
    assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": "__IdentityPool__"},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
    }


def _statements(template, role):
    return [s for p in template_value(template, f"{role}.Policies") for s in p["PolicyDocument"]["Statement"]]


def test_guests_only_read(template):
    actions = {a for s in _statements(template, "UnauthenticatedRole") for a in s["Action"]}
    assert actions == {"s3:GetObject", "s3:ListBucket"}
    assert all(s["Effect"] == "Allow" for s in _statements(template, "UnauthenticatedRole"))


def test_members_write_only_under_their_own_identity(template):
    for role in ("AuthenticatedRole", "ModeratorRole"):
        for statement in _statements(template, role):
            if {"s3:PutObject"} & set(statement["Action"]):
                assert all("/${cognito-identity.amazonaws.com:sub}/" in r for r in statement["Resource"]), (
                    role
                )


def test_moderators_may_read_and_delete_any_avatar_but_write_nothing_of_others(template):
    member = _statements(template, "AuthenticatedRole")
    moderator = _statements(template, "ModeratorRole")
    extra = [s for s in moderator if s not in member]
    assert [(s["Sid"], sorted(s["Action"]), s["Resource"]) for s in extra] == [
        (
            "ModerateAvatars",
            ["s3:DeleteObject", "s3:GetObject"],
            ["arn:aws:s3:::localcloud-avatarbucket/protected/*/avatars/*"],
        )
    ]
    assert all(s in moderator for s in member)


def test_the_bucket_is_private(template):
    bucket = template.resources["AvatarBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # A bucket policy may only take away: no statement of it grants anything.
    statements = [
        statement
        for policy in template.of_type("AWS::S3::BucketPolicy").values()
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert statements and all(statement["Effect"] == "Deny" for statement in statements)


def test_the_bucket_refuses_plain_http(template):
    (policy,) = template.of_type("AWS::S3::BucketPolicy").values()
    assert policy["Bucket"] == template.reference("AvatarBucket", None)
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    arn = template.reference("AvatarBucket", "Arn")
    assert sorted(statement["Resource"]) == [arn, f"{arn}/*"]


def test_a_changed_email_waits_for_its_code(template):
    pool = template.resources["UserPool"]["Properties"]
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}


def test_abandoned_raw_uploads_expire(template):
    rules = template_value(template, "AvatarBucket.LifecycleConfiguration.Rules")
    (expiry,) = [r for r in rules if "ExpirationInDays" in r]
    assert expiry["Status"] == "Enabled" and expiry["ExpirationInDays"] == 1
    # A lifecycle prefix is literal: it must hold the app's raw uploads and not the avatars.
    identity = "us-east-1:0a1b2c3d-0000-4000-8000-000000000000"
    assert upload_key_is_own(key=f"{expiry['Prefix']}{identity}/{'a' * 32}", identity_id=identity)
    assert not f"protected/{identity}/avatars/x-512.webp".startswith(expiry["Prefix"])


def test_the_identity_pool_has_guests_and_no_classic_flow(template):
    pool = template.resources["IdentityPool"]["Properties"]
    assert pool["AllowUnauthenticatedIdentities"] is True
    assert pool["AllowClassicFlow"] is False


def test_the_spa_client_is_public_and_uses_the_code_flow(template):
    spa = template.resources["SpaClient"]["Properties"]
    assert spa["GenerateSecret"] is False
    assert spa["AllowedOAuthFlows"] == ["code"]
    assert spa["CallbackURLs"] == ["https://spa.example.com/"]
    assert template_value(template, "WebClient.GenerateSecret") is True


def test_without_provider_parameters_no_provider_exists(template):
    assert not template.of_type("AWS::Cognito::UserPoolIdentityProvider")
    for client in CLIENTS:
        assert template_value(template, f"{client}.SupportedIdentityProviders") == ["COGNITO"]


@pytest.mark.parametrize("name", PROVIDERS)
def test_each_provider_exists_when_its_parameters_are_given(name):
    template = resolved_template(**PROVIDERS[name])
    (provider,) = template.of_type("AWS::Cognito::UserPoolIdentityProvider").values()
    assert provider["ProviderName"] == name
    assert provider["AttributeMapping"]["email"] == "email"  # the pool requires email
    for client in CLIENTS:
        assert template_value(template, f"{client}.SupportedIdentityProviders") == ["COGNITO", name]


def test_provider_secrets_are_never_echoed():
    parameters = load(TEMPLATE)["Parameters"]
    secrets = [name for name in parameters if re.search(r"Secret|PrivateKey", name)]
    assert sorted(secrets) == [
        "ApplePrivateKey",
        "FacebookAppSecret",
        "GoogleClientSecret",
        "OidcClientSecret",
    ]
    assert all(parameters[name].get("NoEcho") is True for name in secrets)


# --- Outputs = the app's environment ------------------------------------------------------------------------
# Variables the app needs from the AWS side, besides those the Outputs give.
NOT_AN_OUTPUT = {"COGNITO_CLIENT_SECRET": "read from the user pool by make env-from-stack, never an Output"}
# Variables of .env.example's AWS sections that no deployment of the template sets, and why.
NOT_FROM_THE_STACK = {
    "COGNITO_IDP_URL": "unset on AWS (its default is the AWS URL)",
    "AWS_ENDPOINT_URL": "unset on AWS",
    "AWS_S3_ENDPOINT_URL": "unset on AWS",
    "AWS_S3_ADDRESSING_STYLE": "unset on AWS (virtual)",
    "AWS_ACCESS_KEY_ID": "the app server's own credentials (prefer an instance role)",
    "AWS_SECRET_ACCESS_KEY": "the app server's own credentials (prefer an instance role)",
}


def _env_example_variables(first_section: str, last_section: str) -> list[str]:
    """Variable names (set or commented out) between two '# --- ' section headings of .env.example."""
    text = ENV_EXAMPLE.read_text()
    body = text.split(f"# --- {first_section}", 1)[1].split(f"# --- {last_section}", 1)[0]
    return re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", body, flags=re.MULTILINE)


def test_outputs_map_one_to_one_to_variables_of_the_app(template):
    documented = set(_env_example_variables("Amazon Cognito", "Benchmarks"))
    env = env_from_outputs(template.outputs)
    assert len(env) == len(template.outputs)
    assert set(env) <= documented, set(env) - documented


def test_every_aws_identifier_the_app_needs_comes_from_the_stack(template, settings):
    """Every Cognito/identity-pool/S3 variable that names something the stack creates is an Output."""
    env = env_from_outputs(template.outputs)
    required = {"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_DOMAIN"}
    avatars = {"COGNITO_IDENTITY_POOL_ID", "AWS_STORAGE_BUCKET_NAME"}
    assert required | avatars <= set(env) | set(NOT_AN_OUTPUT)
    names_a_resource = [
        v
        for v in _env_example_variables("Amazon Cognito", "Benchmarks")
        if re.search(r"_(ID|IDS|NAME|DOMAIN|SECRET|REGION|URL)$", v)
    ]
    unexplained = set(names_a_resource) - set(env) - set(NOT_AN_OUTPUT) - set(NOT_FROM_THE_STACK)
    assert not unexplained
    assert env["COGNITO_DOMAIN"] == "https://profiles-0a1b2c3d.auth.us-east-1.amazoncognito.com"
    assert env["API_CLIENT_IDS"] == "__WebClient__,__SpaClient__"


@pytest.mark.parametrize(
    ("output", "variable"),
    [
        ("CognitoUserPoolId", "COGNITO_USER_POOL_ID"),
        ("AwsS3RegionName", "AWS_S3_REGION_NAME"),
        ("ApiClientIds", "API_CLIENT_IDS"),
    ],
)
def test_output_names_become_variable_names(output, variable):
    assert env_name(output) == variable


def test_outputs_become_an_env_file_only_the_owner_reads(tmp_path):
    outputs = {"CognitoRegion": "eu-west-1", "CognitoDomain": "https://p.auth.eu-west-1.amazoncognito.com"}
    env = env_from_outputs(outputs)
    path = tmp_path / ".env.stack"
    path.write_text("old, world-readable")
    path.chmod(0o644)
    write_private(path, render({**env, "COGNITO_CLIENT_SECRET": "abc123"}, "stack"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines[1:] == [
        "COGNITO_REGION=eu-west-1",
        "COGNITO_DOMAIN=https://p.auth.eu-west-1.amazoncognito.com",
        "COGNITO_CLIENT_SECRET=abc123",
    ]


@pytest.mark.parametrize("value", ["a b", "x\nDJANGO_DEBUG=true", "$(id)", 'q"'])
def test_an_output_that_would_need_quoting_is_refused(value):
    """An Output value cannot smuggle another variable (or shell) into the env file."""
    with pytest.raises(ValueError, match="CognitoRegion"):
        env_from_outputs({"CognitoRegion": value})


HOSTILE_OUTPUTS = {
    "Path": "/srv/evil",
    "LdPreload": "/srv/evil.so",
    "Pythonpath": "/srv/evil",
    "DjangoSettingsModule": "evil.settings",
    "DjangoDebug": "true",
}


def test_only_the_documented_outputs_become_variables(template):
    assert list(template.outputs) == list(OUTPUTS)  # the allow-list is the template's Outputs
    env = env_from_outputs({**HOSTILE_OUTPUTS, "CognitoRegion": "eu-west-1"})
    assert env == {"COGNITO_REGION": "eu-west-1"}


def test_the_cli_warns_of_ignored_outputs_and_checks_the_secret(tmp_path, monkeypatch, capsys):
    # AWS's answers are simulated: localcloud has no CloudFormation, and its secrets are always plain.
    outputs = {"CognitoRegion": "eu-west-1", "CognitoUserPoolId": "eu-west-1_a", "CognitoClientId": "c",
               **HOSTILE_OUTPUTS}  # fmt: skip
    monkeypatch.setattr(env_from_stack.cloudformation, "stack_outputs", lambda **_: outputs)
    secret = {"value": "s3cret"}
    monkeypatch.setattr(env_from_stack.cognito, "client_secret", lambda **_: secret["value"])
    path = tmp_path / ".env.s"
    assert env_from_stack.main(["--stack", "s", "--output", str(path)]) == 0
    assert "ignoring output LdPreload" in capsys.readouterr().err
    text = path.read_text()
    assert "COGNITO_CLIENT_SECRET=s3cret" in text
    assert not re.search(r"^(PATH|LD_PRELOAD|PYTHONPATH|DJANGO_)", text, flags=re.MULTILINE)
    secret["value"] = "x\nDJANGO_DEBUG=true"
    path.unlink()
    assert env_from_stack.main(["--stack", "s", "--output", str(path)]) == 1
    assert "secret has characters an env file would need quoted" in capsys.readouterr().err
    assert not path.exists()
