"""Avatars: processing a 12-megapixel JPEG (time, peak memory) and network calls of a directory page.

1. Generates a 4000×3000 JPEG in-process (gradients plus noise at two scales, so it compresses
   like a photo: ~3 MB), runs the app's real processing (`profiles.images.avatar_renditions`:
   decode, orient, crop, both WebP sizes) BENCH_REPEATS times, and again with JPEG draft mode
   switched off (the baseline). Prints p50/p95 and the ratio.
2. Peak memory of one processing, in a fresh subprocess each: peak RSS after minus before
   (VmHWM), with and without draft mode.
3. Signs alice in (InitiateAuth), shows her `/people/` with 20 avatars through the app (Django
   test client, real session, real identity pool), then again with warm caches, counting every
   outbound call (botocore's send and the Cognito requests session). Target: 0.

4. CPU time (process_time, as the security review measured it) of the costliest uploads the checks
   accept: the largest progressive JPEGs with AVATAR_MAX_JPEG_SCANS scans, the costliest scan
   repeated. `bench/avatars.py --cpu` runs only this part (it reads the settings, calls no service).

5. HEIC at an iPhone's sizes (issue 13): 12 and 24 MP photo-like files in 512-px tiles as iPhones
   write them, and the costliest modes (RGBA, 10-bit, 10-bit RGBA) at 12 MP, made with pillow-heif's encoder
   (cached in the temp directory: x265 takes ~20-60 s each). Per file, in a fresh process: peak RSS
   growth and wall time of the app's processing (libheif's output handed to Pillow in bands) against
   the baseline, Pillow's own load() of the whole image (the code before issue 13), and per pixel
   (the app's); then 24 MP with libheif's decode threads at 1 and 4 (pillow-heif's default);
   then two 24 MP photos processed at once by two threads with AVATAR_LARGE_DECODES=1 (the default)
   against 2. `bench/avatars.py --heic` runs only this part (settings only, no service).

Targets (issue 5): under 400 ms, under 150 MB, 0 calls. Needs the test services (`make bench`).
"""

from __future__ import annotations

import io
import math
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
WIDTH, HEIGHT = 4000, 3000


def photo() -> bytes:
    """A 12-megapixel JPEG that compresses like a photo (smooth areas, texture, fine grain)."""
    from PIL import Image

    size = (WIDTH, HEIGHT)
    coarse = Image.effect_noise((WIDTH // 4, HEIGHT // 4), 60).resize(size, Image.Resampling.BICUBIC)
    fine = Image.effect_noise(size, 10)
    red = Image.blend(Image.linear_gradient("L").resize(size), coarse, 0.5)
    green = Image.blend(Image.radial_gradient("L").resize(size), fine, 0.3)
    blue = Image.blend(coarse, fine, 0.5)
    buffer = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


@contextmanager
def draft_mode(enabled: bool):
    """Switch Pillow's JPEG draft mode off for the baseline (the app always uses it)."""
    from PIL import JpegImagePlugin

    original = JpegImagePlugin.JpegImageFile.draft
    if not enabled:
        JpegImagePlugin.JpegImageFile.draft = lambda self, mode, size: None
    try:
        yield
    finally:
        JpegImagePlugin.JpegImageFile.draft = original


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def timings(data: bytes, *, draft: bool) -> list[float]:
    from profiles.images import avatar_renditions

    samples = []
    with draft_mode(draft):
        avatar_renditions(data=data)  # warm-up (imports, codecs)
        for _ in range(REPEATS):
            start = time.perf_counter()
            avatar_renditions(data=data)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def memory_child(path: str, draft: bool) -> None:
    """Subprocess: print the max-RSS growth (MiB) caused by processing the file once, and the outcome."""
    django_setup()
    from profiles.images import ImageRefused, avatar_renditions

    data = Path(path).read_bytes()
    before = peak_rss_kib()
    outcome = "accepted"
    with draft_mode(draft):
        try:
            avatar_renditions(data=data)
        except ImageRefused:
            outcome = "refused"
    print((peak_rss_kib() - before) / 1024, outcome)


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM, as ru_maxrss survives exec: it would start at the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def peak_memory(path: Path, *, draft: bool = True) -> float:
    return peak_memory_and_outcome(path, draft=draft)[0]


def peak_memory_and_outcome(path: Path, *, draft: bool = True) -> tuple[float, str]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory", str(path), "1" if draft else "0"],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    mib, outcome = out.stdout.strip().splitlines()[-1].split()
    return float(mib), outcome


def _encode(image, fmt: str, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _largest_accepted(make, aspect: float) -> tuple[int, int, bytes]:
    """The largest upload of shape aspect:1 the header checks accept, to 16 px.

    Searched on the cost estimate of a small sample made the same way (resized in its header
    only), then made for real and checked by the app's own header checks.
    """
    from django.conf import settings

    from profiles.images import ImageRefused, _decode_cost, _open

    sample_data = make(round(64 * aspect), 64)
    sample = _open(sample_data)
    budget = settings.AVATAR_MAX_DECODE_MB * 1024 * 1024

    def fits(short: int) -> bool:
        width, height = round(short * aspect), short
        if width > settings.AVATAR_MAX_SIDE or width * height > settings.AVATAR_MAX_PIXELS:
            return False
        sample._size = (width, height)
        return _decode_cost(sample, sample_data) <= budget

    low, high = 1, 16_384 // 16  # in steps of 16 px: `low` fits, `high` does not
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(16 * mid) else (low, mid)
    width, height = round(16 * low * aspect), 16 * low
    data = make(width, height)
    try:
        _open(data).close()
    except ImageRefused as refused:
        raise AssertionError(f"{width}×{height} should be accepted: {refused}") from None
    return width, height, data


def worst_cases() -> list[tuple[str, bytes]]:
    """Per accepted format, the uploads the checks let through that cost the most memory to decode.

    Baseline JPEG decodes at a draft scale that keeps the short side >= 512 px, so its worst case
    is the 4:1 shape whose short side is just under 1024 (scale 1) and the pixel cap; the other
    formats (and progressive JPEG, whose coefficients libjpeg keeps at full size) decode in full,
    so theirs is the largest image the decode budget admits, in their costliest mode.
    """
    from PIL import Image

    def solid(mode: str, fill):
        return lambda w, h: Image.new(mode, (w, h), fill)

    def noisy(w: int, h: int):  # compresses like a photo, so the file is realistic for its size
        coarse = Image.effect_noise((max(1, w // 8), max(1, h // 8)), 50).resize((w, h))
        return Image.merge("RGB", (coarse, Image.linear_gradient("L").resize((w, h)), coarse))

    rgb = solid("RGB", (10, 120, 200))
    cases: list[tuple[str, bytes]] = [
        ("JPEG 65500×610 (finding 11)", _encode(noisy(65500, 610), "JPEG", quality=30)),
        ("JPEG baseline 4092×1023 (scale 1)", _encode(noisy(4092, 1023), "JPEG", quality=90)),
        ("JPEG baseline 7296×5472 (40 MP)", _encode(rgb(7296, 5472), "JPEG", quality=90)),
    ]
    shapes = [
        ("JPEG progressive 4:4:4", lambda w, h: _encode(rgb(w, h), "JPEG", progressive=True, subsampling=0)),
        ("JPEG progressive 4:2:0", lambda w, h: _encode(rgb(w, h), "JPEG", progressive=True)),
        ("PNG RGBA", lambda w, h: _encode(solid("RGBA", (1, 2, 3, 4))(w, h), "PNG")),
        ("PNG LA", lambda w, h: _encode(solid("LA", (1, 2))(w, h), "PNG")),
        ("PNG P + transparency", lambda w, h: _encode(solid("P", 1)(w, h), "PNG", transparency=0)),
        ("GIF P + transparency", lambda w, h: _encode(solid("P", 1)(w, h), "GIF", transparency=0)),
        (
            "WebP lossless RGBA",
            lambda w, h: _encode(solid("RGBA", (1, 2, 3, 4))(w, h), "WEBP", lossless=True),
        ),
        ("WebP lossy RGB", lambda w, h: _encode(rgb(w, h), "WEBP", quality=80)),
    ]
    for label, make in shapes:
        for aspect in (1, 4):
            width, height, data = _largest_accepted(make, aspect)
            cases.append((f"{label} {width}×{height}", data))
    return cases


def _costliest_scan_repeated(image, scans: int) -> bytes:
    """A progressive JPEG of `image` whose costliest scan is repeated up to `scans` scans in all.

    libjpeg decodes a repeated scan again (a warning only); a full-band AC refinement scan walks
    all 63 coefficients of every block, about 7× the cost of a first AC pass (the reviewer's bomb).
    """
    from tests.support.images import _jpeg_segments

    data = _encode(image, "JPEG", progressive=True, quality=50)
    segments = _jpeg_segments(data)
    sos = [i for i, (marker, _, _) in enumerate(segments) if marker == 0xDA]
    last = sos[-1]  # libjpeg's last scan: AC 1..63 refinement, Ah=1 Al=0
    first = last
    while segments[first - 1][0] == 0xC4:
        first -= 1
    scan = data[segments[first][1] : segments[last][2]]
    eoi = segments[-1][2]
    return data[:eoi] + scan * (scans - len(sos)) + data[eoi:]


def cpu_worst_cases() -> list[tuple[str, bytes]]:
    """Uploads the checks accept that cost the most CPU: the largest images, the most scans."""
    from django.conf import settings
    from PIL import Image

    scans = settings.AVATAR_MAX_JPEG_SCANS
    side = int(settings.AVATAR_MAX_PIXELS**0.5)  # 1 component: the pixel cap, not the budget, binds
    gray = Image.new("L", (side, side), 128)
    rgb_side = 4048  # 3 components 4:4:4: the largest square the decode budget admits (~16 MP)
    rgb = Image.new("RGB", (rgb_side, rgb_side), (10, 120, 200))
    return [
        (f"JPEG progressive L {side}×{side}, {scans} scans", _costliest_scan_repeated(gray, scans)),
        (
            f"JPEG progressive 4:4:4 {rgb_side}×{rgb_side}, {scans} scans",
            _costliest_scan_repeated(rgb, scans),
        ),
        ("JPEG baseline 7296×5472 (40 MP)", _encode(Image.new("RGB", (7296, 5472)), "JPEG", quality=90)),
        (f"PNG RGBA {2800}×{2800}", _encode(Image.new("RGBA", (2800, 2800), (1, 2, 3, 4)), "PNG")),
        # Refused since the header walk allows only a few fill bytes (Pillow took 2.5 s over them).
        ("JPEG 64×64, 5 MB of fill bytes after APP0", _with_fill_after_app0(Image.new("RGB", (64, 64)))),
        # Refused since an EOI before the first scan is (the walk stopped there; Pillow read on).
        (
            "JPEG 64×64, EOI then 5 MB of fill after APP0",
            _with_fill_after_app0(Image.new("RGB", (64, 64)), b"\xff\xd9"),
        ),
        (
            "JPEG 64×64, EOI then 1.2 M empty COMs",
            _with_fill_after_app0(Image.new("RGB", (64, 64)), b"\xff\xd9", b"\xff\xfe\x00\x02"),
        ),
    ]


def _with_fill_after_app0(image, prefix: bytes = b"", unit: bytes = b"\xff") -> bytes:
    """`prefix`, then `unit` repeated to a ~5 MB file, between APP0 and the rest of the JPEG."""
    data = _encode(image, "JPEG")
    end_of_app0 = 4 + int.from_bytes(data[4:6], "big")
    fill = unit * ((5 * 1024 * 1024 - len(data) - 16 - len(prefix)) // len(unit))
    return data[:end_of_app0] + prefix + fill + data[end_of_app0:]


def cpu_seconds(data: bytes) -> tuple[float, str]:
    """CPU time of one processing (the reviewer's measure: process_time around avatar_renditions)."""
    from profiles.images import ImageRefused, avatar_renditions

    start = time.process_time()
    try:
        avatar_renditions(data=data)
        outcome = "accepted"
    except ImageRefused as refused:
        outcome = f"refused: {refused}"
    return time.process_time() - start, outcome


def print_cpu_worst_cases() -> None:
    worst = 0.0
    for label, data in cpu_worst_cases():
        seconds, outcome = cpu_seconds(data)
        if outcome == "accepted":
            worst = max(worst, seconds)
        print(f"    {label:<44}{len(data) / 1e6:6.2f} MB {outcome[:60]:>9} {seconds:6.2f} s CPU")
    print(f"  worst accepted upload: {worst:.2f} s CPU")


@contextmanager
def counting_calls():
    """Every outbound call: botocore (identity pool, S3) and the Cognito requests session."""
    from project.integrations import outbound

    log: list[str] = []

    def record(call) -> None:
        log.append(call.operation or call.url)

    outbound.add_listener(record)
    try:
        yield log
    finally:
        outbound.remove_listener(record)


def directory_calls() -> tuple[list[str], list[str], int, list[float]]:
    """(calls of the cold view, calls of the warm views, avatars on the page, warm p50 samples)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts import services as account_services
    from profiles.models import Profile
    from profiles.services import profile_sync_from_claims
    from project.integrations.cognito import user_pool

    # Never seed the developer's database: main() switched DATABASE_URL before Django read it.
    assert settings.DATABASES["default"]["NAME"].endswith("_avatars_bench"), settings.DATABASES["default"][
        "NAME"
    ]
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from django.contrib.auth import get_user_model

    tokens = user_pool().password_sign_in(username="alice@example.com", password="Alice-pass-1")  # noqa: S106
    claims = user_pool().verify_token(tokens["IdToken"], token_use="id")  # noqa: S106
    alice = account_services.user_create_from_claims(claims=claims)
    User = get_user_model()
    for n in range(20):
        user = User.objects.create_user(username=f"bench-{n}", email=f"bench-{n}@example.com")
        profile = profile_sync_from_claims(user=user, claims={"name": f"Aaron {n:02d}", "email": user.email})
        stem = f"protected/us-east-1:00000000-0000-0000-0000-{n:012d}/avatars/bench{n:02d}"
        Profile.objects.filter(pk=profile.pk).update(avatar_key=stem)

    client = Client(HTTP_HOST="localhost:8000")
    client.force_login(alice)
    session = client.session
    session[account_services.ACCESS_TOKEN] = tokens["AccessToken"]
    session[account_services.ID_TOKEN] = tokens["IdToken"]
    session[account_services.REFRESH_TOKEN] = tokens["RefreshToken"]
    session[account_services.EXPIRES_AT] = int(time.time()) + int(tokens["ExpiresIn"])
    session.save()

    with counting_calls() as cold:
        page = client.get("/people/")
    assert page.status_code == 200, page.status_code
    avatars = page.content.decode().count('<img class="avatar"')
    samples = []
    with counting_calls() as warm:
        for _ in range(REPEATS):
            start = time.perf_counter()
            assert client.get("/people/").status_code == 200
            samples.append((time.perf_counter() - start) * 1000)
    return cold, warm, avatars, samples


# --- HEIC (issue 13) ---------------------------------------------------------------------------

IPHONE_SIZES = {"12 MP": (4032, 3024), "24 MP": (5712, 4284)}


def heic_files() -> list[tuple[str, Path]]:
    """(label, path): photo-like 12 and 24 MP HEICs in 512-px tiles, and 12 MP in the costliest modes."""
    import pillow_heif
    from PIL import Image

    from profiles import images

    pillow_heif.register_heif_opener()

    def photo_like(w: int, h: int):
        coarse = Image.effect_noise((w // 16, h // 16), 60).resize((w, h), Image.Resampling.BICUBIC)
        red = Image.blend(Image.linear_gradient("L").resize((w, h)), coarse, 0.5)
        return Image.merge("RGB", (red, Image.radial_gradient("L").resize((w, h)), coarse))

    def rgba(w: int, h: int):
        image = Image.new("RGBA", (w, h), (220, 20, 20, 255))
        image.paste((20, 20, 220, 128), (0, h // 2, w, h))
        return image

    def liar(data: bytes) -> bytes:  # every hvcC header says 8-bit 4:2:0, whatever the stream is
        out = bytearray(data)
        at = out.find(b"hvcC")
        while at != -1:
            out[at + 20] = (out[at + 20] & 0xFC) | 1  # chromaFormat: 4:2:0
            out[at + 21] &= 0xF8  # bitDepthLumaMinus8
            out[at + 22] &= 0xF8  # bitDepthChromaMinus8
            at = out.find(b"hvcC", at + 1)
        return bytes(out)

    def ten_bit(w: int, h: int, mode: str = "RGB;16", **save) -> bytes:  # pillow-heif writes 16-bit as 10-bit
        top, bottom = (60000, 0, 0, 65535), (0, 0, 60000, 30000)
        channels = 4 if mode == "RGBA;16" else 3
        pack = f"<{'H' * channels}"
        rows = struct.pack(pack, *top[:channels]) * (w * (h // 2))
        rows += struct.pack(pack, *bottom[:channels]) * (w * (h - h // 2))
        buffer = io.BytesIO()
        pillow_heif.from_bytes(mode=mode, size=(w, h), data=rows).save(buffer, quality=70, **save)
        return buffer.getvalue()

    w12, h12 = IPHONE_SIZES["12 MP"]
    # The largest square of the costliest kind the HEIC budget admits (to 16 px).
    side = math.isqrt(images._budget("HEIF") // images._BYTES_PER_PIXEL["HEIF"]) // 16 * 16
    makers = {
        f"iPhone 12 MP {w12}×{h12}, 512-px tiles": lambda: _encode(
            photo_like(w12, h12), "HEIF", quality=60, tile_size=512
        ),
        "iPhone 24 MP 5712×4284, 512-px tiles": lambda: _encode(
            photo_like(5712, 4284), "HEIF", quality=60, tile_size=512
        ),
        f"12 MP RGBA (alpha) {w12}×{h12}": lambda: _encode(rgba(w12, h12), "HEIF", quality=70),
        f"12 MP 10-bit {w12}×{h12}": lambda: ten_bit(w12, h12),
        f"12 MP 10-bit RGBA {w12}×{h12}": lambda: ten_bit(w12, h12, "RGBA;16"),
        f"12 MP 8-bit 4:4:4 {w12}×{h12}": lambda: _encode(rgba(w12, h12).convert("RGB"), "HEIF", chroma=444),
        f"12 MP 10-bit 4:4:4 {w12}×{h12}": lambda: ten_bit(w12, h12, chroma=444),
        f"12 MP 10-bit 4:4:4 RGBA {w12}×{h12}": lambda: ten_bit(w12, h12, "RGBA;16", chroma=444),
        "12 MP 10-bit 4:4:4, header: 8-bit 4:2:0": lambda: liar(ten_bit(w12, h12, chroma=444)),
        f"worst accepted: 10-bit 4:4:4 RGBA {side}²": lambda: ten_bit(side, side, "RGBA;16", chroma=444),
    }
    files = []
    for n, (label, make) in enumerate(makers.items()):
        path = Path(tempfile.gettempdir()) / f"bench-avatar-heic-{n}-{side}-v1.heic"
        if not path.exists():
            print(f"    encoding {label} (once; cached in {path.parent})", flush=True)
            path.write_bytes(make())
        files.append((label, path))
    return files


@contextmanager
def heif_bands(enabled: bool):
    """The baseline: Pillow's own load() of the whole HEIC (the app's decoding before issue 13)."""
    from PIL import Image

    from profiles import images

    original = images._decode_heif

    def whole(data: bytes):
        image = Image.open(io.BytesIO(data), formats=["HEIF"])
        image.load()  # Pillow copies libheif's whole output into an image of its own
        pixels = (
            image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if "A" in image.mode else "RGB")
        )
        factor = min(pixels.size) // max(images.SIZES)
        return pixels.reduce(factor) if factor >= 2 else pixels.copy()

    if not enabled:
        images._decode_heif = whole
    try:
        yield
    finally:
        images._decode_heif = original


def heic_child(path: str, bands: bool, threads: int) -> None:
    """Subprocess: peak RSS growth (MiB) and wall time (s) of processing the HEIC once (`threads` at once)."""
    import threading

    os.environ["AVATAR_MAX_HEIC_DECODE_MB"] = "4096"  # measure, do not refuse
    django_setup()
    import pillow_heif
    from PIL import Image

    from profiles.images import avatar_renditions

    if os.environ.get("BENCH_HEIF_DECODE_THREADS"):  # libheif's threads per decode (pillow-heif: 4)
        pillow_heif.options.DECODE_THREADS = int(os.environ["BENCH_HEIF_DECODE_THREADS"])
    data = Path(path).read_bytes()
    small = _encode(Image.new("RGB", (600, 400)), "HEIF")
    with heif_bands(bands):
        avatar_renditions(data=small)  # warm-up: libheif, libde265, libwebp loaded
        before, start = peak_rss_kib(), time.perf_counter()
        workers = [threading.Thread(target=avatar_renditions, kwargs={"data": data}) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    print((peak_rss_kib() - before) / 1024, time.perf_counter() - start)


def heic_run(
    path: Path, *, bands: bool = True, threads: int = 1, env: dict | None = None
) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--heic-child", str(path), "1" if bands else "0", str(threads)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    mib, seconds = out.stdout.strip().splitlines()[-1].split()
    return float(mib), float(seconds)


def print_heic() -> None:
    from django.conf import settings
    from PIL import Image

    from profiles import images

    print(
        f"  HEIC (AVATAR_MAX_DECODE_MB={settings.AVATAR_MAX_DECODE_MB}, AVATAR_MAX_HEIC_DECODE_MB="
        f"{settings.AVATAR_MAX_HEIC_DECODE_MB}; "
        "peak RSS growth and wall time, fresh process each, median of 3):"
    )
    print(f"    {'':44}{'MB':>6} {'bands (app)':>17} {'whole (baseline)':>18} {'ratio':>6} {'B/px':>5}")
    worst = {False: 0.0, True: 0.0}  # per pixel, by alpha
    for label, path in heic_files():
        with Image.open(path) as image:
            (width, height), alpha = image.size, "A" in image.mode
        app = [heic_run(path) for _ in range(3)]
        base = [heic_run(path, bands=False) for _ in range(3)]
        mib, sec = statistics.median(m for m, _ in app), statistics.median(s for _, s in app)
        base_mib, base_sec = statistics.median(m for m, _ in base), statistics.median(s for _, s in base)
        per_pixel = mib * 1024 * 1024 / (width * height)
        worst[alpha] = max(worst[alpha], per_pixel)
        print(
            f"    {label:<44}{path.stat().st_size / 1e6:6.2f} {mib:6.1f} MiB {sec:5.2f} s "
            f"{base_mib:6.1f} MiB {base_sec:5.2f} s {mib / base_mib:6.2f} {per_pixel:5.1f}"
        )
    print(
        f"  worst per pixel: {worst[False]:.1f} B without alpha (costed at {images._HEIF_OPAQUE_BYTES_PER_PIXEL} B), "
        f"{worst[True]:.1f} B with (costed at {images._BYTES_PER_PIXEL['HEIF']} B)"
    )
    path = heic_files()[1][1]
    for threads in (1, 4):
        mib, sec = heic_run(path, env={"BENCH_HEIF_DECODE_THREADS": str(threads)})
        print(f"  24 MP with libheif decode_threads={threads}: {mib:6.1f} MiB {sec:5.2f} s")
    one = heic_run(path)
    bounded = heic_run(path, threads=2, env={"AVATAR_LARGE_DECODES": "1"})
    unbounded = heic_run(path, threads=2, env={"AVATAR_LARGE_DECODES": "2"})
    print(f"  two 24 MP photos at once in one process (one alone: {one[0]:.1f} MiB, {one[1]:.2f} s):")
    print(f"    AVATAR_LARGE_DECODES=1 (default): {bounded[0]:6.1f} MiB {bounded[1]:5.2f} s")
    print(
        f"    AVATAR_LARGE_DECODES=2:           {unbounded[0]:6.1f} MiB {unbounded[1]:5.2f} s "
        f"(bounded/unbounded: memory {bounded[0] / unbounded[0]:.2f}, time {bounded[1] / unbounded[1]:.2f})"
    )


def main() -> None:
    if sys.argv[1:2] == ["--memory"]:
        memory_child(sys.argv[2], sys.argv[3] == "1")
        return
    if sys.argv[1:2] == ["--heic-child"]:
        heic_child(sys.argv[2], sys.argv[3] == "1", int(sys.argv[4]))
        return
    if sys.argv[1:2] == ["--cpu"]:  # reads the settings, calls no service
        django_setup()
        print_cpu_worst_cases()
        return
    if sys.argv[1:2] == ["--heic"]:  # reads the settings, calls no service
        django_setup()
        print_heic()
        return
    from bench.database import check_django_database, use_bench_database

    use_bench_database("avatars", reset=True)  # before Django reads DATABASE_URL
    django_setup()
    check_django_database()
    data = photo()
    path = Path(tempfile.gettempdir()) / "bench-avatar-12mp.jpg"
    path.write_bytes(data)
    print(f"avatars: {WIDTH}×{HEIGHT} JPEG, {len(data) / 1e6:.1f} MB, {REPEATS} repeats")

    fast, slow = timings(data, draft=True), timings(data, draft=False)
    p50, base = statistics.median(fast), statistics.median(slow)
    print(f"  processing to 512 + 128 px WebP, draft mode:    p50 {p50:6.1f} ms  p95 {_p95(fast):6.1f} ms")
    print(f"  same without draft mode (baseline):            p50 {base:6.1f} ms  p95 {_p95(slow):6.1f} ms")
    print(f"  draft mode speed-up: {base / p50:.1f}×   target < 400 ms: {'met' if p50 < 400 else 'NOT met'}")

    mem, mem_base = peak_memory(path, draft=True), peak_memory(path, draft=False)
    print(f"  peak memory (peak RSS growth), draft mode: {mem:6.1f} MiB; without: {mem_base:6.1f} MiB")
    print(f"  target < 150 MB: {'met' if mem < 150 else 'NOT met'}")

    from django.conf import settings

    print(
        f"  worst cases (AVATAR_MAX_DECODE_MB={settings.AVATAR_MAX_DECODE_MB}, "
        f"AVATAR_MAX_ASPECT={settings.AVATAR_MAX_ASPECT:g}, AVATAR_MAX_SIDE={settings.AVATAR_MAX_SIDE}; "
        "peak RSS growth, fresh process each):"
    )
    worst = 0.0
    for label, case in worst_cases():
        case_path = Path(tempfile.gettempdir()) / "bench-avatar-worst"
        case_path.write_bytes(case)
        mib, outcome = peak_memory_and_outcome(case_path)
        if outcome == "accepted":
            worst = max(worst, mib)
        print(f"    {label:<44}{len(case) / 1e6:6.2f} MB {outcome:>9} {mib:7.1f} MiB")
    print(f"  worst accepted upload: {worst:.1f} MiB (budget {settings.AVATAR_MAX_DECODE_MB} MiB)")

    print("  CPU of the costliest accepted uploads (AVATAR_MAX_JPEG_SCANS scans of the costliest kind):")
    print_cpu_worst_cases()
    print_heic()

    cold, warm, shown, samples = directory_calls()
    print(f"  /people/ with {shown} avatars: cold view {len(cold)} outbound calls ({', '.join(cold)})")
    print(
        f"  warm views: {len(warm)} outbound calls in {REPEATS} views "
        f"({len(warm) / REPEATS:.1f} per view, target 0); page p50 {statistics.median(samples):.1f} ms"
    )


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


if __name__ == "__main__":
    main()
