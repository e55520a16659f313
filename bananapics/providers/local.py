"""An offline provider: draws a deterministic picture from the request with Pillow. No key, no network.

For development, demos, load tests and end-to-end tests. The same request (prompt, settings,
references, idempotency key) always gives byte-identical images; the N images of one request differ.

* Size: the aspect ratio is kept, the resolution is scaled down for speed (long side 128 px for
  ``512``, 256 for ``1K``, 384 for ``2K``, 512 for ``4K``); a small image takes a few milliseconds.
* Content: a gradient and shapes seeded by the request, the prompt's first words, a settings label,
  and a thumbnail strip of the references.
* ``format`` setting: png (default), jpeg or webp.

Knobs (constructor): ``latency_s``: the answer comes that long after the call (the drawing counts
toward it, as a remote provider's compute does); ``failure_rate`` (0..1) fails that share
of requests, chosen deterministically by idempotency key (the prompt when there is none), with a kind
from ``failure_kinds``. Prompt markers force an outcome: ``#fail:<kind>`` raises that
:class:`ProviderError` kind, ``#partial`` returns one image fewer than asked (at least one).

Errors: an unreadable reference image → ``bad_request``; everything else only when asked to fail.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import time
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from bananapics.providers.base import ERROR_KINDS, CheckResult, GenerationRequest, ImageIn, ImageOut, ProviderError
from bananapics.providers.http import ratio_of

LONG_SIDE = {"512": 128, "0.5K": 128, "1K": 256, "2K": 384, "4K": 512}
FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "jpg": ("JPEG", "image/jpeg"),
           "webp": ("WEBP", "image/webp")}
FAIL_MARK = re.compile(r"#fail:([a-z_]+)")


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()  # decoded from base64 on every call: keep one


class LocalProvider:
    name = "local"

    def __init__(self, *, latency_s: float = 0.0, failure_rate: float = 0.0,
                 failure_kinds: Sequence[str] = ("provider_down",)) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        unknown = [k for k in failure_kinds if k not in ERROR_KINDS]
        if unknown or not failure_kinds:
            raise ValueError(f"failure_kinds must be non-empty kinds of {sorted(ERROR_KINDS)}")
        self.latency_s = latency_s
        self.failure_rate = failure_rate
        self.failure_kinds = tuple(failure_kinds)

    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        """Answers ``latency_s`` after the call, not sooner: like a remote provider, whose own work
        happens inside the time it takes to answer, the drawing counts toward the latency."""
        started = time.monotonic()
        try:
            self._maybe_fail(request)
            count = max(request.count, 1)
            if "#partial" in request.prompt and count > 1:
                count -= 1
            thumbs = [self._thumbnail(ref) for ref in request.references]
            return [self._draw(request, n, thumbs) for n in range(count)]
        finally:
            left = self.latency_s - (time.monotonic() - started)
            if left > 0:
                time.sleep(left)

    def check(self) -> CheckResult:
        return CheckResult(self.name, key_present=True, ok=True, latency_ms=0.0, detail="offline generator, no key needed")

    # ---- internals -----------------------------------------------------------------------
    def _maybe_fail(self, request: GenerationRequest) -> None:
        forced = FAIL_MARK.search(request.prompt)
        if forced and forced.group(1) in ERROR_KINDS:
            kind = forced.group(1)
            raise ProviderError(kind, f"local: failure requested by the prompt ({kind})",
                                retry_after=1.0 if kind == "rate_limited" else None)
        if self.failure_rate <= 0:
            return
        who = request.idempotency_key or request.prompt
        if _unit("fail", who) < self.failure_rate:
            kind = self.failure_kinds[int(_unit("kind", who) * len(self.failure_kinds))]
            raise ProviderError(kind, f"local: simulated {kind} (failure_rate={self.failure_rate:g})",
                                retry_after=1.0 if kind == "rate_limited" else None)

    @staticmethod
    def _thumbnail(ref: ImageIn) -> Image.Image:
        try:
            with Image.open(io.BytesIO(ref.data)) as im:
                im.draft("RGB", (64, 64))  # JPEG: decode at reduced scale, much faster
                thumb = im.convert("RGB")
        except (OSError, ValueError):
            raise ProviderError("bad_request", "local: a reference image cannot be decoded") from None
        thumb.thumbnail((64, 64))
        return thumb

    @staticmethod
    def _size(settings: dict) -> tuple[int, int]:
        side = LONG_SIDE.get(str(settings.get("resolution") or "1K"), 256)
        r = ratio_of(settings.get("aspect_ratio"))
        if r >= 1:
            return side, max(int(round(side / r)), 8)
        return max(int(round(side * r)), 8), side

    def _draw(self, request: GenerationRequest, n: int, thumbs: list[Image.Image]) -> ImageOut:
        settings = request.settings
        fingerprint = json.dumps({"p": request.prompt, "m": request.provider_model, "k": request.idempotency_key,
                                  "s": {k: settings[k] for k in sorted(settings)},
                                  "r": [hashlib.sha256(ref.data).hexdigest() for ref in request.references]},
                                 sort_keys=True, default=str)
        rng = random.Random(hashlib.sha256(f"{fingerprint}|{n}".encode()).digest())
        w, h = self._size(settings)
        top = tuple(rng.randrange(256) for _ in range(3))
        bottom = tuple(rng.randrange(256) for _ in range(3))
        img = Image.linear_gradient("L").resize((w, h))
        img = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), img)
        draw = ImageDraw.Draw(img)
        for _ in range(5):
            x0, y0 = rng.randrange(w), rng.randrange(h)
            x1, y1 = x0 + rng.randrange(8, max(w // 2, 9)), y0 + rng.randrange(8, max(h // 2, 9))
            colour = tuple(rng.randrange(256) for _ in range(3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
        font = _font()
        label = f"local #{n + 1} {settings.get('aspect_ratio', '')} {settings.get('resolution') or settings.get('quality') or ''}"
        text = request.prompt[:60]
        draw.rectangle((0, 0, w, 26), fill=(0, 0, 0))
        draw.text((4, 2), text, fill=(255, 255, 255), font=font)
        draw.text((4, 14), label.strip(), fill=(255, 220, 0), font=font)
        x = 4
        for thumb in thumbs:
            tw, th = thumb.size
            if x + tw > w or th + 4 > h:
                break
            img.paste(thumb, (x, h - th - 4))
            x += tw + 4
        fmt, mime = FORMATS.get(str(settings.get("format") or "png").lower(), FORMATS["png"])
        out = io.BytesIO()
        if fmt == "PNG":
            img.save(out, fmt, compress_level=1)
        else:
            img.save(out, fmt, quality=85)
        return ImageOut(data=out.getvalue(), mime=mime, width=w, height=h)
