"""In Chromium: alice uploads an avatar the JavaScript way; a visitor sees it; bob cannot overwrite it."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client
from PIL import Image

from profiles.models import Profile
from project.integrations import cognito
from tests.support import images as test_images
from tests.support.avatars import s3_as, session_credentials, upload
from tests.support.hosted_ui import sign_in_as_alice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def photo(path) -> str:
    """A 1.5-megapixel JPEG on disk, for the file chooser."""
    image = Image.linear_gradient("L").resize((1500, 1000)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_alice_uploads_directly_to_s3_and_a_visitor_sees_it(
    live_server, browser, page, tmp_path, new_user, sign_in
):
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)

    page.get_by_role("link", name="Change picture").click()
    page.wait_for_url(f"{base}/me/avatar/")
    page.set_input_files("input[name=image]", photo(tmp_path / "alice.jpg"))
    s3_posts = []
    page.on(
        "request",
        lambda r: s3_posts.append(r.url) if r.method == "POST" and "/uploads/" not in r.url else None,
    )
    # Report every state of the progress bar (the page navigates away as soon as it is done).
    progress: list[tuple[bool, int]] = []
    page.expose_function("reportProgress", lambda hidden, value: progress.append((hidden, value)))
    page.evaluate(
        """() => {
        const bar = document.getElementById('avatar-progress');
        const report = () => window.reportProgress(bar.hidden, bar.value);
        new MutationObserver(report).observe(bar, {attributes: true});
    }"""
    )
    # The JavaScript path: the file goes straight to S3 while the progress bar shows.
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/")
    bucket_url = f"{settings.AWS_S3_ENDPOINT_URL}/{settings.AWS_STORAGE_BUCKET_NAME}"
    assert bucket_url in s3_posts and f"{base}/me/avatar/" not in s3_posts  # to S3, not the form
    assert any(not hidden for hidden, _ in progress) and max(value for _, value in progress) == 100
    assert "Your picture is saved" in page.content()

    alice = Profile.objects.get(user__email="alice@example.com")
    assert alice.avatar_key.startswith(f"protected/{alice.identity_id}/avatars/")
    avatar = page.get_by_test_id("avatar")
    src = avatar.get_attribute("src")
    assert page.request.get(src).status == 200
    page.wait_for_function("document.querySelector('[data-testid=avatar]').naturalWidth === 512")

    # A visitor in another browser context sees it once the profile is public.
    Profile.objects.filter(pk=alice.pk).update(visibility=Profile.Visibility.PUBLIC)
    visitor = browser.new_context()
    try:
        anon = visitor.new_page()
        images = []
        anon.on(
            "response",
            lambda r: images.append((r.url, r.status)) if r.request.resource_type == "image" else None,
        )
        assert anon.goto(f"{base}/u/{alice.handle}/").status == 200
        anon.wait_for_function("document.querySelector('[data-testid=avatar]').naturalWidth === 512")
        visitor_src = anon.get_by_test_id("avatar").get_attribute("src")
        assert visitor_src != src  # signed with the visitor's own (guest) credentials
        assert (visitor_src, 200) in images
    finally:
        visitor.close()

    # Her key cannot be written with another user's credentials.
    email, password, _ = new_user(name="Bob Browser")

    bob = Client(HTTP_HOST="localhost:8000")
    sign_in(email, password, client=bob)
    assert upload(bob, test_images.jpeg()).status_code == 302
    as_bob = s3_as(session_credentials(bob))
    with pytest.raises(ClientError) as refused:
        as_bob.put_object(
            Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=f"{alice.avatar_key}-512.webp", Body=b"x"
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_without_javascript_the_form_uploads_through_the_app(live_server, browser, tmp_path):
    cognito.user_pool().reset()
    base = live_server.url
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_as_alice(page, base)
        page.goto(f"{base}/me/avatar/")
        page.set_input_files("input[name=image]", photo(tmp_path / "alice.jpg"))
        posts = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(f"{base}/me/")
        assert posts == [f"{base}/me/avatar/"]  # the form, not S3
        src = page.get_by_test_id("avatar").get_attribute("src")
        assert page.request.get(src).status == 200
    finally:
        context.close()


def test_a_picture_chosen_before_the_pages_script_ran_still_uploads(live_server, page, tmp_path):
    # On a slow connection a person can choose the file before the deferred script has run (the
    # input is on screen first); its "change" event then fired with no listener. The script must
    # still check that file, or Upload does nothing at all. The slow connection is simulated by
    # holding back the script's response (a network delay localcloud cannot produce).
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)
    held = []
    page.route("**/js/avatar-upload*", lambda route: held.append(route))
    with page.expect_request("**/js/avatar-upload*"):
        page.goto(f"{base}/me/avatar/", wait_until="commit")
    page.set_input_files("input[name=image]", photo(tmp_path / "alice.jpg"))
    while not held:  # the route's handler runs on Playwright's loop, which sync calls turn
        page.wait_for_timeout(20)
    held[0].continue_()
    page.get_by_text("ready to upload").wait_for()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/")
    assert Profile.objects.get(user__email="alice@example.com").avatar_key


def test_a_12_megapixel_webp_is_scaled_by_pixel_count_before_upload(live_server, page, tmp_path):
    # 4000×3000 WebP: small on disk (under the byte limit) but more pixels than the server decodes
    # for a WebP (96 MB / 17 B ≈ 5.9 MP). The browser must scale it, not send it to be refused.
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)
    path = tmp_path / "phone.webp"
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGB").save(path, "WEBP", quality=80)
    assert path.stat().st_size < settings.AVATAR_MAX_BYTES
    page.goto(f"{base}/me/avatar/")
    page.set_input_files("input[name=image]", str(path))
    page.get_by_text("megapixel limit").wait_for()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/")
    assert "Your picture is saved" in page.content()


def test_a_refused_heic_replaces_processing_with_a_phone_message(live_server, page, settings):
    # Chromium cannot decode HEIC, so it is sent as it is; the server refuses it (budget of 1 MB).
    settings.AVATAR_MAX_DECODE_MB = settings.AVATAR_MAX_HEIC_DECODE_MB = 1
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)
    page.goto(f"{base}/me/avatar/")
    page.set_input_files(
        "input[name=image]",
        files=[{"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": test_images.heic(480, 320)}],
    )
    page.get_by_role("button", name="Upload").click()
    error = page.locator("#avatar-error")
    error.wait_for(state="visible")
    assert "phone photo is too large" in error.inner_text()
    assert "Most Compatible" in error.inner_text() and "progressive" not in error.inner_text()
    assert "Processing" not in page.locator("#avatar-status-box").inner_text()
    assert not page.locator("#avatar-status-box").is_visible()


def test_an_iphones_24_megapixel_heic_from_desktop_chrome_becomes_the_avatar(live_server, page):
    # Issue 13: Chromium cannot decode HEIC, so it sends the file as it is; the server decodes it
    # (a large decode, within AVATAR_MAX_HEIC_DECODE_MB) instead of refusing it.
    cognito.user_pool().reset()
    base = live_server.url
    sign_in_as_alice(page, base)
    page.goto(f"{base}/me/avatar/")
    data = test_images.phone_heic(*test_images.IPHONE_24_MP)
    page.set_input_files(
        "input[name=image]", files=[{"name": "IMG_0024.HEIC", "mimeType": "image/heic", "buffer": data}]
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{base}/me/", timeout=60_000)
    assert "Your picture is saved" in page.content()
    src = page.get_by_test_id("avatar").get_attribute("src")
    assert page.request.get(src).status == 200
