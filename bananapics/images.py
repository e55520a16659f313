"""Validation and re-encoding of images with Pillow: pure functions, no database, no storage.

Reference images come from users (Telegram downloads, CLI files) and are hostile until proven
otherwise (``reliability.md`` §5):

* the byte size is capped **before** anything is decoded;
* only JPEG, PNG and WEBP are opened (``Image.open(..., formats=[...])``), anything else is
  ``not_an_image``;
* the pixel count declared in the header is checked before the pixels are decoded, and Pillow's own
  decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) stays on; both give ``image_too_large``;
* the EXIF orientation is applied, then every piece of metadata (EXIF/GPS, XMP, comments, text
  chunks, ICC profile after conversion to sRGB) is dropped by re-encoding from bare pixels;
* the long side is downscaled to ``max_side``; the result is PNG when it has real transparency,
  otherwise JPEG.

Errors are :class:`~bananapics.errors.InvalidInput` with ``title`` ``image_too_large`` or
``not_an_image``; the front ends translate the title into the user's language.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from bananapics.errors import InvalidInput

MB = 1024 * 1024
MAX_BYTES = 10 * MB
MAX_PIXELS = 50_000_000  # 50 MP: above any phone camera in use, below Pillow's bomb warning (≈89 MP)
MAX_SIDE = 2048
THUMB_SIDE = 512
JPEG_QUALITY = 90
FORMATS = ("JPEG", "PNG", "WEBP")
MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXT_BY_MIME = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

# Anything a broken or hostile file can make Pillow raise while reading headers or decoding.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, IndexError,
                  KeyError, EOFError, struct.error, ZeroDivisionError)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    mime: str  # image/jpeg | image/png
    width: int
    height: int

    @property
    def ext(self) -> str:
        return EXT_BY_MIME[self.mime]


def _too_large(msg: str) -> InvalidInput:
    return InvalidInput(msg, title="image_too_large")


def _not_an_image(msg: str = "not a JPEG, PNG or WEBP image") -> InvalidInput:
    return InvalidInput(msg, title="not_an_image")


def _check_bytes(data: bytes, max_bytes: int) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("image data must be bytes")
    if len(data) > max_bytes:
        raise _too_large(f"image is {len(data) / MB:.1f} MB, the limit is {max_bytes / MB:g} MB")
    if len(data) == 0:
        raise _not_an_image("empty file")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open (headers only) with the format allowlist and check the declared pixel count."""
    try:
        img = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except _BOMB_ERRORS:
        raise _too_large("image dimensions are too large") from None
    except _DECODE_ERRORS:
        raise _not_an_image() from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise _not_an_image("image has no pixels")
    if width * height > max_pixels:
        raise _too_large(f"image is {width}x{height} pixels, the limit is {max_pixels / 1e6:g} megapixels")
    return img


def _decode(img: Image.Image, max_side: int) -> Image.Image:
    """Decode the pixels (JPEG at a reduced DCT scale when that is enough for ``max_side``)."""
    try:
        if img.format == "JPEG":
            img.draft("RGB" if img.mode not in ("L", "CMYK") else img.mode, (max_side, max_side))
        img.load()
    except _BOMB_ERRORS:
        raise _too_large("image dimensions are too large") from None
    except _DECODE_ERRORS:
        raise _not_an_image("the image is damaged or truncated") from None
    return img


def _has_transparency(img: Image.Image) -> bool:
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        alpha = img.getchannel("A")
    elif "transparency" in img.info:  # palette or RGB/L images with a tRNS chunk
        alpha = img.convert("RGBA").getchannel("A")
    else:
        return False
    low, _high = alpha.getextrema()
    return low < 255


def _to_srgb(img: Image.Image, mode: str) -> Image.Image:
    """Convert to ``mode`` (RGB or RGBA), through the embedded ICC profile when there is a usable one."""
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            converted = ImageCms.profileToProfile(
                img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"),
                outputMode="RGB" if img.mode == "CMYK" else img.mode)
            if converted is not None:
                img = converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: fall back to a plain conversion
    return img if img.mode == mode else img.convert(mode)


def _normalize(img: Image.Image, max_side: int) -> tuple[Image.Image, bool]:
    """Orient, downscale and convert to RGB/L (opaque) or RGBA (transparent); no metadata kept."""
    try:
        img = ImageOps.exif_transpose(img)
    except _DECODE_ERRORS:
        pass  # unreadable EXIF: keep the pixels as stored
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grey → 8-bit
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    alpha = _has_transparency(img)
    if alpha:
        img = _to_srgb(img, "RGBA")
    elif img.mode in ("L", "1"):
        img = img.convert("L")
    else:
        img = _to_srgb(img, "RGB")
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    img.info = {}  # no EXIF, GPS, XMP, ICC, comments or text chunks reach the encoder
    return img, alpha


def _encode(img: Image.Image, alpha: bool, quality: int) -> PreparedImage:
    out = io.BytesIO()
    if alpha:
        img.save(out, format="PNG", optimize=False, compress_level=6)
        mime = "image/png"
    else:
        img.save(out, format="JPEG", quality=quality, optimize=True, progressive=False, subsampling="4:2:0")
        mime = "image/jpeg"
    return PreparedImage(out.getvalue(), mime, img.width, img.height)


def prepare_reference(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                      max_side: int = MAX_SIDE, quality: int = JPEG_QUALITY) -> PreparedImage:
    """Validate an uploaded image and re-encode it without metadata.

    Raises ``InvalidInput`` titled ``image_too_large`` (bytes over ``max_bytes``, checked before any
    decoding; or more than ``max_pixels`` declared in the header) or ``not_an_image`` (not JPEG/PNG/WEBP,
    damaged or truncated). The result's long side is at most ``max_side``.
    """
    _check_bytes(data, max_bytes)
    img = _open(bytes(data), max_pixels)
    try:
        img = _decode(img, max_side)
        img, alpha = _normalize(img, max_side)
        return _encode(img, alpha, quality)
    except _BOMB_ERRORS:
        raise _too_large("image dimensions are too large") from None
    except InvalidInput:
        raise
    except _DECODE_ERRORS:
        raise _not_an_image("the image is damaged or truncated") from None


def thumbnail(data: bytes, *, side: int = THUMB_SIDE, max_bytes: int = 4 * MAX_BYTES,
              max_pixels: int = MAX_PIXELS, quality: int = 85) -> PreparedImage:
    """A small preview (long side ≤ ``side``) with the same checks and metadata stripping."""
    return prepare_reference(data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=side, quality=quality)


def describe(data: bytes, *, max_bytes: int = 4 * MAX_BYTES, max_pixels: int = MAX_PIXELS * 2) -> tuple[str, int, int]:
    """``(mime, width, height)`` of a JPEG/PNG/WEBP from its header, without decoding the pixels.

    For provider outputs: raises ``InvalidInput`` (``not_an_image`` / ``image_too_large``) when the
    bytes are not an allowed image.
    """
    _check_bytes(data, max_bytes)
    img = _open(bytes(data), max_pixels)
    try:
        return MIME_BY_FORMAT[img.format or ""], img.width, img.height
    except KeyError:
        raise _not_an_image() from None
    finally:
        img.close()
