"""Avatars: store (from a form upload or a direct browser upload), remove, and presigned URLs to show them.

Objects are written and deleted with the USER's identity credentials under
protected/<identityId>/avatars/, so the IAM role policy — not this code alone — keeps users out of
each other's prefixes. URLs are presigned with the VIEWER's credentials and reused while valid.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from profiles import credentials as creds
from profiles import images
from profiles.models import Profile
from project.integrations import s3
from project.integrations.identity_pool import Credentials

logger = logging.getLogger(__name__)

LARGE, SMALL = 512, 128
SESSION_URLS = "avatar_urls"
SESSION_OWN = "own_avatar_key"
# A cached URL is handed out only while it has this long left, so the browser can still load it.
URL_REUSE_MARGIN = 300
MAX_CACHED_URLS = 300
UPLOAD_NAME_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class AvatarStoreFailed(Exception):
    """S3 or the identity pool failed; nothing changed. The message is for the user."""


class UploadKeyRefused(Exception):
    """The key is not one of the caller's own raw uploads."""


def object_key(stem: str, size: int) -> str:
    return f"{stem}-{size}.webp"


def _user_credentials(request: HttpRequest, profile: Profile) -> Credentials:
    try:
        return creds.user_credentials(request=request, profile=profile)
    except creds.CredentialsUnavailable as exc:
        raise AvatarStoreFailed(str(exc)) from exc


def _delete_quietly(credentials: Credentials, keys: list[str]) -> None:
    for key in keys:
        try:
            s3.bucket().delete(credentials, key=key)
        except s3.S3Error as exc:
            # An orphan under the user's own prefix; the profile no longer points at it.
            logger.warning("could not delete %s: %s", key, exc)


def _remember_own(request: HttpRequest, stem: str) -> None:
    if request.session.get(SESSION_OWN) != stem:
        request.session[SESSION_OWN] = stem


def avatar_store(*, request: HttpRequest, profile: Profile, renditions: images.Renditions) -> Profile:
    """Upload both renditions, point the profile at them in one transaction, then drop the old ones.

    If S3 fails, whatever was written is deleted and the profile keeps its old avatar.
    """
    credentials = _user_credentials(request, profile)
    stem = f"protected/{credentials.identity_id}/avatars/{secrets.token_urlsafe(16)}"
    written: list[str] = []
    try:
        for size, data in renditions.by_size.items():
            key = object_key(stem, size)
            s3.bucket().put(credentials, key=key, data=data, content_type="image/webp")
            written.append(key)
    except s3.S3Error as exc:
        logger.warning("avatar upload of profile %s failed: %s", profile.pk, exc)
        _delete_quietly(credentials, written)
        raise AvatarStoreFailed(
            "Your picture could not be saved (the storage service failed). Your current picture is unchanged."
        ) from exc
    try:
        with transaction.atomic():
            # The row lock orders concurrent avatar changes: each one deletes exactly the
            # avatar it replaced, and the version bump tells other editors (and ETags) it changed.
            old = Profile.objects.select_for_update().values_list("avatar_key", flat=True).get(pk=profile.pk)
            Profile.objects.filter(pk=profile.pk).update(
                avatar_key=stem, version=F("version") + 1, updated_at=timezone.now()
            )
            if old:
                old_keys = [object_key(old, size) for size in images.SIZES]
                transaction.on_commit(lambda: _delete_quietly(credentials, old_keys))
    except Exception:
        _delete_quietly(credentials, written)
        raise
    profile.refresh_from_db()
    _remember_own(request, stem)
    return profile


def avatar_set_from_upload(
    *, request: HttpRequest, profile: Profile, renditions: images.Renditions
) -> Profile:
    """The no-JavaScript path: renditions already made from the form's file."""
    return avatar_store(request=request, profile=profile, renditions=renditions)


def avatar_remove(*, request: HttpRequest, profile: Profile) -> Profile:
    """Forget the avatar, then delete its objects after commit (with the user's credentials)."""
    if not profile.avatar_key:
        return profile
    credentials = _user_credentials(request, profile)
    with transaction.atomic():
        old = Profile.objects.select_for_update().values_list("avatar_key", flat=True).get(pk=profile.pk)
        Profile.objects.filter(pk=profile.pk).update(
            avatar_key="", version=F("version") + 1, updated_at=timezone.now()
        )
        if old:
            old_keys = [object_key(old, size) for size in images.SIZES]
            transaction.on_commit(lambda: _delete_quietly(credentials, old_keys))
    profile.refresh_from_db()
    _remember_own(request, "")
    return profile


def avatar_rekey(*, request: HttpRequest, profile: Profile) -> Profile:
    """Move the avatar to a new random key (after the profile became less visible).

    protected/ is readable by every identity, guests included: what keeps a members-only or
    private profile's picture from visitors is that nobody can list the prefix and the key is
    random. Someone who saw the old URL knows the old key, so the objects move to a new one.
    """
    if not profile.avatar_key:
        return profile
    credentials = _user_credentials(request, profile)
    old_stem = profile.avatar_key
    try:
        renditions = images.Renditions(
            by_size={
                size: s3.bucket().get_bounded(
                    credentials, key=object_key(old_stem, size), max_bytes=settings.AVATAR_MAX_BYTES
                )
                for size in images.SIZES
            }
        )
    except s3.S3Error as exc:
        logger.warning("avatar of profile %s not re-keyed: %s", profile.pk, exc)
        raise AvatarStoreFailed("Your picture could not be moved to a new private address.") from exc
    return avatar_store(request=request, profile=profile, renditions=renditions)


# --- Direct browser upload (presigned POST) ---------------------------------------------------


def avatar_upload_start(*, request: HttpRequest, profile: Profile, content_type: str) -> dict[str, Any]:
    """A presigned POST for one raw upload under the user's own uploads/<identityId>/ prefix.

    Raw uploads live outside protected/ (which every identity may read) in a prefix of their own,
    so the bucket's lifecycle rule can expire those the browser never reported (infra/README.md).
    """
    if content_type not in images.CONTENT_TYPES:
        raise images.ImageRefused("Please choose a JPEG, PNG, WebP, GIF or HEIC image.")
    credentials = _user_credentials(request, profile)
    key = f"uploads/{credentials.identity_id}/{secrets.token_urlsafe(24)}"
    # The policy must not outlive the credentials that sign it (S3 refuses it then anyway).
    expires_in = int(min(settings.AVATAR_UPLOAD_SECONDS, credentials.expiration - time.time()))
    post = s3.bucket().presign_post(
        credentials,
        key=key,
        content_type=content_type,
        max_bytes=settings.AVATAR_MAX_BYTES,
        expires_in=max(expires_in, 1),
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": settings.AVATAR_MAX_BYTES}


def upload_key_is_own(*, key: str, identity_id: str) -> bool:
    """True only for uploads/<identity_id>/<random name> exactly (no ../, no subfolders)."""
    prefix = f"uploads/{identity_id}/"
    return bool(identity_id) and key.startswith(prefix) and bool(UPLOAD_NAME_RE.fullmatch(key[len(prefix) :]))


def avatar_upload_finish(*, request: HttpRequest, profile: Profile, key: str) -> Profile:
    """Fetch the raw upload (bounded), process it as a form upload would be, delete it."""
    credentials = _user_credentials(request, profile)
    if not upload_key_is_own(key=key, identity_id=credentials.identity_id):
        raise UploadKeyRefused(key)
    try:
        try:
            data = s3.bucket().get_bounded(credentials, key=key, max_bytes=settings.AVATAR_MAX_BYTES)
        except s3.ObjectTooLarge:
            raise images.ImageRefused(
                f"The file is too large: at most {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB."
            ) from None
        except s3.S3Error as exc:
            if exc.code in ("NoSuchKey", "404"):
                raise images.ImageRefused(
                    "The upload was not found. Please upload the picture again."
                ) from None
            raise AvatarStoreFailed("Your upload could not be read back. Please try again.") from exc
        renditions = images.avatar_renditions(data=data)
        return avatar_store(request=request, profile=profile, renditions=renditions)
    finally:
        # Raw uploads are never kept, whatever became of them.
        _delete_quietly(credentials, [key])


# --- Display ----------------------------------------------------------------------------------


def _url_cache(request: HttpRequest) -> dict[str, list]:
    cache = request.session.get(SESSION_URLS)
    return cache if isinstance(cache, dict) else {}


def avatar_urls(*, request: HttpRequest, keys: list[str]) -> dict[str, str]:
    """Presigned GET URLs for `keys`, signed with the viewer's credentials; cached in the session.

    With warm caches this touches neither the network nor the database: a cached URL is reused
    (so the browser's cache hits) until shortly before it, or its credentials, expire.
    """
    keys = [k for k in dict.fromkeys(keys) if k]
    if not keys:
        return {}
    owner = creds.viewer_owner(request)
    if owner == creds.GUEST:
        # Shared guest identity, URLs cached per process: an anonymous view writes no session.
        return {key: url for key in keys if (url := guest_url(key)) is not None}
    now = time.time()
    cache = _url_cache(request)
    urls: dict[str, str] = {}
    missing: list[str] = []
    for key in keys:
        entry = cache.get(key)
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[2] == owner
            and entry[1] - now > URL_REUSE_MARGIN
        ):
            urls[key] = entry[0]
        else:
            missing.append(key)
    if not missing:
        return urls
    credentials = creds.viewer_credentials(request=request)
    if credentials is None:
        return urls  # placeholders for the rest; never an error page for a picture
    valid_until = min(now + settings.AVATAR_URL_SECONDS, credentials.expiration)
    expires_in = max(int(valid_until - now), 1)
    fresh = {
        k: v
        for k, v in cache.items()
        if isinstance(v, list) and len(v) == 3 and v[1] - now > URL_REUSE_MARGIN
    }
    for key in missing:
        url = s3.bucket().presign_get(credentials, key=key, expires_in=expires_in)
        urls[key] = url
        fresh.pop(key, None)
        fresh[key] = [url, valid_until, owner]
    while len(fresh) > MAX_CACHED_URLS:  # oldest first: dicts keep insertion order
        fresh.pop(next(iter(fresh)))
    request.session[SESSION_URLS] = fresh
    return urls


def profile_avatar_urls(*, request: HttpRequest, profiles: list[Profile], size: int) -> dict[int, str]:
    """{profile pk: URL of its `size` rendition} for the profiles that have an avatar."""
    keys = {p.pk: object_key(p.avatar_key, size) for p in profiles if p.avatar_key}
    urls = avatar_urls(request=request, keys=list(keys.values()))
    return {pk: urls[key] for pk, key in keys.items() if key in urls}


def own_avatar_stem(*, request: HttpRequest, profile: Profile | None = None) -> str:
    """The viewer's own avatar stem for the header: from the session, else from the profile once."""
    stem = request.session.get(SESSION_OWN)
    if profile is not None:
        _remember_own(request, profile.avatar_key)
        return profile.avatar_key
    if isinstance(stem, str):
        return stem
    stem = Profile.objects.filter(user=request.user).values_list("avatar_key", flat=True).first() or ""
    _remember_own(request, stem)
    return stem


# --- Guests and the JSON API -------------------------------------------------------------------


def guest_url(key: str) -> str | None:
    """A presigned URL signed with the process's guest identity, reused while valid."""
    credentials = creds.guest_credentials()
    if credentials is None:
        return None
    return s3.bucket().cached_presign_get(
        credentials, key=key, lifetime=settings.AVATAR_URL_SECONDS, reuse_margin=URL_REUSE_MARGIN
    )


def api_avatar_url(profile: Profile, size: int = LARGE) -> str | None:
    """The API's avatar URL: the API holds access tokens only, so the guest identity signs it."""
    return guest_url(object_key(profile.avatar_key, size)) if profile.avatar_key else None


# --- Account deletion --------------------------------------------------------------------------


def avatar_delete_for_account(*, request: HttpRequest, profile: Profile) -> None:
    """Delete the avatar's objects with the user's own credentials, then forget it (idempotent).

    Unlike a picture change this is not quiet: the account is about to go, so any object left
    behind would outlive it. AvatarStoreFailed (with a sentence) when S3 or the identity pool fails;
    the profile then still points at its picture and nothing was forgotten.
    """
    if not profile.avatar_key:
        return
    credentials = _user_credentials(request, profile)
    for size in images.SIZES:
        try:
            s3.bucket().delete(credentials, key=object_key(profile.avatar_key, size))
        except s3.S3Error as exc:
            logger.warning("avatar of profile %s not deleted: %s", profile.pk, exc)
            raise AvatarStoreFailed(
                "your picture could not be deleted (the storage service failed)."
            ) from exc
    Profile.objects.filter(pk=profile.pk).update(
        avatar_key="", version=F("version") + 1, updated_at=timezone.now()
    )
    profile.avatar_key = ""
    _remember_own(request, "")
