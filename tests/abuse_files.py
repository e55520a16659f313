"""Hostile image files for the abuse tests and bench: small on the wire, huge once decoded.

The PNG is written row by row through a streaming zlib compressor, so making a 7000×7000 RGBA
file (196 MB decoded, ~200 KB on disk) never holds its pixels in memory.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_canvas(width: int = 7000, height: int = 7000, *, alpha: bool = True) -> bytes:
    """A valid PNG of ``width``×``height`` (RGBA or RGB), a soft gradient that compresses to little."""
    channels = 4 if alpha else 3
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    squeeze = zlib.compressobj(9)
    parts = []
    for y in range(height):
        value = (y * 255 // max(1, height - 1)) & 0xFF
        # filter "Sub" (1): the first pixel carries the value, the rest repeat it (all zero deltas)
        row = bytes([1]) + bytes([value, 128, 255 - value, 255][:channels]) + bytes(channels * (width - 1))
        parts.append(squeeze.compress(row))
    parts.append(squeeze.flush())
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def jpeg_canvas(width: int, height: int) -> bytes:
    """A JPEG of ``width``×``height`` made in a child process (its pixels never live in the caller)."""
    code = ("import io,sys;from PIL import Image;b=io.BytesIO();"
            f"Image.new('RGB',({width},{height}),(200,120,40)).save(b,'JPEG',quality=70);"
            "sys.stdout.buffer.write(b.getvalue())")
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout


PEAK_SCRIPT = r"""
import json, resource, sys
from bananapics import images
from bananapics.errors import InvalidInput
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    out = images.prepare_reference(data)
    result = {"ok": True, "size": [out.width, out.height]}
except InvalidInput as exc:
    result = {"ok": False, "title": exc.title}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result["peak_mb"] = (after - before) / 1024
print(json.dumps(result))
"""


def peak_of_prepare(path: str) -> dict:
    """``prepare_reference`` on the file at ``path`` in a fresh process: its outcome and how much its
    peak resident memory grew (MB) — Pillow allocates pixels outside Python's allocator, so
    ``tracemalloc`` would not see them; the process's high-water mark does."""
    import json

    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, path], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)
