"""Hostile reference images (made with Pillow here) and albums over the model's limit.

``tests/test_abuse.py`` has the huge-canvas PNG (refused from its header, memory measured) and the
image pool; these are the other shapes a file can take: malformed, truncated, a bomb declared in a
JPEG or PNG header, the wrong MIME type, animated, CMYK, 16-bit, palette, empty, over 10 MB. Each
ends with the references the draft should have and the user's answer in their language; nothing
else changes.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image

from bananapics.bot.callbacks import encode
from bananapics.images import MAX_BYTES, MAX_DECODE_SIDE, MAX_PIXELS
from bananapics.services import catalog, drafts, users
from tests.hostile.harness import OPERATOR, Case, hostile

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def pillow(mode: str, size=(64, 48), fmt: str = "PNG", color=None, **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color if color is not None else 200).save(out, fmt, **save)
    return out.getvalue()


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), (i * 60, 0, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def png_header_bomb(side: int = 65_000) -> bytes:
    """A 100-byte PNG whose header declares side×side RGBA (16 GB decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def jpeg_header_bomb(side: int = 60_000) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to declare side×side pixels."""
    data = bytearray(pillow("RGB", (16, 16), "JPEG", color=(10, 20, 30)))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def png_16bit() -> bytes:
    out = io.BytesIO()
    Image.frombytes("I;16", (40, 30), bytes(range(256)) * 9 + bytes(96)).save(out, "PNG")
    return out.getvalue()


def palette_with_transparency() -> bytes:
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


@dataclass(frozen=True)
class File:
    name: str
    make: Callable[[], bytes]
    mime: str
    kept: int  # references in the draft afterwards
    says: str | None = None  # the catalog text the user is told (None: the next step, no complaint)
    lang: str = "en"
    filename: str = "ref.png"


GOOD = pillow("RGB")
FILES = [
    File("random-bytes-as-png", lambda: bytes(range(256)) * 40, "image/png", 0, "error-not-an-image"),
    File("truncated-png", lambda: GOOD[: len(GOOD) // 2], "image/png", 0, "error-not-an-image", lang="ru"),
    File("text-as-jpeg", lambda: b"<?php system($_GET['c']); ?>" * 10, "image/jpeg", 0, "error-not-an-image"),
    File("empty-file", lambda: b"", "image/png", 0, "error-not-an-image", lang="uz"),
    # found here: a 100-byte file declaring a huge canvas was told "too large (limit 10 MB)"
    File("png-header-bomb", png_header_bomb, "image/png", 0, "error-image-canvas-too-large"),
    File("jpeg-header-bomb", jpeg_header_bomb, "image/jpeg", 0, "error-image-canvas-too-large", lang="ru"),
    File("png-named-gif", lambda: GOOD, "image/gif", 0, "error-not-an-image", filename="ref.gif"),
    File("pdf", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "application/pdf", 0,
         "error-not-an-image", filename="doc.pdf"),
    File("animated-gif", lambda: animated("GIF"), "image/gif", 0, "error-not-an-image", filename="a.gif"),
    File("animated-png", lambda: animated("PNG"), "image/png", 1),
    File("animated-webp", lambda: animated("WEBP"), "image/webp", 1, filename="a.webp", lang="uz"),
    File("gif-bytes-named-png", lambda: animated("GIF"), "image/png", 0, "error-not-an-image"),
    File("cmyk-jpeg", lambda: pillow("CMYK", fmt="JPEG", color=(0, 100, 200, 10)), "image/jpeg", 1, filename="c.jpg"),
    File("16-bit-png", png_16bit, "image/png", 1),
    File("palette-transparency", palette_with_transparency, "image/png", 1),
    File("grey-alpha", lambda: pillow("LA", color=(100, 50)), "image/png", 1),
    File("tiny-1x1", lambda: pillow("RGB", (1, 1)), "image/png", 1),
    File("ratio-1x4000", lambda: pillow("L", (1, 4000)), "image/png", 1),
    File("over-10-mb", lambda: GOOD + b"\x00" * (MAX_BYTES + 1 - len(GOOD)), "image/png", 0, "error-image-too-large"),
]


async def to_refs_step(case: Case, who) -> None:
    await who.send("/generate")
    await who.press_data(encode("gen", "model", "gpt-image"))
    await who.send("a lighthouse at dusk")


def said(case: Case, key: str) -> str:
    return case.t(key, side=str(MAX_DECODE_SIDE), max_mb=MAX_BYTES // (1024 * 1024), limit=MAX_PIXELS // 1_000_000)


@pytest.mark.parametrize("file", FILES, ids=[f.name for f in FILES])
def test_a_hostile_reference_file(database, caplog, file: File):
    data = file.make()

    async def body(case: Case) -> None:
        ann = await case.user("Ann")
        await to_refs_step(case, ann)
        case.freeze()
        await ann.send_document(data, file.filename, file.mime)
        draft = drafts.get(users.get(ann.id).id)
        assert len(draft.refs) == file.kept
        assert draft.prompt == "a lighthouse at dusk"  # nothing lost
        if file.says:
            assert said(case, file.says) in ann.panel.text, ann.panel.text
        else:
            assert case.t("gen-refs-count", count=1, max=16) in ann.panel.text

    hostile(database, caplog, body, lang=file.lang)


ALBUMS = [  # (case, model's max refs, album sizes sent one after the other, refs kept, the last answer)
    ("over-the-limit", 2, [5], 2, "gen-refs-kept"),
    ("limit-1-full-album", 1, [10], 1, "gen-refs-kept"),
    ("second-album-when-full", 3, [3, 4], 3, "gen-refs-full"),
    ("ten-at-limit-ten", 10, [10, 2], 10, "gen-refs-full"),
]


@pytest.mark.parametrize("limit,sizes,kept,says", [a[1:] for a in ALBUMS], ids=[a[0] for a in ALBUMS])
def test_albums_over_the_models_limit(database, caplog, limit, sizes, kept, says):
    async def body(case: Case) -> None:
        catalog.edit("gpt-image", actor=OPERATOR, max_refs=limit)
        ann = await case.user("Ann", "ru")
        await to_refs_step(case, ann)
        case.freeze()
        for n, size in enumerate(sizes):
            await ann.send_album([pillow("RGB", (40 + n * 10 + i, 30)) for i in range(size)])
        draft = drafts.get(users.get(ann.id).id)
        assert len(draft.refs) == kept
        expected = case.t(says, count=min(limit, sizes[-1]), asked=sizes[-1], model="GPT Image", max=limit)
        assert expected in ann.panel.text, ann.panel.text

    hostile(database, caplog, body, lang="ru")
