"""The seeded role mapping in S3: custom:role moderator/admin may read and delete any avatar, nothing more.

S3 itself decides, from the role the identity pool gave the credentials: a member who forges a
moderator's request (here, straight to S3 with their own credentials) is refused by S3.
"""

from __future__ import annotations

import secrets

import pytest

from tests.support.localcloud import Person, Stack, code_of, s3_person

ACCOUNT = "arn:aws:iam::123456789012:role/"


def person(stack: Stack, role: str | None) -> Person:
    """A fresh user with this custom:role (as an administrator sets it), with S3 credentials."""
    email = f"mod-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    attrs = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if role is not None:
        attrs.append({"Name": "custom:role", "Value": role})
    idp.admin_create_user(
        UserPoolId=stack.pool_id, Username=email, UserAttributes=attrs, MessageAction="SUPPRESS"
    )
    idp.admin_set_user_password(
        UserPoolId=stack.pool_id, Username=email, Password="Test-pass-1", Permanent=True
    )
    return s3_person(stack, stack.api_login(email, "Test-pass-1")["IdToken"])


@pytest.fixture
def victim(stack: Stack) -> tuple[Person, dict[str, str]]:
    """A member with an avatar, a raw upload and a private object of their own."""
    owner = person(stack, "member")
    keys = {
        "avatar": owner.key("protected", f"avatars/{secrets.token_hex(8)}-512.webp"),
        "upload": owner.key("uploads", secrets.token_hex(8)),
        "private": owner.key("private", "notes.txt"),
    }
    for key in keys.values():
        owner.s3.put_object(Bucket=stack.bucket, Key=key, Body=b"data")
    return owner, keys


def exists(stack: Stack, key: str) -> bool:
    return stack.s3().list_objects_v2(Bucket=stack.bucket, Prefix=key)["KeyCount"] == 1


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_a_moderator_reads_and_deletes_any_avatar(stack: Stack, victim, role: str) -> None:
    _, keys = victim
    moderator = person(stack, role)
    assert moderator.s3.get_object(Bucket=stack.bucket, Key=keys["avatar"])["Body"].read() == b"data"
    moderator.s3.delete_object(Bucket=stack.bucket, Key=keys["avatar"])
    assert not exists(stack, keys["avatar"])


def test_a_moderator_may_do_nothing_more(stack: Stack, victim) -> None:
    owner, keys = victim
    moderator = person(stack, "moderator")
    bucket = stack.bucket
    # Not write, nor replace, another's avatar; not touch their uploads or private objects; not list.
    assert (
        code_of(lambda: moderator.s3.put_object(Bucket=bucket, Key=keys["avatar"], Body=b"x"))
        == "AccessDenied"
    )
    new_key = owner.key("protected", "avatars/planted-512.webp")
    assert code_of(lambda: moderator.s3.put_object(Bucket=bucket, Key=new_key, Body=b"x")) == "AccessDenied"
    assert code_of(lambda: moderator.s3.delete_object(Bucket=bucket, Key=keys["upload"])) == "AccessDenied"
    assert code_of(lambda: moderator.s3.get_object(Bucket=bucket, Key=keys["upload"])) == "AccessDenied"
    assert code_of(lambda: moderator.s3.delete_object(Bucket=bucket, Key=keys["private"])) == "AccessDenied"
    assert code_of(lambda: moderator.s3.get_object(Bucket=bucket, Key=keys["private"])) == "AccessDenied"
    listing = f"protected/{owner.identity_id}/"
    assert code_of(lambda: moderator.s3.list_objects_v2(Bucket=bucket, Prefix=listing)) == "AccessDenied"
    assert all(exists(stack, key) for key in keys.values())
    # Their own avatar they still manage, as every member does.
    own = moderator.key("protected", "avatars/own-512.webp")
    moderator.s3.put_object(Bucket=bucket, Key=own, Body=b"me")
    moderator.s3.delete_object(Bucket=bucket, Key=own)


@pytest.mark.parametrize("role", ["member", None, "Moderator", "moderator ", "superadmin"])
def test_a_members_forged_delete_of_anothers_avatar_is_refused_by_s3(stack: Stack, victim, role) -> None:
    _, keys = victim
    member = person(stack, role)
    code = code_of(lambda: member.s3.delete_object(Bucket=stack.bucket, Key=keys["avatar"]))
    assert code == "AccessDenied"
    assert exists(stack, keys["avatar"])


def test_a_member_cannot_ask_for_the_moderator_role(stack: Stack, victim) -> None:
    email = f"mod-{secrets.token_hex(5)}@example.com"
    idp = stack.idp()
    idp.admin_create_user(
        UserPoolId=stack.pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:role", "Value": "member"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=stack.pool_id, Username=email, Password="Test-pass-1", Permanent=True
    )
    token = stack.api_login(email, "Test-pass-1")["IdToken"]
    client = stack.cognito_identity()
    logins = {stack.provider: token}
    identity_id = client.get_id(IdentityPoolId=stack.identity_pool_id, Logins=logins)["IdentityId"]
    code = code_of(
        lambda: client.get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins, CustomRoleArn=ACCOUNT + "localcloud-identity-moderator"
        )
    )
    assert code == "NotAuthorizedException"
