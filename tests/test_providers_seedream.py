"""Seedream (BytePlus Ark) adapter against the fake Ark API (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import re
import time

import pytest

from bananapics.providers.base import ProviderError
from bananapics.providers.seedream import SeedreamProvider
from tests.fakes.ark import ArkFake
from tests.fakes.fixtures import ark_fake, http_client, make_request, providers_config  # noqa: F401
from tests.fakes.server import colour_of, tiny_image

MODEL = "seedream-4-0-250828"


def make(fake: ArkFake, client, **kwargs) -> SeedreamProvider:
    timeout_s = kwargs.pop("timeout_s", 3.0)
    config = providers_config(ark=fake, timeout_s=timeout_s, **kwargs.pop("config", {}))
    kwargs.setdefault("backoff_s", 0.01)
    return SeedreamProvider(config, client, **kwargs)


def test_one_image_b64_and_the_exact_request(ark_fake, http_client):
    images = make(ark_fake, http_client).generate(
        make_request(MODEL, "a cafe", key="job-7", aspect_ratio="16:9", resolution="2K"))
    assert len(images) == 1 and images[0].mime == "image/jpeg"
    [rec] = ark_fake.requests
    assert (rec.method, rec.path) == ("POST", "/api/v3/images/generations")
    assert rec.header("authorization") == f"Bearer {ark_fake.key}"
    assert rec.header("x-client-request-id") == "job-7-0"
    assert rec.json == {"model": MODEL, "prompt": "a cafe", "size": "2720x1536", "response_format": "b64_json",
                        "watermark": False, "sequential_image_generation": "disabled"}


@pytest.mark.parametrize("resolution", ["1K", "2K", "4K"])
@pytest.mark.parametrize("ratio", ["1:1", "21:9", "9:16", "2:3"])
def test_sizes_are_accepted_by_ark(ark_fake, http_client, resolution, ratio):
    make(ark_fake, http_client).generate(make_request(MODEL, aspect_ratio=ratio, resolution=resolution))
    w, h = map(int, re.fullmatch(r"(\d+)x(\d+)", ark_fake.requests[0].json["size"]).groups())
    assert abs(w / h - eval(ratio.replace(":", "/"))) < 0.05


def test_without_aspect_ratio_the_preset_is_sent(ark_fake, http_client):
    make(ark_fake, http_client).generate(make_request(MODEL, resolution="4K"))
    assert ark_fake.requests[0].json["size"] == "4K"


def test_url_output_is_downloaded_without_credentials(ark_fake, http_client):
    images = make(ark_fake, http_client, response_format="url").generate(make_request(MODEL))
    assert len(images) == 1
    generate, download = ark_fake.requests
    assert generate.json["response_format"] == "url"
    assert download.route == "files" and download.method == "GET"
    assert download.header("authorization") is None
    assert images[0].data == ark_fake.files[download.path.removeprefix("/files/")]


def test_one_reference_is_a_data_uri_string(ark_fake, http_client):
    png = tiny_image((9, 9, 9))
    make(ark_fake, http_client).generate(make_request(MODEL, refs=[(png, "image/png")]))
    assert ark_fake.requests[0].json["image"] == "data:image/png;base64," + base64.b64encode(png).decode()


def test_several_references_are_an_array_of_data_uris(ark_fake, http_client):
    refs = [(tiny_image((i, i, i), "JPEG"), "image/jpeg") for i in range(3)]
    make(ark_fake, http_client).generate(make_request(MODEL, refs=refs))
    assert ark_fake.requests[0].json["image"] == [
        "data:image/jpeg;base64," + base64.b64encode(data).decode() for data, _ in refs]


def test_count_n_is_n_calls_by_default(ark_fake, http_client):
    images = make(ark_fake, http_client).generate(make_request(MODEL, key="j", count=3))
    assert len(images) == 3 and len({colour_of(i.data) for i in images}) == 3
    assert [r.header("x-client-request-id") for r in ark_fake.requests] == ["j-0", "j-1", "j-2"]
    assert all(r.json["sequential_image_generation"] == "disabled" for r in ark_fake.requests)


def test_sequential_mode_is_one_call_with_max_images(ark_fake, http_client):
    images = make(ark_fake, http_client, sequential=True).generate(make_request(MODEL, count=3))
    assert len(images) == 3
    [rec] = ark_fake.requests
    assert rec.json["sequential_image_generation"] == "auto"
    assert rec.json["sequential_image_generation_options"] == {"max_images": 3}


def test_watermark_can_be_turned_on(ark_fake, http_client):
    make(ark_fake, http_client, watermark=True).generate(make_request(MODEL))
    assert ark_fake.requests[0].json["watermark"] is True


def test_a_filtered_item_in_a_batch_is_skipped(ark_fake, http_client):
    ark_fake.script(ark_fake.success(1, "b64_json", filtered=1))
    images = make(ark_fake, http_client, sequential=True).generate(make_request(MODEL, count=2))
    assert len(images) == 1


@pytest.mark.parametrize(("preset", "kind"), [
    ("output_sensitive", "moderation"),
    ("input_text_sensitive", "moderation"),
    ("all_filtered", "moderation"),
    ("auth", "auth"),
    ("account_overdue", "quota"),
    ("model_not_open", "auth"),
    ("rate_limited", "rate_limited"),
    ("overloaded", "provider_down"),
    ("quota_exceeded", "quota"),
    ("internal", "provider_down"),
    ("malformed", "provider_down"),
    ("empty", "no_image"),
])
def test_error_mapping(ark_fake, http_client, preset, kind):
    ark_fake.script(preset)
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client, max_retries=0).generate(make_request(MODEL))
    assert info.value.kind == kind
    assert ark_fake.key not in str(info.value)


def test_unknown_model_and_wrong_key(ark_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client).generate(make_request("seedream-9"))
    assert info.value.kind == "bad_request" and info.value.status == 404
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client, config={"ark_api_key": "ark-wrong"}).generate(make_request(MODEL))
    assert info.value.kind == "auth" and "ark-wrong" not in str(info.value)


def test_rate_limit_retry_after(ark_fake, http_client):
    ark_fake.script("rate_limited")
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client).generate(make_request(MODEL))
    assert info.value.retry_after == 20.0 and len(ark_fake.requests) == 1


def test_rate_limit_then_success(ark_fake, http_client):
    sleeps: list[float] = []
    ark_fake.script("rate_limited_fast", "overloaded")
    images = make(ark_fake, http_client, sleep=sleeps.append).generate(make_request(MODEL))
    assert len(images) == 1 and sleeps == [0.0, 0.0] and len(ark_fake.requests) == 3


def test_retries_exhausted(ark_fake, http_client):
    ark_fake.script(*["internal"] * 5)
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client, max_retries=2, sleep=lambda s: None).generate(make_request(MODEL))
    assert info.value.kind == "provider_down" and len(ark_fake.requests) == 3


def test_a_hanging_server_times_out(ark_fake, http_client):
    ark_fake.script("hang")
    start = time.monotonic()
    with pytest.raises(ProviderError) as info:
        make(ark_fake, http_client, timeout_s=0.3).generate(make_request(MODEL))
    assert info.value.kind == "timeout" and time.monotonic() - start < 2.0


def test_the_fake_rejects_what_the_real_api_rejects(ark_fake, http_client):
    url, auth = f"{ark_fake.url}/api/v3/images/generations", {"Authorization": f"Bearer {ark_fake.key}"}
    base = {"model": MODEL, "prompt": "x"}
    assert http_client.post(url, json=base).status_code == 401
    assert http_client.post(url, json={"prompt": "x"}, headers=auth).status_code == 400
    assert http_client.post(url, json={**base, "image": "data:image/png;base64,%%%"}, headers=auth).status_code == 400
    assert http_client.post(url, json={**base, "image": ["ftp://x"]}, headers=auth).status_code == 400
    assert http_client.post(url, json={**base, "size": "100x100"}, headers=auth).status_code == 400
    assert http_client.post(url, json={**base, "n": 2}, headers=auth).status_code == 400
    assert http_client.post(url, json={**base, "image": ["https://x/a.png"] * 11}, headers=auth).status_code == 400


def test_check(ark_fake, http_client):
    result = make(ark_fake, http_client).check()
    assert result.ok and result.detail == "key accepted"
    bad = make(ark_fake, http_client, config={"ark_api_key": "ark-nope-1"}).check()
    assert not bad.ok and bad.detail.startswith("auth") and "ark-nope-1" not in repr(bad)
