"""One source of truth: infra/template.yaml and localcloud's shipped seed agree on what the app relies on.

The seed is kept by hand next to the template (not derived from it) because it also holds what no
template has: demo users, localhost URLs, Cognito's fixed lifetimes made short for tests, and test
configs extend it. So every setting is compared here: PAIRS says how, and the completeness tests
make every key of either side be compared or listed as one side's own, with the reason. A branch
that adds a seed key (identity providers, the SPA client, role mappings, branding) fails them until
it adds its row.
"""

from __future__ import annotations

import pytest

from tests.support.infra import COMPARE, DEPLOYED, MISSING, lookup, resolved_template, seed, template_value

# (template path, seed path, comparison in tests.support.infra.COMPARE)
PAIRS: list[tuple[str, str, str]] = [
    # User pool: attributes, sign-in, passwords, MFA, recovery.
    ("UserPool.Schema", "user_pool.Schema", "same"),
    ("UserPool.UsernameAttributes", "user_pool.UsernameAttributes", "same"),
    ("UserPool.AutoVerifiedAttributes", "user_pool.AutoVerifiedAttributes", "same"),
    ("UserPool.Policies.PasswordPolicy", "user_pool.Policies.PasswordPolicy", "same"),
    ("UserPool.MfaConfiguration", "user_pool.MfaConfiguration", "same"),
    ("UserPool.EnabledMfas", "user_pool.SoftwareTokenMfaConfiguration", "totp"),
    ("UserPool.AccountRecoverySetting", "user_pool.AccountRecoverySetting", "same"),
    # The web client: what the app's sign-in, refresh, sign-out and attribute sync rely on.
    ("WebClient.ClientName", "app_client.ClientName", "same"),
    ("WebClient.GenerateSecret", "app_client.GenerateSecret", "same"),
    ("WebClient.AllowedOAuthFlowsUserPoolClient", "app_client.AllowedOAuthFlowsUserPoolClient", "same"),
    ("WebClient.AllowedOAuthFlows", "app_client.AllowedOAuthFlows", "same set"),
    ("WebClient.AllowedOAuthScopes", "app_client.AllowedOAuthScopes", "same set"),
    ("WebClient.CallbackURLs", "app_client.CallbackURLs", "same paths"),
    ("WebClient.LogoutURLs", "app_client.LogoutURLs", "same paths"),
    ("WebClient.ExplicitAuthFlows", "app_client.ExplicitAuthFlows", "template within seed"),
    ("WebClient.ReadAttributes", "app_client.ReadAttributes", "same set"),
    ("WebClient.WriteAttributes", "app_client.WriteAttributes", "same set"),
    ("WebClient.AccessTokenValidity", "app_client.AccessTokenValidity", "same"),
    ("WebClient.IdTokenValidity", "app_client.IdTokenValidity", "same"),
    ("WebClient.RefreshTokenValidity", "app_client.RefreshTokenValidity", "same"),
    ("WebClient.TokenValidityUnits", "app_client.TokenValidityUnits", "same"),
    ("WebClient.AuthSessionValidity", "app_client.AuthSessionValidity", "same"),
    ("WebClient.EnableTokenRevocation", "app_client.EnableTokenRevocation", "same"),
    ("WebClient.PreventUserExistenceErrors", "app_client.PreventUserExistenceErrors", "same"),
    # Groups (name, description, precedence).
    ("*AWS::Cognito::UserPoolGroup", "groups", "groups"),
    # Identity pool, its roles and their policies (bucket names aside).
    ("IdentityPool.AllowUnauthenticatedIdentities", "identity_pool.AllowUnauthenticatedIdentities", "same"),
    ("AuthenticatedRole.Policies", "identity_pool.roles.authenticated.Policy", "policy"),
    ("UnauthenticatedRole.Policies", "identity_pool.roles.unauthenticated.Policy", "policy"),
    # The avatar bucket's CORS (origins: see test_cors_allows_exactly_the_app_origins).
    ("AvatarBucket.CorsConfiguration.CorsRules", "s3.CORSRules", "cors"),
]

# Rows for what other branches add to the seed (h3: spa_client; h4: the moderator role and role
# mappings): compared once the seed holds them, skipped (with the reason) until then.
SPA = [
    "ClientName", "GenerateSecret", "AllowedOAuthFlowsUserPoolClient", "EnableTokenRevocation",
    "PreventUserExistenceErrors", "AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity",
    "TokenValidityUnits", "AuthSessionValidity",
]  # fmt: skip
PENDING_PAIRS: list[tuple[str, str, str]] = [
    *((f"SpaClient.{key}", f"spa_client.{key}", "same") for key in SPA),
    ("SpaClient.AllowedOAuthFlows", "spa_client.AllowedOAuthFlows", "same set"),
    ("SpaClient.AllowedOAuthScopes", "spa_client.AllowedOAuthScopes", "same set"),
    ("SpaClient.SupportedIdentityProviders", "spa_client.SupportedIdentityProviders", "same set"),
    ("SpaClient.CallbackURLs", "spa_client.CallbackURLs", "same paths"),
    ("SpaClient.LogoutURLs", "spa_client.LogoutURLs", "same paths"),
    ("SpaClient.ExplicitAuthFlows", "spa_client.ExplicitAuthFlows", "template within seed"),
    ("SpaClient.ReadAttributes", "spa_client.ReadAttributes", "same set"),
    ("SpaClient.WriteAttributes", "spa_client.WriteAttributes", "same set"),
    ("ModeratorRole.Policies", "iam_roles.moderator.Policy", "policy"),
    ("IdentityPoolRoles.RoleMappings.web", "identity_pool_role_mappings.web", "role mapping"),
    ("UserPool.UserAttributeUpdateSettings", "user_pool.UserAttributeUpdateSettings", "same"),
]
# Pending rows whose section the seed has, but not yet the key (another branch adds it to config.json).
PENDING_KEYS = {"user_pool.UserAttributeUpdateSettings"}

# Seed keys with no counterpart in the template, and why.
SEED_ONLY = {
    "region": "the stack's region is chosen at deploy time",
    "users": "demo accounts, local only",
    "hosted_ui": "Cognito's fixed code and session lifetimes, configurable locally so tests can shorten them",
    "user_pool.PoolName": "names are per deployment",
    "identity_pool.IdentityPoolName": "names are per deployment",
    "identity_pool.credentials_seconds": "fixed at one hour on AWS; tests shorten it",
    "identity_pool.roles.authenticated.RoleArn": "ARNs are per account",
    "identity_pool.roles.unauthenticated.RoleArn": "ARNs are per account",
    "iam_roles.moderator.RoleArn": "ARNs are per account",
    "s3.bucket": "names are per deployment",
    "branding": (
        "the hosted pages' look: on AWS a managed-login branding style (ManagedLoginVersion 2) or the "
        "classic UI's UserPoolUICustomizationAttachment (CSS + logo); not in the template yet"
    ),
    "user_pool.Policies.SignInPolicy": "e-mailed sign-in codes (EMAIL_OTP as a first factor): on AWS they"
    " need the Essentials tier, SES (EmailSendingAccount DEVELOPER) and managed login, which the"
    " template does not set up (README: E-mailed sign-in codes)",
    "passwordless": "the e-mailed sign-in code's lifetime: fixed on AWS; tests shorten it",
    "app_client.SupportedIdentityProviders": "test_seed_providers_are_the_templates_with_every_provider",
    "identity_providers": "test_seed_providers_are_the_templates_with_every_provider",
    "fake_identity_providers": "the test accounts of localcloud's fake providers, local only",
    "federation.link_verified_email": "emulates the pre-sign-up Lambda of README 'The linking trigger' "
    "(the template attaches none: deployments add their own)",
    "federation.idp_timeout_seconds": "Cognito's own timeout for provider calls is fixed (undocumented)",
}
# Template properties with no counterpart in the seed, and why.
TEMPLATE_ONLY = {
    "UserPool.UserPoolName": "names are per deployment",
    "UserPool.DeletionProtection": "AWS operations only: a stack deletion must not drop the users",
    "UserPool.UsernameConfiguration": "localcloud signs in case-insensitively always (userpool/services.py)",
    "UserPool.VerificationMessageTemplate": "CONFIRM_WITH_CODE, Cognito's default: localcloud sends codes",
    "WebClient.UserPoolId": "the one pool",
    "WebClient.SupportedIdentityProviders": "test_seed_providers_are_the_templates_with_every_provider",
    "SpaClient.UserPoolId": "the one pool",
    "IdentityPool.IdentityPoolName": "names are per deployment",
    "IdentityPool.AllowClassicFlow": "false; localcloud has no classic flow at all",
    "IdentityPool.CognitoIdentityProviders": "seeded as identity_pool.clients (test_template_seed: "
    "test_the_identity_pool_accepts_every_client_the_template_lists; the shipped seed: web and spa by "
    "default); ServerSideTokenCheck stays false",
    "AvatarBucket.BucketName": "names are per deployment",
    "AvatarBucket.OwnershipControls": "AWS only: localcloud's bucket has no ACLs to disable",
    "AvatarBucket.PublicAccessBlockConfiguration": "AWS only: localcloud's bucket is private by construction",
    "AvatarBucket.BucketEncryption": "AWS only: encryption at rest",
    "AvatarBucket.LifecycleConfiguration": "localcloud does not expire objects",
}
# The sections compared key by key: template resource -> seed section.
SECTIONS = {
    "UserPool": "user_pool",
    "WebClient": "app_client",
    "SpaClient": "spa_client",
    "IdentityPool": "identity_pool",
    "AvatarBucket": "s3",
}


@pytest.fixture(scope="module")
def template():
    return resolved_template()


@pytest.fixture(scope="module")
def shipped():
    return seed()


@pytest.mark.parametrize(("template_path", "seed_path", "how"), PAIRS, ids=[p[0] for p in PAIRS])
def test_template_and_seed_agree(template, shipped, template_path, seed_path, how):
    _compare(template, shipped, template_path, seed_path, how)


@pytest.mark.parametrize(
    ("template_path", "seed_path", "how"), PENDING_PAIRS, ids=[p[0] for p in PENDING_PAIRS]
)
def test_template_and_seed_agree_on_what_other_branches_add(template, shipped, template_path, seed_path, how):
    if lookup(shipped, seed_path.split(".", 1)[0]) is MISSING:
        pytest.skip(f"the seed has no {seed_path.split('.', 1)[0]} yet")
    if seed_path in PENDING_KEYS and lookup(shipped, seed_path) is MISSING:
        pytest.skip(f"the seed has no {seed_path} yet")
    _compare(template, shipped, template_path, seed_path, how)


def _compare(template, shipped, template_path, seed_path, how):
    template_side = template_value(template, template_path)
    seed_side = lookup(shipped, seed_path)
    assert template_side is not MISSING or seed_side is MISSING or how == "totp", f"{template_path} missing"
    assert COMPARE[how](template_side, seed_side), (
        f"{template_path} = {template_side!r}\n{seed_path} = {seed_side!r}"
    )


def _leaf_paths(data, prefix=""):
    """Dotted paths of every key but comments ("_comment"), down to lists and scalars."""
    for key, value in data.items():
        if key.startswith("_"):
            continue
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from _leaf_paths(value, f"{path}.")


def _covered(path: str, compared: set[str], own: dict[str, str]) -> bool:
    """A path is covered when it, or a key above it, is compared or listed as one side's own."""
    parts = path.split(".")
    return any(
        ".".join(parts[:n]) in compared or ".".join(parts[:n]) in own for n in range(1, len(parts) + 1)
    )


def _needs_cover(path: str, compared: set[str], own: dict[str, str]) -> bool:
    """A key needs its own row unless something below it is compared (then its children are checked)."""
    return not _covered(path, compared, own) and not any(
        c.startswith(path + ".") for c in compared | set(own)
    )


def test_every_seed_setting_is_compared_or_explained(shipped):
    compared = {seed_path for _, seed_path, _ in PAIRS + PENDING_PAIRS}
    unexplained = [p for p in _leaf_paths(shipped) if _needs_cover(p, compared, SEED_ONLY)]
    assert not unexplained, f"seed keys with no row in PAIRS or SEED_ONLY: {unexplained}"


def test_every_template_property_is_compared_or_explained(template):
    compared = {template_path for template_path, _, _ in PAIRS + PENDING_PAIRS}
    unexplained = [
        f"{resource}.{path}"
        for resource in SECTIONS
        for path in _leaf_paths(template.resources[resource]["Properties"])
        if _needs_cover(f"{resource}.{path}", compared, TEMPLATE_ONLY)
    ]
    assert not unexplained, f"template properties with no row in PAIRS or TEMPLATE_ONLY: {unexplained}"


def test_cors_allows_exactly_the_app_origins(template, shipped):
    """Each side's bucket admits the origins its own client calls back to, and no other."""
    (template_rule,) = template_value(template, "AvatarBucket.CorsConfiguration.CorsRules")
    assert template_rule["AllowedOrigins"] == [DEPLOYED["AppOrigins"]]
    seed_origins = sorted(
        {url.rsplit("/oidc/callback/", 1)[0] for url in shipped["app_client"]["CallbackURLs"]}
    )
    (seed_rule,) = shipped["s3"]["CORSRules"]
    assert sorted(seed_rule["AllowedOrigins"]) == seed_origins


def test_identity_pool_providers_and_roles_are_wired(template):
    """The identity pool trusts the web client of this pool; its roles are the ones compared above."""
    providers = template_value(template, "IdentityPool.CognitoIdentityProviders")
    pool_provider = template.reference("UserPool", "ProviderName")
    assert {
        "ClientId": "__WebClient__",
        "ProviderName": pool_provider,
        "ServerSideTokenCheck": False,
    } in providers
    roles = template_value(template, "IdentityPoolRoles.Roles")
    assert roles == {
        "authenticated": template.reference("AuthenticatedRole", "Arn"),
        "unauthenticated": template.reference("UnauthenticatedRole", "Arn"),
    }


def test_the_same_clients_have_role_mappings_on_both_sides(template, shipped):
    """Only the web client's tokens are mapped (to the moderator role): the template and the seed alike."""
    names = {"__WebClient__": "WebClient", "__SpaClient__": "SpaClient"}
    pool = template.reference("UserPool", "ProviderName")
    mapped = set()
    for mapping in template_value(template, "IdentityPoolRoles.RoleMappings").values():
        client = names[mapping["IdentityProvider"].removeprefix(f"{pool}:")]
        mapped.add(template_value(template, f"{client}.ClientName"))
    seeded = {name for name in shipped["identity_pool_role_mappings"] if not name.startswith("_")}
    assert mapped == seeded == {shipped["app_client"]["ClientName"]}
    assert shipped["spa_client"]["ClientName"] not in seeded


def test_the_app_asks_for_scopes_both_sides_allow(template, shipped, settings):
    asked = set(settings.COGNITO_SCOPES.split())
    assert asked <= set(template_value(template, "WebClient.AllowedOAuthScopes"))
    assert asked <= set(shipped["app_client"]["AllowedOAuthScopes"])


# Every provider's parameters, as a deployment offering them all would give (the OIDC one named and
# issued as the seed's, whose fake localcloud serves).
ALL_PROVIDERS = {
    "GoogleClientId": "g.apps.googleusercontent.com", "GoogleClientSecret": "s",
    "FacebookAppId": "123", "FacebookAppSecret": "s",
    "AppleServicesId": "com.example", "AppleTeamId": "T", "AppleKeyId": "K", "ApplePrivateKey": "P",
    "OidcProviderName": "ExampleOIDC", "OidcIssuer": "https://idp.localcloud.test",
    "OidcClientId": "c", "OidcClientSecret": "s",
}  # fmt: skip
# Per deployment (the provider's registration): never compared.
REGISTRATION = {"client_id", "client_secret", "team_id", "key_id", "private_key"}


def test_seed_providers_are_the_templates_with_every_provider(shipped):
    """The seed's providers are what the template creates when every provider is configured."""
    template = resolved_template(**ALL_PROVIDERS)
    offered = template_value(template, "WebClient.SupportedIdentityProviders")
    assert set(offered) == set(shipped["app_client"]["SupportedIdentityProviders"])
    created = {
        p["ProviderName"]: p for p in template.of_type("AWS::Cognito::UserPoolIdentityProvider").values()
    }
    seeded = {p["ProviderName"]: p for p in shipped["identity_providers"]}
    assert set(created) == set(seeded)
    for name, spec in seeded.items():
        made = created[name]
        assert made["ProviderType"] == spec["ProviderType"], name
        assert made["AttributeMapping"] == spec["AttributeMapping"], name
        assert made.get("IdpIdentifiers", []) == spec.get("IdpIdentifiers", []), name
        details = {k: v for k, v in made["ProviderDetails"].items() if k not in REGISTRATION}
        assert details == {k: v for k, v in spec["ProviderDetails"].items() if k not in REGISTRATION}, name


@pytest.mark.parametrize(("resource", "section"), [("WebClient", "app_client"), ("SpaClient", "spa_client")])
def test_both_clients_state_their_auth_session_validity(template, shipped, resource, section):
    """How long a sign-in may take between steps is written out on both sides, not left to a default."""
    stated = template_value(template, f"{resource}.AuthSessionValidity")
    assert isinstance(stated, int) and 3 <= stated <= 15, stated
    assert lookup(shipped, f"{section}.AuthSessionValidity") == stated
