"""localcloud seeded from infra/template.yaml: intrinsic functions, refusals, and a stack that works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from localcloud.config import Config
from localcloud.template.loader import TemplateError
from localcloud.template.seed import config_from_template, resolve
from project.integrations.cognito import client_secret
from tests.support.localcloud import (
    ALICE,
    CALLBACK,
    ROOT,
    code_for,
    exchange,
    s3_person,
    spa_id_token,
    start_stack,
)

TEMPLATE = ROOT / "infra" / "template.yaml"
LOCAL = {"AppOrigins": "http://localhost:8000,http://localhost:8001", "SpaOrigins": "http://localhost:5173"}


def _template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return path


MINIMAL = """
Parameters:
  Name: {Type: String, Default: pool}
  Origins: {Type: CommaDelimitedList, Default: "https://a.example,https://b.example"}
  Flag: {Type: String, Default: "", AllowedValues: ["", "on"]}
Conditions:
  On: !Equals [!Ref Flag, "on"]
  Off: !Not [!Condition On]
Resources:
  UserPool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: !Sub "${Name}-${AWS::Region}-${!literal}"
      Schema: !If [On, [{Name: a}], !Ref AWS::NoValue]
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: !Ref UserPool
      ClientName: !Select [1, !Split ["/", "x/web/y"]]
      GenerateSecret: true
      CallbackURLs: !Split [",", !Sub ["${O}/cb", {O: !Join ["/cb,", !Ref Origins]}]]
      LogoutURLs: [!If [Off, "https://off.example/", !Ref AWS::NoValue], "https://always.example/"]
"""


def test_intrinsic_functions_resolve_as_cloudformation_does(tmp_path):
    config = config_from_template(_template(tmp_path, MINIMAL))
    assert config["user_pool"]["PoolName"] == "pool-us-east-1-${literal}"
    assert "Schema" not in config["user_pool"]  # Fn::If to AWS::NoValue drops the property
    client = config["app_client"]
    assert client["ClientName"] == "web"
    assert client["CallbackURLs"] == ["https://a.example/cb", "https://b.example/cb"]
    assert client["LogoutURLs"] == ["https://off.example/", "https://always.example/"]
    on = config_from_template(_template(tmp_path, MINIMAL), {"Flag": "on"})
    assert on["user_pool"]["Schema"] == [{"Name": "a"}]
    assert on["app_client"]["LogoutURLs"] == ["https://always.example/"]  # dropped from the list


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"Flag": "maybe"}, r"Flag: 'maybe' is not one of"),
        ({"Nope": "x"}, r"\['Nope'\] do not exist"),
    ],
)
def test_bad_parameters_are_refused(tmp_path, parameters, message):
    with pytest.raises(TemplateError, match=message):
        config_from_template(_template(tmp_path, MINIMAL), parameters)


def test_a_parameter_without_default_must_be_given():
    with pytest.raises(TemplateError, match="parameter AppOrigins has no default"):
        config_from_template(TEMPLATE)
    with pytest.raises(TemplateError, match="AppOrigins: 'localhost:8000' does not match"):
        config_from_template(TEMPLATE, {**LOCAL, "AppOrigins": "localhost:8000"})


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        (
            "  Fn:\n    Type: AWS::Lambda::Function\n",
            r"cannot seed resource type\(s\) AWS::Lambda::Function \(Fn\)",
        ),
        (
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties: {Name: !FindInMap [a, b, c]}\n",
            "AWS::SQS::Queue",
        ),
        (
            "  G:\n    Type: AWS::Cognito::UserPoolGroup\n    Properties: {GroupName: !FindInMap [a, b]}\n",
            "Fn::FindInMap",
        ),
        (
            "  G:\n    Type: AWS::Cognito::UserPoolGroup\n    Properties: {Description: !Ref Nowhere}\n",
            "'Nowhere'",
        ),
        ("  P2:\n    Type: AWS::Cognito::UserPool\n", "exactly one user pool"),
    ],
)
def test_what_localcloud_cannot_seed_is_refused_by_name(tmp_path, addition, message):
    with pytest.raises(TemplateError, match=message):
        config_from_template(_template(tmp_path, MINIMAL + addition))


def test_the_shipped_template_resolves_with_every_provider(tmp_path):
    providers = {
        "GoogleClientId": "g",
        "FacebookAppId": "f",
        "AppleServicesId": "a",
        "OidcClientId": "o",
        "OidcIssuer": "https://idp.example",
    }
    config = config_from_template(TEMPLATE, {**LOCAL, **providers})
    names = [p["ProviderName"] for p in config["identity_providers"]]
    assert names == ["Google", "Facebook", "SignInWithApple", "OIDC"]
    assert config["app_client"]["SupportedIdentityProviders"] == ["COGNITO", *names]
    assert config["spa_client"]["GenerateSecret"] is False
    moderator = config["iam_roles"]["moderator"]["RoleArn"]
    rules = config["identity_pool_role_mappings"]["web"]["RulesConfiguration"]["Rules"]
    assert {rule["RoleARN"] for rule in rules} == {moderator}
    assert resolve(TEMPLATE, LOCAL).outputs["AwsStorageBucketName"] == config["s3"]["bucket"]


def test_the_cli_names_what_it_cannot_seed(tmp_path):
    bad = _template(tmp_path, MINIMAL + "  Fn:\n    Type: AWS::Lambda::Function\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
            "--template",
            str(bad),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "AWS::Lambda::Function (Fn)" in done.stderr
    assert "Traceback" not in done.stderr


MODERATOR = ("moderator@example.com", "Moderator-pass-1")
MODERATOR_USER = {
    "username": MODERATOR[0],
    "password": MODERATOR[1],
    "attributes": {
        "email": MODERATOR[0],
        "email_verified": "true",
        "name": "Mod",
        "custom:role": "moderator",
    },
    "groups": [],
}


@pytest.fixture(scope="module")
def template_stack(tmp_path_factory):
    """localcloud started from a config that is the template plus a demo user (the "template" key)."""
    tmp = tmp_path_factory.mktemp("template-stack")
    seed = json.loads((ROOT / "localcloud" / "config.json").read_text())
    config = tmp / "config.json"
    users = [*seed["users"][:1], MODERATOR_USER]
    config.write_text(
        json.dumps({"template": str(TEMPLATE), "parameters": LOCAL, "users": users, "groups": []})
    )
    assert Config.load(config).app_client["CallbackURLs"][0] == CALLBACK
    running = start_stack(tmp / "data", config)
    yield running
    running.stop()


def test_a_stack_seeded_from_the_template_signs_in_and_stores_avatars(template_stack):
    stack = template_stack
    assert stack.bucket == "localcloud-avatarbucket"
    code, _ = code_for(stack, *ALICE)
    tokens = exchange(stack, code).json()
    assert set(tokens) >= {"id_token", "access_token", "refresh_token"}
    alice, guest = s3_person(stack, tokens["id_token"]), s3_person(stack)
    own = f"protected/{alice.identity_id}/avatars/a.webp"
    alice.s3.put_object(Bucket=stack.bucket, Key=own, Body=b"x")
    assert guest.s3.get_object(Bucket=stack.bucket, Key=own)["Body"].read() == b"x"
    with pytest.raises(ClientError, match="AccessDenied"):
        guest.s3.put_object(
            Bucket=stack.bucket, Key=f"protected/{guest.identity_id}/avatars/b.webp", Body=b"x"
        )
    with pytest.raises(ClientError, match="AccessDenied"):
        alice.s3.delete_object(Bucket=stack.bucket, Key=f"protected/{guest.identity_id}/x")


def test_a_stack_seeded_from_the_template_admits_only_the_app_origins(template_stack):
    def preflight(origin):
        return requests.options(
            f"{template_stack.s3_base}/{template_stack.bucket}",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=5,
        )

    assert (
        preflight("http://localhost:8001").headers["Access-Control-Allow-Origin"] == "http://localhost:8001"
    )
    assert "Access-Control-Allow-Origin" not in preflight("https://evil.example").headers


def test_the_web_client_secret_is_read_from_the_pool(template_stack, monkeypatch):
    """What make env-from-stack does after reading the Outputs, against the stack's user pool API."""
    env = template_stack.env
    # boto3's credential chain, as an operator's shell would set it: this stack's operator.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env["AWS_SECRET_ACCESS_KEY"])
    secret = client_secret(
        region="us-east-1",
        user_pool_id=env["COGNITO_USER_POOL_ID"],
        client_id=env["COGNITO_CLIENT_ID"],
        endpoint_url=template_stack.base,
    )
    assert secret == env["COGNITO_CLIENT_SECRET"]


# --- hostile templates: every one a TemplateError with a message, never a crash or a hang -------------
POOL_ONLY = "Resources:\n  UserPool:\n    Type: AWS::Cognito::UserPool\n"
LAUGHS = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n" + POOL_ONLY
DEEP = (
    "Resources:\n  UserPool:\n    Type: AWS::Cognito::UserPool\n    Properties: {UserPoolName: "
    + "[" * 5000
    + "]" * 5000
    + "}\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LAUGHS, "anchors and aliases"),
        ("x: &only 1\n" + POOL_ONLY, "anchors and aliases"),
        (DEEP, "nested more than 100 deep"),
        (
            "Conditions:\n  A: !Condition B\n  B: !Condition A\n"
            + POOL_ONLY.replace("Pool\n", "Pool\n    Condition: A\n"),
            "circular Conditions",
        ),
        (POOL_ONLY + "    Properties: {UserPoolName: !If [a]}\n", "Fn::If takes a list of 3"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Select [x, [a]]}\n", "Fn::Select index 'x'"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Select [3, [a]]}\n", "Fn::Select index '3'"),
        (POOL_ONLY + '    Properties: {UserPoolName: {"Fn::Sub": {a: b}}}\n', "Fn::Sub takes a list of 2"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Sub [s, []]}\n", "Fn::Sub takes a string"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Join [[], [a]]}\n", "delimiter must be a string"),
        (POOL_ONLY + "    Properties: {UserPoolName: !GetAtt [UserPool]}\n", "Fn::GetAtt takes a list of 2"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Ref [a]}\n", "Ref takes a name"),
        (POOL_ONLY + "    Properties: {UserPoolName: !Equals [a]}\n", "Fn::Equals is not supported"),
        (
            "Conditions: {C: !Equals [a]}\n" + POOL_ONLY.replace("Pool\n", "Pool\n    Condition: C\n"),
            "Fn::Equals takes a list of 2",
        ),
        ("Parameters: {P: null}\n" + POOL_ONLY, "parameter P: a declaration is a mapping"),
        ("Parameters: [a]\n" + POOL_ONLY, "Parameters must be a mapping"),
        ("Resources: {X: hello}\n", "resource X must be a mapping with a Type"),
        ("Resources: {X: {Type: AWS::Cognito::UserPool, Properties: [a]}}\n", "Properties must be a mapping"),
        (POOL_ONLY + "Outputs: {O: hello}\n", "output O must be a mapping"),
    ],
)
def test_hostile_templates_are_refused_with_a_message(tmp_path, text, message):
    with pytest.raises(TemplateError, match=message):
        resolve(_template(tmp_path, text))


def test_a_template_over_cloudformations_size_limit_is_refused(tmp_path):
    path = _template(tmp_path, POOL_ONLY + "#" + "x" * (1024 * 1024) + "\n")
    with pytest.raises(TemplateError, match="larger than CloudFormation's limit"):
        resolve(path)


LIST_AS_STRING = """
Parameters:
  Origins: {Type: CommaDelimitedList, Default: "https://a.example,https://b.example"}
Resources:
  UserPool:
    Type: AWS::Cognito::UserPool
    Properties: {UserPoolName: %s}
"""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('!Sub "${Origins}/oidc/callback/"', r"Fn::Sub \$\{Origins\}: \['https://a.example'"),
        ('!Sub ["${O}/cb", {O: !Ref Origins}]', r"Fn::Sub \$\{O\}: \[.*is not a string"),
        ('!Join ["", [!Ref Origins, "/cb"]]', r"Fn::Join: \[.*is not a string"),
        ('!Sub "${AWS::NoValue}"', "AWS::NoValue cannot be used as a string"),
    ],
)
def test_a_list_or_no_value_where_a_string_is_needed_is_refused(tmp_path, value, message):
    with pytest.raises(TemplateError, match=message):
        resolve(_template(tmp_path, LIST_AS_STRING % value))


def test_the_cli_prints_a_hostile_templates_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", "--port", "0", "--data-dir", str(tmp_path / "d"),
         "--template", str(_template(tmp_path, LAUGHS))],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert "anchors and aliases" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_role_policy_localcloud_cannot_read_is_refused_by_name(tmp_path):
    text = TEMPLATE.read_text().replace(
        "              - Sid: ReadProtectedAndPublic\n",
        "              - Sid: NoPlainHttp\n                Effect: Deny\n                Action: ['s3:*']\n"
        "                Resource: '*'\n                Condition: {Bool: {aws:SecureTransport: 'false'}}\n"
        "              - Sid: ReadProtectedAndPublic\n",
        1,
    )
    with pytest.raises(
        TemplateError, match="AuthenticatedRole: statement 'NoPlainHttp': condition operator Bool"
    ):
        config_from_template(_template(tmp_path, text), LOCAL)


def test_the_identity_pool_accepts_every_client_the_template_lists(template_stack):
    """CognitoIdentityProviders lists the web and the SPA client: ID tokens of both get credentials."""
    spa = s3_person(template_stack, spa_id_token(template_stack, *ALICE))
    own = f"protected/{spa.identity_id}/avatars/spa.webp"
    spa.s3.put_object(Bucket=template_stack.bucket, Key=own, Body=b"x")
    code, _ = code_for(template_stack, *ALICE)
    web = s3_person(template_stack, exchange(template_stack, code).json()["id_token"])
    assert web.identity_id == spa.identity_id  # one user, one identity, whichever client signed in


@pytest.mark.parametrize(
    ("property_text", "named"),
    [
        (
            "      LambdaConfig: {PreSignUp: arn:aws:lambda:us-east-1:123456789012:function:f}\n",
            "UserPool.LambdaConfig",
        ),
        ("      UserPoolAddOns: {AdvancedSecurityMode: ENFORCED}\n", "UserPool.UserPoolAddOns"),
        ("      EmailConfiguration: {EmailSendingAccount: DEVELOPER}\n", "UserPool.EmailConfiguration"),
    ],
)
def test_a_property_localcloud_cannot_honour_is_refused_by_name(tmp_path, property_text, named):
    text = MINIMAL.replace("      Schema:", property_text + "      Schema:", 1)
    with pytest.raises(TemplateError, match=f"cannot honour propert\\(ies\\) {named}"):
        config_from_template(_template(tmp_path, text))


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "{Effect: Allow, Principal: '*', Action: 's3:GetObject', Resource: '*'}",
            "evaluates no bucket policy",
        ),
        (
            "{Effect: Deny, Principal: '*', Action: 's3:*', Resource: '*',"
            " Condition: {Bool: {aws:SecureTransport: 'true'}}}",
            "evaluates no bucket policy",
        ),
    ],
)
def test_a_bucket_policy_other_than_the_plain_http_deny_is_refused(tmp_path, statement, message):
    text = TEMPLATE.read_text().replace(
        "          - Sid: DenyInsecureTransport\n",
        f"          - {statement}\n          - Sid: DenyInsecureTransport\n",
        1,
    )
    with pytest.raises(TemplateError, match=message):
        config_from_template(_template(tmp_path, text), LOCAL)


def test_server_side_token_check_is_refused(tmp_path):
    text = TEMPLATE.read_text().replace("ServerSideTokenCheck: false", "ServerSideTokenCheck: true", 1)
    with pytest.raises(TemplateError, match="does not emulate ServerSideTokenCheck"):
        config_from_template(_template(tmp_path, text), LOCAL)


def test_the_role_mappings_give_the_moderator_role_through_the_web_client_only(template_stack):
    """The template maps custom:role moderator to ModeratorRole for the web client; the SPA: members."""
    stack = template_stack
    code, _ = code_for(stack, *ALICE)
    alice = s3_person(stack, exchange(stack, code).json()["id_token"])
    key = f"protected/{alice.identity_id}/avatars/a-512.webp"
    alice.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    # Through the SPA (its tokens are accepted by the identity pool) a moderator is a member.
    spa_moderator = s3_person(stack, spa_id_token(stack, *MODERATOR))
    with pytest.raises(ClientError, match="AccessDenied"):
        spa_moderator.s3.delete_object(Bucket=stack.bucket, Key=key)
    # Through the web client the same person gets the moderator role.
    code, _ = code_for(stack, *MODERATOR)
    moderator = s3_person(stack, exchange(stack, code).json()["id_token"])
    moderator.s3.delete_object(Bucket=stack.bucket, Key=key)
    with pytest.raises(ClientError, match="NoSuchKey|404"):
        alice.s3.get_object(Bucket=stack.bucket, Key=key)


WEB_PROVIDER = (
    "        - ClientId: !Ref WebClient\n          ProviderName: !GetAtt UserPool.ProviderName\n"
    "          ServerSideTokenCheck: false\n"
)


@pytest.mark.parametrize(
    ("old", "new"),
    [("EnabledMfas: [SOFTWARE_TOKEN_MFA]", "EnabledMfas: 5"), (WEB_PROVIDER, "        - hello\n")],
)
def test_a_property_of_the_wrong_shape_is_a_template_error(tmp_path, old, new):
    text = TEMPLATE.read_text()
    assert old in text
    with pytest.raises(TemplateError, match="a resource property has the wrong shape"):
        config_from_template(_template(tmp_path, text.replace(old, new, 1)), LOCAL)
