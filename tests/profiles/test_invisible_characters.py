"""Control and format characters: one rule (project.text) for the forms, the claims and stored rows."""

from __future__ import annotations

import importlib
import json
import unicodedata
from http import HTTPStatus

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.services import user_update_from_claims
from profiles.forms import ProfileForm, multi_line_text, single_line_text
from profiles.models import Profile
from profiles.services import profile_sync_from_claims
from project import text
from project.integrations import cognito
from tests.support.users import make_member

pytestmark = pytest.mark.django_db

EVIL_NAME = "Mallory\u202eevil\u0007\u2028x"
EVIL_COLLEGE = "C\u202eol\u200bl"


def patch_me(token: str, body: dict):
    return Client().patch(
        "/api/user/me",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def refused_by(validator, char: str) -> bool:
    try:
        validator(f"a{char}b")
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize(("validator", "multi_line"), [(single_line_text, False), (multi_line_text, True)])
def test_the_forms_refuse_exactly_what_the_claims_sanitiser_removes(validator, multi_line):
    chars = [chr(c) for c in range(0x3000)] + [
        "\ufeff",
        "\ufff9",
        "\U000e0041",
        "\U0001d173",
        "\ud800",
        "\u3164",
    ]
    for char in chars:
        removed = text.without_refused(f"a{char}b", multi_line=multi_line) == "ab"
        assert refused_by(validator, char) == removed, f"U+{ord(char):04X}"
    for kept in ("\u200c", "\u200d", "\u00a0", "é"):
        assert text.without_refused(kept) == kept


def test_characters_a_user_wrote_into_cognito_do_not_reach_the_profile(new_user, sign_in, app_client):
    email, password, sub = new_user(name="Plain Name")
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    # What anyone can do with their own access token: Cognito takes these characters.
    cognito.user_pool().update_user_attributes(
        access_token=token, attributes={"name": EVIL_NAME, "custom:college": EVIL_COLLEGE}
    )

    assert sign_in(email, password).status_code == HTTPStatus.FOUND  # the sign-in is not refused

    profile = Profile.objects.get(user__cognito_sub=sub)
    assert (profile.display_name, profile.college) == ("Malloryevilx", "Coll")
    assert get_user_model().objects.get(cognito_sub=sub).name == "Malloryevilx"
    Profile.objects.filter(pk=profile.pk).update(visibility=Profile.Visibility.PUBLIC)
    directory = app_client.get("/people/", {"q": "mallory"}).content.decode()
    assert "Malloryevilx" in directory and "\u202e" not in directory
    assert patch_me(token, {"bio": "hello"}).status_code == HTTPStatus.OK


def test_joiners_in_claims_are_kept(new_user, sign_in):
    email, password, sub = new_user(name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")  # Persian ZWNJ
    sign_in(email, password)
    assert (
        Profile.objects.get(user__cognito_sub=sub).display_name
        == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )


def test_a_claim_of_invisible_characters_only_keeps_the_name_the_profile_has(new_user, sign_in, idp):
    email, password, sub = new_user(name="Kept Name")
    sign_in(email, password)
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    cognito.user_pool().update_user_attributes(access_token=token, attributes={"name": "\u202e\u200b"})
    assert sign_in(email, password).status_code == HTTPStatus.FOUND
    assert Profile.objects.get(user__cognito_sub=sub).display_name == "Kept Name"


@pytest.fixture
def stored_before_the_rule(new_user, sign_in, app_client):
    """(client, profile, access token) of a user whose row holds what the rule refuses (an old row)."""
    email, password, sub = new_user(name="Old Row")
    sign_in(email, password)
    Profile.objects.filter(user__cognito_sub=sub).update(display_name=EVIL_NAME, college=EVIL_COLLEGE)
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    return app_client, Profile.objects.get(user__cognito_sub=sub), token


def test_an_api_patch_is_not_blocked_by_a_stored_value_it_does_not_send(stored_before_the_rule):
    _, profile, token = stored_before_the_rule
    response = patch_me(token, {"bio": "hello"})
    assert response.status_code == HTTPStatus.OK, response.content
    profile.refresh_from_db()
    assert (profile.bio, profile.display_name) == ("hello", EVIL_NAME)  # unchanged fields not written
    # A field the PATCH does send meets every rule.
    refused = patch_me(token, {"college": "C\u202eol"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST and "college" in refused.json()["errors"]


def test_a_form_edit_is_not_blocked_by_a_stored_value_it_does_not_change(stored_before_the_rule):
    client, profile, _ = stored_before_the_rule
    form = {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "college": profile.college,
        "visibility": profile.visibility,
        "version": profile.version,
    }
    response = client.post("/me/edit/", {**form, "bio": "hello"})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.bio == "hello"
    retyped = client.post("/me/edit/", {**form, "version": profile.version, "display_name": "New\u202e"})
    assert retyped.status_code == HTTPStatus.BAD_REQUEST and b"U+202E" in retyped.content


def _migration(app: str, name: str):
    return importlib.import_module(f"{app}.migrations.{name}")


def test_the_data_migrations_clean_rows_stored_before_the_fix():
    user, profile = make_member(name="Migrated")
    _, blank = make_member(name="Blank")
    Profile.objects.filter(pk=profile.pk).update(
        display_name=EVIL_NAME,
        college=EVIL_COLLEGE,
        bio="line one\nline\u202e two\t\x07",
        pronouns="they\u200d",
    )
    Profile.objects.filter(pk=blank.pk).update(display_name="\u202e\u2028")
    get_user_model().objects.filter(pk=user.pk).update(name=EVIL_NAME)

    _migration("profiles", "0003_text_without_refused_characters").clean_profile_text(apps, None)
    _migration("accounts", "0003_names_without_refused_characters").clean_names(apps, None)

    cleaned = Profile.objects.get(pk=profile.pk)
    assert (cleaned.display_name, cleaned.college) == ("Malloryevilx", "Coll")
    assert (cleaned.bio, cleaned.pronouns) == ("line one\nline two\t", "they\u200d")
    assert cleaned.version == profile.version + 1  # an editor opened before must reload
    assert Profile.objects.get(pk=blank.pk).display_name == blank.handle
    assert get_user_model().objects.get(pk=user.pk).name == "Malloryevilx"


@pytest.mark.parametrize(
    ("email", "display_name"),
    [("x\u202eevil\u200b@example.com", "xevil"), ("\u202e\u2028@example.com", "member")],
    ids=["mixed", "only-refused"],
)
def test_the_mailbox_a_nameless_profile_falls_back_to_meets_the_rule(email, display_name):
    """Reviewer D: an address set with UpdateUserAttributes (then verified) named the profile as it was."""
    user = get_user_model().objects.create_user(username=f"nameless-{display_name}", email=email)
    profile = profile_sync_from_claims(user=user, claims={"email": email, "email_verified": True})
    assert profile.display_name == display_name
    assert text.first_refused(profile.handle) is None


FILLERS = [
    "\u3164",
    "\u115f",
    "\u1160",
    "\uffa0",
    "\u2800",
    "\u034f",
    "\u17b4",
    "\u17b5",
    "\U0001d159",
    "\U00016fe4",
]
ZALGO = "Z" + "\u0300\u0301\u0302\u0303\u0304\u0305\u0306" * 30 + "oe"  # 210 marks on one letter
# Accents as people write them: precomposed and decomposed Spanish, Vietnamese with 2 marks on one
# letter (decomposed), Hindi, Tibetan (3 marks), Persian with a ZWNJ, an emoji family (ZWJs).
WRITTEN = [
    "Niña",
    "Nin\u0303a",
    "Nguyễn Thị Ánh",
    unicodedata.normalize("NFD", "Nguyễn Thị Ánh"),
    "\u0928\u0940\u0932\u093e \u0936\u0930\u094d\u092e\u093e",
    "\u0f56\u0f66\u0f92\u0fb2\u0f74\u0f56",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\u0939\u093f\u0928\u094d\u0926\u0940",  # Hindi: Mc vowel signs
    "\u0d2e\u0d32\u0d2f\u0d3e\u0d33\u0d02",  # Malayalam: Mc signs
    "\u1000\u103c\u1031\u102c\u1004\u103a\u1037",  # Burmese: 3 Mc signs on one letter
    "\u2764\ufe0f \u0031\ufe0f\u20e3 \U0001f44b\U0001f3fd",  # emoji with selectors, keycap, skin tone
    "a\u0300\u0301\u0302\u0303",  # as many marks as allowed
]


@pytest.mark.parametrize("char", FILLERS, ids=[f"U+{ord(c):04X}" for c in FILLERS])
def test_blank_fillers_are_refused_by_the_forms_and_removed_from_claims(char):
    """Reviewer D: Lo/So/Mn characters that draw nothing made visually blank names."""
    with pytest.raises(ValidationError, match=f"U\\+{ord(char):04X}"):
        single_line_text(char * 3)
    assert refused_by(multi_line_text, char)
    assert text.without_refused(f"Ann{char}a{char * 5}") == "Anna"
    user = get_user_model().objects.create_user(username=f"filler-{ord(char)}", email="blank@example.com")
    assert profile_sync_from_claims(user=user, claims={"name": char * 5}).display_name == "blank"


def test_a_pile_of_combining_marks_is_refused_by_the_forms_and_trimmed_in_claims():
    with pytest.raises(ValidationError, match=r"Too many accents or marks on one letter \(more than 4\)"):
        single_line_text(ZALGO)
    with pytest.raises(ValidationError, match="Too many accents"):
        multi_line_text("line\n" + "a\u0301" + "\u0308" * 4)
    trimmed = "Z\u0300\u0301\u0302\u0303oe"
    assert text.without_refused(ZALGO) == trimmed
    # Marks on either side of a removed character still sit on the same letter.
    assert text.without_refused("a\u0300\u0301\u200b\u0302\u0303\u0304") == "a\u0300\u0301\u0302\u0303"
    user = get_user_model().objects.create_user(username="zalgo", email="zalgo@example.com")
    assert profile_sync_from_claims(user=user, claims={"name": ZALGO}).display_name == trimmed


@pytest.mark.parametrize("written", WRITTEN)
def test_accented_and_joined_text_as_people_write_it_is_accepted(written):
    single_line_text(written)
    multi_line_text(f"{written}\n{written}")
    assert text.without_refused(written) == written


# Reviewer E: the count of marks on one letter started again after a character that draws nothing.
MARKS_PAST_INVISIBLES = {
    "null-notehead": "a" + ("\u0300\u0301\u0302\u0303" + "\U0001d159") * 20,
    "khitan-filler": "a" + ("\u0300\u0301\u0302\u0303" + "\U00016fe4") * 20,
    "unassigned-ignorable": "a" + ("\u0300\u0301\u0302\u0303" + "\u2065") * 20,
    "spacing-marks": "a" + "\u0903" * 30,
    "mixed-marks": "a" + "\u0300\u0903\u20dd" * 10,
}


@pytest.mark.parametrize("value", MARKS_PAST_INVISIBLES.values(), ids=MARKS_PAST_INVISIBLES.keys())
def test_marks_past_an_invisible_character_or_spacing_marks_still_count_on_one_letter(value):
    assert text.first_refused(value) is not None
    with pytest.raises(ValidationError):
        single_line_text(value)
    kept = text.without_refused(value)
    assert text.first_refused(kept) is None
    marks = sum(unicodedata.category(char)[0] == "M" for char in kept)
    assert marks == text.MAX_COMBINING_MARKS


BLANK_NAMES = {
    "em-quad": "\u2001",
    "space-and-mark": "\u2001\u0301",
    "mark-only": "\u0301\u0302",
    "selectors": "\ufe0f\ufe0f",
    "unassigned-ignorable": "\u2065",
    "null-notehead": "\U0001d159",
    "khitan-filler": "\U00016fe4",
}


@pytest.mark.parametrize("name", BLANK_NAMES.values(), ids=BLANK_NAMES.keys())
def test_a_name_with_nothing_to_see_is_refused_by_the_form_and_not_taken_from_claims(name):
    user, profile = make_member(name="Kept Name")
    form = ProfileForm(
        data={
            "display_name": name,
            "handle": profile.handle,
            "visibility": profile.visibility,
            "version": profile.version,
        },
        instance=profile,
    )
    assert not form.is_valid() and "display_name" in form.errors
    assert profile_sync_from_claims(user=user, claims={"name": name}).display_name == "Kept Name"
    user_update_from_claims(user=user, claims={"name": name, "email": user.email})
    assert get_user_model().objects.get(pk=user.pk).name == ""
    nameless = get_user_model().objects.create_user(username="nameless", email=f"{name}@example.com")
    assert profile_sync_from_claims(user=nameless, claims={}).display_name == "member"


def test_a_name_with_something_to_see_among_spaces_is_kept():
    user, _ = make_member(name="Kept Name")
    assert profile_sync_from_claims(user=user, claims={"name": "\u2001\u00e9\u2001"}).display_name == "\u00e9"


# Reviewer F: marks newer than Python's Unicode database are unassigned (Cn) to it, so they were
# neither marks nor refused: "Al" and 40 of them passed. Names and single-line text refuse Cn.
UNASSIGNED_TO_PYTHON = ["\U0001e08f", "\u0897", "\U00010efd", "\U000e0fff"]


@pytest.mark.parametrize("char", UNASSIGNED_TO_PYTHON, ids=[f"U+{ord(c):04X}" for c in UNASSIGNED_TO_PYTHON])
def test_unassigned_characters_are_refused_in_names_and_removed_from_claims(char):
    assert unicodedata.category(char) == "Cn"
    value = "Al" + char * 40
    with pytest.raises(ValidationError, match=f"U\\+{ord(char):04X}"):
        single_line_text(value)
    assert text.clean_name(value, 100) == "Al"
    user = get_user_model().objects.create_user(username=f"cn-{ord(char)}", email="cn@example.com")
    assert profile_sync_from_claims(user=user, claims={"name": value}).display_name == "Al"


def test_the_ideographic_half_fill_space_is_a_blank_filler():
    with pytest.raises(ValidationError, match="U\\+303F"):
        single_line_text("\u303f" * 3)
    assert text.clean_name("\u303f\u303f", 100) == ""
    assert text.without_refused("Ann\u303fa") == "Anna"
