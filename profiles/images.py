"""Avatar images: decode an untrusted upload safely and re-encode it as clean square WebP renditions.

Nothing of the upload's bytes survives: pixels are decoded, cropped, resized and encoded anew, so
metadata, trailing payloads (polyglots) and odd chunks are all dropped.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

SIZES = (512, 128)
# MPO is how Pillow names multi-picture JPEGs (phones' portrait photos): its first frame is a JPEG.
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
# The decoders Pillow may try (its JPEG opener is the one that yields MPO images).
OPEN_FORMATS = ["JPEG", "PNG", "WEBP", "GIF"]
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
WEBP_QUALITY = 82

# Pillow's own bomb guard as a second line behind ours (which runs on the header, before decoding):
# it warns past this many pixels (made an error below) and refuses past twice as many.
Image.MAX_IMAGE_PIXELS = settings.AVATAR_MAX_PIXELS


class ImageRefused(Exception):
    """The upload is not an image we accept; the message is for the user."""


@dataclass(frozen=True)
class Renditions:
    """The encoded WebP bytes of each size."""

    by_size: dict[int, bytes]


def _metadata_size(image: Image.Image) -> int:
    """Bytes of metadata carried by the file (EXIF, XMP, ICC, comments, text chunks)."""
    applist = getattr(image, "applist", None)
    if applist:  # JPEG: every APPn segment and its payload
        total = sum(len(data) for _, data in applist)
    else:
        total = 0
        for value in image.info.values():
            if isinstance(value, bytes | str):
                total += len(value)
    return total


def _too_many_pixels(max_pixels: int, detail: str = "") -> str:
    return f"This image is too large{detail}: at most {max_pixels // 1_000_000} megapixels, please."


def _open(data: bytes) -> Image.Image:
    max_pixels = settings.AVATAR_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard saw the header first: same answer as ours below.
        raise ImageRefused(_too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageRefused("This file is not a JPEG, PNG, WebP or GIF image.") from None
    except Exception:  # a malformed header can raise anything from a plugin: never a 500
        raise ImageRefused("This image could not be read: it may be damaged.") from None
    width, height = image.size
    if FORMATS.get(image.format or "") != "JPEG":
        # Only JPEG decodes at reduced scale (draft mode): other formats decode every pixel, so a
        # tiny lossless file of huge dimensions would cost hundreds of MB. They get a lower cap.
        max_pixels = min(max_pixels, settings.AVATAR_MAX_PIXELS_FULL_DECODE)
    # Checked from the header, before a single pixel is decoded: decompression bombs stop here.
    if width < 1 or height < 1 or width * height > max_pixels:
        raise ImageRefused(_too_many_pixels(max_pixels, f" ({width}×{height} pixels)"))
    if _metadata_size(image) > settings.AVATAR_MAX_METADATA_BYTES:
        raise ImageRefused("This image carries too much metadata (EXIF, XMP…). Please export it again.")
    return image


# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _decode(image: Image.Image) -> Image.Image:
    """Decode the first frame, upright, at the smallest scale that still covers the largest size."""
    if FORMATS.get(image.format or "") == "JPEG":
        # JPEG draft mode: the decoder scales by 1/2, 1/4 or 1/8 while decoding, keeping both
        # sides >= the requested size. A 12-megapixel photo then decodes as 0.75 megapixels.
        image.draft("RGB", (max(SIZES), max(SIZES)))
    image.seek(0)  # GIF/WebP animations: the first frame
    try:
        # Read before any copy: derived images do not carry the EXIF block.
        orientation = image.getexif().get(0x0112, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info
            )
            pixels = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")
            # Shrink at once (integer box reduction, cheap) so every later copy is small.
            factor = min(pixels.size) // max(SIZES)
            if factor >= 2:
                pixels = pixels.reduce(factor)
            if isinstance(orientation, int) and orientation in _UPRIGHT:
                pixels = pixels.transpose(_UPRIGHT[orientation])
            if pixels is image:  # the caller closes the file's image: keep a copy (small here)
                pixels = image.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("This image is too large to process.") from None
    except Exception:  # truncated or corrupt data, broken EXIF...
        raise ImageRefused("This image could not be read: it may be damaged or truncated.") from None
    return pixels


def _clean(image: Image.Image) -> Image.Image:
    """A copy with the pixels only: no info, EXIF, ICC or XMP can reach the encoder."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def avatar_renditions(*, data: bytes) -> Renditions:
    """Square WebP renditions (SIZES) of an uploaded image, or ImageRefused with a message."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > settings.AVATAR_MAX_BYTES:
        raise ImageRefused(f"The file is too large: at most {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
    image = _open(data)
    try:
        pixels = _decode(image)
    finally:
        image.close()
    side = min(pixels.size)
    if side < 16:
        raise ImageRefused("This image is too small: at least 16×16 pixels, please.")
    by_size: dict[int, bytes] = {}
    square = ImageOps.fit(pixels, (max(SIZES), max(SIZES)), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    for size in sorted(SIZES, reverse=True):
        rendition = square if size == square.width else square.resize((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        _clean(rendition).save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        by_size[size] = buffer.getvalue()
    return Renditions(by_size=by_size)
