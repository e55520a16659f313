"""Reference-image validation and re-encoding, on real images made with Pillow in the test."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from bananapics import images
from bananapics.errors import InvalidInput
from bananapics.images import MAX_SIDE, PreparedImage, describe, prepare_reference, thumbnail

RED, BLUE = (220, 20, 20), (20, 20, 220)


def two_tone(size=(40, 20), mode="RGB") -> Image.Image:
    """Left half red, right half blue, so a rotation is visible."""
    img = Image.new(mode, size, RED)
    img.paste(Image.new(mode, (size[0] // 2, size[1]), BLUE), (size[0] // 2, 0))
    return img


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


def noisy(size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, bytes((i * 7919) % 251 for i in range(size[0] * size[1] * 3)))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (the classic decompression bomb shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def refused(data: bytes, title: str, **kw) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        prepare_reference(data, **kw)
    assert info.value.title == title, info.value.msg
    return info.value


def close(pixel, colour, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel[:3], colour))


# ---------------------------------------------------------------- metadata and orientation


def test_jpeg_exif_orientation_applied_and_all_metadata_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display"
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model-X-Serial-123"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (41.0, 18.0, 42.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (69.0, 14.0, 24.0),
    }
    source = encode(two_tone((40, 20)), "JPEG", exif=exif, quality=95, comment=b"private comment")
    src = Image.open(io.BytesIO(source))
    assert src.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries GPS
    assert b"SecretCam" in source

    out = prepare_reference(source)
    assert isinstance(out, PreparedImage)
    assert out.mime == "image/jpeg" and out.ext == "jpg"
    assert (out.width, out.height) == (20, 40)  # rotated: portrait now
    img = Image.open(io.BytesIO(out.data))
    assert img.format == "JPEG" and img.size == (20, 40)
    assert close(img.getpixel((10, 5)), RED) and close(img.getpixel((10, 35)), BLUE)  # red went to the top
    assert not img.getexif()
    assert "exif" not in img.info and "comment" not in img.info and "icc_profile" not in img.info
    for marker in (b"Exif", b"SecretCam", b"Model-X", b"private comment"):
        assert marker not in out.data


def test_png_with_alpha_stays_png_and_loses_text_chunks() -> None:
    img = Image.new("RGBA", (30, 30), (0, 200, 0, 255))
    img.paste(Image.new("RGBA", (15, 30), (0, 0, 0, 0)), (0, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address here")
    out = prepare_reference(encode(img, "PNG", pnginfo=info))
    assert out.mime == "image/png" and out.ext == "png"
    back = Image.open(io.BytesIO(out.data))
    assert back.mode == "RGBA" and back.size == (30, 30)
    assert back.getpixel((2, 2))[3] == 0 and back.getpixel((25, 2)) == (0, 200, 0, 255)
    assert b"home address" not in out.data and not back.text


def test_palette_png_with_transparency_stays_png() -> None:
    img = Image.new("P", (16, 16), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 8, 16))
    out = prepare_reference(encode(img, "PNG", transparency=0))
    assert out.mime == "image/png"
    assert Image.open(io.BytesIO(out.data)).convert("RGBA").getpixel((12, 2))[3] == 0


def test_opaque_png_and_webp_become_jpeg() -> None:
    for fmt in ("PNG", "WEBP"):
        out = prepare_reference(encode(two_tone(), fmt))
        assert out.mime == "image/jpeg", fmt
        assert Image.open(io.BytesIO(out.data)).format == "JPEG"
    # an alpha channel that is fully opaque carries no transparency: JPEG too
    assert prepare_reference(encode(two_tone(mode="RGBA"), "PNG")).mime == "image/jpeg"


def test_cmyk_and_grey_jpeg_are_normalised() -> None:
    out = prepare_reference(encode(two_tone().convert("CMYK"), "JPEG"))
    assert Image.open(io.BytesIO(out.data)).mode == "RGB"
    out = prepare_reference(encode(Image.new("L", (10, 10), 128), "JPEG"))
    assert Image.open(io.BytesIO(out.data)).mode == "L"


def test_icc_profile_is_applied_then_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = prepare_reference(encode(two_tone(), "JPEG", icc_profile=srgb))
    img = Image.open(io.BytesIO(out.data))
    assert "icc_profile" not in img.info
    assert close(img.getpixel((5, 5)), RED)


# ---------------------------------------------------------------- size limits


def test_big_blob_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*a, **kw):
        raise AssertionError("Pillow must not be called for an over-size input")

    monkeypatch.setattr(images.Image, "open", no_decoding)
    blob = b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024)
    started = time.perf_counter()
    err = refused(blob, "image_too_large")
    assert time.perf_counter() - started < 0.5
    assert "10 MB" in err.msg
    refused(b"\x89PNG" + bytes(2000), "image_too_large", max_bytes=1000)


def test_decompression_bomb_header_refused() -> None:
    started = time.perf_counter()
    refused(png_declaring(30000, 30000), "image_too_large")  # 900 MP: Pillow's own bomb error
    refused(png_declaring(9000, 9000), "image_too_large")  # 81 MP: below Pillow's warning, above our cap
    refused(png_declaring(1000, 1000), "image_too_large", max_pixels=500_000)
    assert time.perf_counter() - started < 1
    with pytest.raises(InvalidInput) as info:
        describe(png_declaring(30000, 30000))
    assert info.value.title == "image_too_large"


def test_large_image_is_downscaled() -> None:
    out = prepare_reference(encode(two_tone((3000, 1500)), "JPEG", quality=80))
    assert (out.width, out.height) == (MAX_SIDE, MAX_SIDE // 2)
    assert Image.open(io.BytesIO(out.data)).size == (MAX_SIDE, MAX_SIDE // 2)
    out = prepare_reference(encode(two_tone((400, 1000)), "PNG"), max_side=500)
    assert (out.width, out.height) == (200, 500)
    small = prepare_reference(encode(two_tone((300, 200)), "PNG"))
    assert (small.width, small.height) == (300, 200)  # never upscaled


def test_thumbnail() -> None:
    out = thumbnail(encode(two_tone((1200, 600)), "PNG"), side=256)
    assert (out.width, out.height) == (256, 128) and out.mime == "image/jpeg"


# ---------------------------------------------------------------- not an image


@pytest.mark.parametrize("name", ["text", "empty", "gif", "bmp", "tiff", "truncated_jpeg", "truncated_png",
                                  "svg", "garbage_after_magic"])
def test_not_an_image(name: str) -> None:
    jpeg = encode(noisy((200, 200)), "JPEG", quality=95)
    png = encode(noisy((200, 200)), "PNG")
    data = {
        "text": b"hello, this is not an image\n" * 20,
        "empty": b"",
        "gif": encode(two_tone(), "GIF"),
        "bmp": encode(two_tone(), "BMP"),
        "tiff": encode(two_tone(), "TIFF"),
        "truncated_jpeg": jpeg[: len(jpeg) // 2],
        "truncated_png": png[: len(png) // 2],
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "garbage_after_magic": b"\xff\xd8\xff\xe0" + b"\x00" * 100,
    }[name]
    refused(data, "not_an_image")


# ---------------------------------------------------------------- describe


def test_describe_generated_outputs() -> None:
    assert describe(encode(two_tone((64, 32)), "PNG")) == ("image/png", 64, 32)
    assert describe(encode(two_tone((64, 32)), "JPEG")) == ("image/jpeg", 64, 32)
    assert describe(encode(two_tone((64, 32)), "WEBP")) == ("image/webp", 64, 32)
    for bad in (b"<html>error</html>", encode(two_tone(), "GIF")):
        with pytest.raises(InvalidInput) as info:
            describe(bad)
        assert info.value.title == "not_an_image"
