"""IAM evaluation used for identity credentials: wildcards, variables, conditions, explicit deny."""

from __future__ import annotations

import json

import pytest

from localcloud.config import Config
from localcloud.s3.policy import PolicyError, check, evaluate

SUB = "cognito-identity.amazonaws.com:sub"
ME = {SUB: "us-east-1:1111"}


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_variables_and_wildcards() -> None:
    own = doc({"Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::b/p/${" + SUB + "}/*"})
    assert evaluate(own, "s3:PutObject", "arn:aws:s3:::b/p/us-east-1:1111/x/y", variables=ME)
    assert evaluate(own, "S3:getobject", "arn:aws:s3:::b/p/us-east-1:1111/x", variables=ME)
    assert not evaluate(own, "s3:PutObject", "arn:aws:s3:::b/p/us-east-1:2222/x", variables=ME)
    assert not evaluate(own, "s3:PutObject", "arn:aws:s3:::b/p/us-east-1:11110/x", variables=ME)
    assert not evaluate(own, "s3:ListBucket", "arn:aws:s3:::b/p/us-east-1:1111/x", variables=ME)
    # Without a value for the variable the statement matches nothing (never "everything").
    assert not evaluate(own, "s3:PutObject", "arn:aws:s3:::b/p/us-east-1:1111/x")


def test_literal_escapes_and_question_mark() -> None:
    literal = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${*}/?"})
    assert evaluate(literal, "s3:GetObject", "arn:aws:s3:::b/*/a")
    assert not evaluate(literal, "s3:GetObject", "arn:aws:s3:::b/x/a")
    assert not evaluate(literal, "s3:GetObject", "arn:aws:s3:::b/*/ab")


def test_explicit_deny_wins_and_default_is_deny() -> None:
    policy = doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
    )
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::b/open/x")
    assert not evaluate(policy, "s3:GetObject", "arn:aws:s3:::b/secret/x")
    assert not evaluate(policy, "s3:PutObject", "arn:aws:s3:::b/open/x")
    assert not evaluate({}, "s3:GetObject", "arn:aws:s3:::b/open/x")


def test_conditions() -> None:
    listing = doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {"StringLike": {"s3:prefix": ["public/*", "private/${" + SUB + "}/*"]}},
        }
    )
    assert evaluate(listing, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "public/a"}, ME)
    assert evaluate(listing, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "private/us-east-1:1111/"}, ME)
    assert not evaluate(listing, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "private/x/"}, ME)
    assert not evaluate(listing, "s3:ListBucket", "arn:aws:s3:::b", {}, ME)
    unknown = doc(
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "1"}},
        }
    )
    assert not evaluate(unknown, "s3:GetObject", "arn:aws:s3:::b/x")
    negated = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"k": "v"}}}
    )
    assert evaluate(negated, "s3:GetObject", "arn:aws:s3:::b/x", {"k": "w"})
    assert not evaluate(negated, "s3:GetObject", "arn:aws:s3:::b/x", {"k": "v"})


def test_shipped_roles_follow_amplifys_convention() -> None:
    pool = Config.load().identity_pool
    auth, guest = (pool["roles"][k]["Policy"] for k in ("authenticated", "unauthenticated"))
    bucket = "arn:aws:s3:::" + Config.load().bucket

    def can(policy: dict, action: str, key: str) -> bool:
        return evaluate(policy, action, f"{bucket}/{key}", variables=ME)

    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert can(auth, action, "protected/us-east-1:1111/a")
        assert can(auth, action, "private/us-east-1:1111/a")
        assert not can(auth, action, "private/us-east-1:2222/a")
        assert not can(guest, action, "private/us-east-1:1111/a")
    for policy in (auth, guest):
        assert can(policy, "s3:GetObject", "protected/us-east-1:2222/a")
        assert can(policy, "s3:GetObject", "public/a")
        assert not can(policy, "s3:PutObject", "public/a")
        assert not can(policy, "s3:GetObject", "other/a")
    assert not can(guest, "s3:PutObject", "protected/us-east-1:1111/a")


ALLOW_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
UNREADABLE_DENIES = [
    {"Effect": "Deny", "NotResource": "arn:aws:s3:::b/public/*", "Action": "s3:*"},
    {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
    {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"k": "v"}}},
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "1"}}},
    {"Effect": "Deny", "Action": ["s3:*", 1], "Resource": "*"},
]


def test_an_unreadable_deny_fails_closed() -> None:
    # AWS would refuse some of these requests; a Deny localcloud cannot read must not let them through.
    for deny in UNREADABLE_DENIES:
        assert not evaluate(doc(ALLOW_ALL, deny), "s3:PutObject", "arn:aws:s3:::b/private/x"), deny
    # An unreadable Allow still grants nothing.
    for deny in UNREADABLE_DENIES:
        allow = {**deny, "Effect": "Allow"}
        assert not evaluate(doc(allow), "s3:GetObject", "arn:aws:s3:::b/public/x"), allow
    assert not evaluate({"Statement": "nonsense"}, "s3:GetObject", "arn:aws:s3:::b/x")


def test_an_unreadable_statement_is_refused_when_the_config_is_seeded(tmp_path) -> None:
    for deny in UNREADABLE_DENIES:
        with pytest.raises(PolicyError, match="statement 'NoTls'|statement 1"):
            check(doc(ALLOW_ALL, {**deny, "Sid": "NoTls"} if "Condition" in deny else deny), "role")
    check(doc(ALLOW_ALL, {"Sid": "x", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}), "role")
    config = {
        "extends": str(Config.load().path),
        "identity_pool": {"roles": {"authenticated": {"RoleArn": "arn:aws:iam::1:role/r",
                                                       "Policy": doc(ALLOW_ALL, UNREADABLE_DENIES[0])}}},
    }  # fmt: skip
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    with pytest.raises(
        PolicyError, match=r"identity_pool.roles.authenticated: statement 1: element\(s\) NotResource"
    ):
        Config.load(path)
