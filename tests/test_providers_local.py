"""The offline `local` provider: determinism, settings, references, knobs, speed."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from bananapics.providers.base import ProviderError
from bananapics.providers.local import LocalProvider
from tests.fakes.fixtures import make_request
from tests.fakes.server import tiny_image


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def test_the_same_request_gives_the_same_bytes():
    provider = LocalProvider()
    request = make_request("local", "a banana", count=2, aspect_ratio="3:2", resolution="1K")
    first, again = provider.generate(request), LocalProvider().generate(request)
    assert [i.data for i in first] == [i.data for i in again]
    assert first[0].data != first[1].data  # the N images of a request differ


def test_different_keys_or_prompts_give_different_images():
    provider = LocalProvider()
    a = provider.generate(make_request("local", "a banana", key="job-a"))[0].data
    b = provider.generate(make_request("local", "a banana", key="job-b"))[0].data
    c = provider.generate(make_request("local", "an apple", key="job-a"))[0].data
    assert len({a, b, c}) == 3


@pytest.mark.parametrize(("ratio", "resolution", "size"), [
    ("1:1", "1K", (256, 256)), ("16:9", "1K", (256, 144)), ("9:16", "2K", (216, 384)), ("3:2", "4K", (512, 341)),
    ("1:1", "512", (128, 128)), (None, None, (256, 256)),
])
def test_aspect_ratio_and_resolution_set_the_size(ratio, resolution, size):
    settings = {k: v for k, v in {"aspect_ratio": ratio, "resolution": resolution}.items() if v}
    [image] = LocalProvider().generate(make_request("local", **settings))
    assert (image.width, image.height) == size == size_of(image.data)
    assert image.mime == "image/png"


@pytest.mark.parametrize(("fmt", "mime", "pil"), [("jpeg", "image/jpeg", "JPEG"), ("webp", "image/webp", "WEBP"),
                                                  ("png", "image/png", "PNG")])
def test_format_setting(fmt, mime, pil):
    [image] = LocalProvider().generate(make_request("local", format=fmt))
    assert image.mime == mime
    with Image.open(io.BytesIO(image.data)) as im:
        assert im.format == pil


def test_references_are_composited():
    ref = tiny_image((0, 255, 0), size=(40, 40))
    plain = LocalProvider().generate(make_request("local"))[0]
    with_ref = LocalProvider().generate(make_request("local", refs=[(ref, "image/png")]))[0]
    assert plain.data != with_ref.data
    with Image.open(io.BytesIO(with_ref.data)) as im:
        assert im.convert("RGB").getpixel((10, with_ref.height - 20)) == (0, 255, 0)


def test_an_unreadable_reference_is_a_bad_request():
    with pytest.raises(ProviderError) as info:
        LocalProvider().generate(make_request("local", refs=[(b"not an image", "image/png")]))
    assert info.value.kind == "bad_request"


def test_failure_rate_is_deterministic_by_key():
    provider = LocalProvider(failure_rate=0.5, failure_kinds=("provider_down", "rate_limited"))
    outcomes = {}
    for n in range(200):
        try:
            provider.generate(make_request("local", "x", key=f"job-{n}", resolution="512"))
            outcomes[n] = "ok"
        except ProviderError as exc:
            outcomes[n] = exc.kind
    assert 60 <= sum(v != "ok" for v in outcomes.values()) <= 140
    assert {v for v in outcomes.values()} == {"ok", "provider_down", "rate_limited"}
    for n in range(0, 200, 17):  # the same key always has the same outcome
        try:
            provider.generate(make_request("local", "x", key=f"job-{n}", resolution="512"))
            again = "ok"
        except ProviderError as exc:
            again = exc.kind
        assert again == outcomes[n]


def test_failure_rate_extremes():
    with pytest.raises(ProviderError) as info:
        LocalProvider(failure_rate=1.0).generate(make_request("local"))
    assert info.value.kind == "provider_down" and info.value.retryable
    assert LocalProvider(failure_rate=0.0).generate(make_request("local"))
    with pytest.raises(ValueError):
        LocalProvider(failure_rate=2)
    with pytest.raises(ValueError):
        LocalProvider(failure_kinds=("exploded",))


def test_prompt_markers_force_outcomes():
    with pytest.raises(ProviderError) as info:
        LocalProvider().generate(make_request("local", "a cat #fail:moderation"))
    assert info.value.kind == "moderation"
    assert len(LocalProvider().generate(make_request("local", "a cat #partial", count=3))) == 2


def test_latency_knob():
    start = time.monotonic()
    LocalProvider(latency_s=0.05).generate(make_request("local", resolution="512"))
    assert time.monotonic() - start >= 0.05


def test_fast_at_zero_latency():
    provider = LocalProvider()
    provider.generate(make_request("local"))  # warm up (font load)
    start = time.perf_counter()
    for n in range(20):
        provider.generate(make_request("local", f"prompt {n}", key=f"k{n}", aspect_ratio="1:1", resolution="1K"))
    per_image_ms = (time.perf_counter() - start) / 20 * 1000
    assert per_image_ms < 25  # a few ms on a normal machine; generous for slow CI


def test_check_needs_no_key():
    result = LocalProvider().check()
    assert result.ok and result.key_present and result.provider == "local"
