"""Validation and re-encoding of images with Pillow: pure functions, no database, no storage.

Reference images come from users (Telegram downloads, CLI files) and are hostile until proven
otherwise (``reliability.md`` §5):

* the byte size is capped **before** anything is decoded;
* only JPEG, PNG and WEBP are opened (``Image.open(..., formats=[...])``), anything else is
  ``not_an_image``;
* the pixel count declared in the header is checked before the pixels are decoded, and Pillow's own
  decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) stays on; both give ``image_too_large``;
* nothing is ever decoded whole above ``MAX_DECODE_PIXELS`` (4096×4096, the largest image any of the
  models works at): a JPEG is decoded at a reduced DCT scale (``Image.draft``) just above the size
  kept, so a 50 MP photo costs a fraction of its pixels; PNG and WEBP cannot be decoded partially, so
  one whose header declares more is refused (``image_too_many_pixels``) before any pixel is read. A
  small file can declare a huge canvas (a 208 KB PNG of 7000×7000 RGBA decodes to 196 MB), so this,
  not the byte size, is what bounds memory;
* the long side is downscaled to ``max_side`` (``reduce`` by an integer factor, then LANCZOS) before
  any conversion, so conversions work on the small image; then the EXIF orientation is applied and
  every piece of metadata (EXIF/GPS, XMP, comments, text chunks, ICC profile after conversion to
  sRGB) is dropped by re-encoding from bare pixels; the result is PNG when it has real transparency,
  otherwise JPEG.

Errors are :class:`~bananapics.errors.InvalidInput` with ``title`` ``image_too_large``,
``image_too_many_pixels`` or ``not_an_image``; the front ends translate the title into the user's
language.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, UnidentifiedImageError

from bananapics.errors import InvalidInput

MB = 1024 * 1024
MAX_BYTES = 10 * MB
MAX_PIXELS = 50_000_000  # 50 MP declared: above any phone camera in use, below Pillow's bomb warning (≈89 MP)
# What is decoded whole: 4096×4096, the largest image the models work at (Seedream: total pixels up to
# 4096×4096; references are kept at MAX_SIDE). A JPEG is drafted below it; a PNG/WEBP above it is refused.
MAX_DECODE_SIDE = 4096
MAX_DECODE_PIXELS = MAX_DECODE_SIDE * MAX_DECODE_SIDE
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


def _too_large(msg: str, *, canvas: bool = False) -> InvalidInput:
    """``canvas``: the pixel count, not the file's size, is over the limit (users are told which)."""
    exc = InvalidInput(msg, title="image_too_large")
    exc.canvas = canvas
    return exc


def _too_many_pixels(width: int, height: int) -> InvalidInput:
    return InvalidInput(f"image is {width}x{height} pixels; above {MAX_DECODE_SIDE}x{MAX_DECODE_SIDE} only JPEG "
                        "photos are accepted", title="image_too_many_pixels")


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
        raise _too_large("image dimensions are too large", canvas=True) from None
    except _DECODE_ERRORS:
        raise _not_an_image() from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise _not_an_image("image has no pixels")
    if width * height > max_pixels:
        raise _too_large(f"image is {width}x{height} pixels, the limit is {max_pixels / 1e6:g} megapixels",
                         canvas=True)
    return img


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so its long side is at most ``side``, aspect kept."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decode(img: Image.Image, max_side: int, max_decode: int) -> Image.Image:
    """Decode the pixels, never more than ``max_decode`` of them: a JPEG at the smallest DCT scale
    that still covers the kept size (``draft`` keeps both sides at least that large); anything that
    would still be above the cap is refused from the header, before a pixel is read."""
    try:
        if img.format == "JPEG":
            img.draft("RGB" if img.mode not in ("L", "CMYK") else img.mode, _fit(img.size, max_side))
        if img.width * img.height > max_decode:
            raise _too_many_pixels(*img.size)
        img.load()
    except _BOMB_ERRORS:
        raise _too_large("image dimensions are too large", canvas=True) from None
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


_ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


def _orientation(img: Image.Image) -> Image.Transpose | None:
    """The EXIF orientation's transpose (read from the header, applied after downscaling)."""
    try:
        return _ORIENT.get(img.getexif().get(0x0112))
    except _DECODE_ERRORS:
        return None  # unreadable EXIF: keep the pixels as stored


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """Downscale to ``max_side`` first, so every later conversion works on the small image:
    ``thumbnail`` reduces by an integer factor (a box filter, cheap) and finishes with LANCZOS."""
    if img.mode in ("P", "PA", "1"):  # palette and 1-bit: resampling needs real colours
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    elif img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grey → 8-bit
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def _normalize(img: Image.Image, max_side: int) -> tuple[Image.Image, bool]:
    """Downscale, orient and convert to RGB/L (opaque) or RGBA (transparent); no metadata kept."""
    turn = _orientation(img)
    img = _shrink(img, max_side)
    if turn is not None:
        img = img.transpose(turn)
    alpha = _has_transparency(img)
    if alpha:
        img = _to_srgb(img, "RGBA")
    elif img.mode in ("L", "1"):
        img = img.convert("L")
    else:
        img = _to_srgb(img, "RGB")
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
                      max_side: int = MAX_SIDE, quality: int = JPEG_QUALITY,
                      max_decode: int = MAX_DECODE_PIXELS) -> PreparedImage:
    """Validate an uploaded image and re-encode it without metadata.

    Raises ``InvalidInput`` titled ``image_too_large`` (bytes over ``max_bytes``, checked before any
    decoding; or more than ``max_pixels`` declared in the header), ``image_too_many_pixels`` (more
    than ``max_decode`` pixels would have to be decoded whole: a PNG or WEBP above 4096×4096) or
    ``not_an_image`` (not JPEG/PNG/WEBP, damaged or truncated). The result's long side is at most
    ``max_side``.
    """
    _check_bytes(data, max_bytes)
    img = _open(bytes(data), max_pixels)
    try:
        img = _decode(img, max_side, max_decode)
        img, alpha = _normalize(img, max_side)
        return _encode(img, alpha, quality)
    except _BOMB_ERRORS:
        raise _too_large("image dimensions are too large", canvas=True) from None
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
