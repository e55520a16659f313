"""OpenAI Images adapter against the fake OpenAI API (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import time

import pytest

from bananapics.providers.base import ProviderError
from bananapics.providers.openai_images import OpenAIImagesProvider, size_for_ratio
from tests.fakes.fixtures import http_client, make_request, openai_fake, providers_config  # noqa: F401
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import colour_of, tiny_image

MODEL = "gpt-image-1.5"


def make(fake: OpenAIFake, client, **kwargs) -> OpenAIImagesProvider:
    timeout_s = kwargs.pop("timeout_s", 3.0)
    config = providers_config(openai=fake, timeout_s=timeout_s, **kwargs.pop("config", {}))
    kwargs.setdefault("backoff_s", 0.01)
    return OpenAIImagesProvider(config, client, **kwargs)


def test_one_image_via_generations_json(openai_fake, http_client):
    images = make(openai_fake, http_client).generate(
        make_request(MODEL, "a fox", quality="high", aspect_ratio="3:2", format="jpeg"))
    assert len(images) == 1 and images[0].mime == "image/jpeg"
    [rec] = openai_fake.requests
    assert (rec.method, rec.path, rec.route) == ("POST", "/v1/images/generations", "generations")
    assert rec.header("authorization") == f"Bearer {openai_fake.key}"
    assert rec.json == {"model": MODEL, "prompt": "a fox", "n": 1, "size": "1536x1024", "quality": "high",
                        "output_format": "jpeg"}


def test_n_images_in_one_call(openai_fake, http_client):
    images = make(openai_fake, http_client).generate(make_request(MODEL, count=4, quality="low", aspect_ratio="2:3"))
    assert len(images) == 4 and len({colour_of(i.data) for i in images}) == 4
    [rec] = openai_fake.requests
    assert rec.json["n"] == 4 and rec.json["size"] == "1024x1536" and rec.json["quality"] == "low"


def test_references_go_to_edits_as_repeated_image_brackets(openai_fake, http_client):
    png, jpeg = tiny_image((1, 2, 3)), tiny_image((4, 5, 6), "JPEG")
    images = make(openai_fake, http_client).generate(
        make_request(MODEL, "combine them", refs=[(png, "image/png"), (jpeg, "image/jpeg")], count=2,
                     quality="medium", aspect_ratio="1:1", format="png"))
    assert len(images) == 2
    [rec] = openai_fake.requests
    assert rec.path == "/v1/images/edits"
    assert rec.header("content-type").startswith("multipart/form-data; boundary=")
    assert rec.header("authorization") == f"Bearer {openai_fake.key}"
    files = [p for p in rec.parts if p.filename is not None]
    assert [(p.name, p.filename, p.content_type, p.data) for p in files] == [
        ("image[]", "ref1.png", "image/png", png), ("image[]", "ref2.jpg", "image/jpeg", jpeg)]
    fields = {p.name: p.text for p in rec.parts if p.filename is None}
    assert fields == {"model": MODEL, "prompt": "combine them", "n": "2", "size": "1024x1024", "quality": "medium",
                      "output_format": "png"}


@pytest.mark.parametrize(("preset", "kind"), [
    ("moderation_blocked", "moderation"),
    ("content_policy_violation", "moderation"),
    ("invalid_api_key", "auth"),
    ("org_verification", "auth"),
    ("insufficient_quota", "quota"),
    ("rate_limited", "rate_limited"),
    ("server_error", "provider_down"),
    ("overloaded", "provider_down"),
    ("model_not_found", "bad_request"),
    ("malformed", "provider_down"),
    ("empty", "no_image"),
])
def test_error_mapping(openai_fake, http_client, preset, kind):
    openai_fake.script(preset)
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client, max_retries=0).generate(make_request(MODEL))
    assert info.value.kind == kind
    assert openai_fake.key not in str(info.value)


def test_insufficient_quota_is_not_retried(openai_fake, http_client):
    openai_fake.script("insufficient_quota")
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client).generate(make_request(MODEL))
    assert info.value.kind == "quota" and not info.value.retryable
    assert len(openai_fake.requests) == 1


def test_a_retired_model_is_a_clear_bad_request(openai_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client).generate(make_request("gpt-image-1"))
    assert info.value.kind == "bad_request" and info.value.status == 404
    assert "'gpt-image-1'" in info.value.detail and "retired" in info.value.detail


def test_a_wrong_key_is_auth(openai_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client, config={"openai_api_key": "sk-wrong-0000"}).generate(make_request(MODEL))
    assert info.value.kind == "auth" and info.value.status == 401
    assert "sk-wrong-0000" not in str(info.value)


def test_rate_limit_retry_after_header_is_reported(openai_fake, http_client):
    openai_fake.script("rate_limited")
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client).generate(make_request(MODEL))
    assert info.value.retry_after == 12.0 and len(openai_fake.requests) == 1  # 12 s is not slept in-process


def test_rate_limit_then_success(openai_fake, http_client):
    sleeps: list[float] = []
    openai_fake.script("rate_limited_fast")
    images = make(openai_fake, http_client, sleep=sleeps.append).generate(make_request(MODEL))
    assert len(images) == 1 and sleeps == [0.01] and len(openai_fake.requests) == 2


def test_retries_exhausted(openai_fake, http_client):
    sleeps: list[float] = []
    openai_fake.script(*["server_error"] * 5)
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client, max_retries=2, sleep=sleeps.append).generate(make_request(MODEL))
    assert info.value.kind == "provider_down" and len(openai_fake.requests) == 3 and len(sleeps) == 2


def test_a_hanging_server_times_out(openai_fake, http_client):
    openai_fake.script("hang")
    start = time.monotonic()
    with pytest.raises(ProviderError) as info:
        make(openai_fake, http_client, timeout_s=0.3).generate(make_request(MODEL))
    assert info.value.kind == "timeout" and time.monotonic() - start < 2.0


def test_the_fake_rejects_what_the_real_api_rejects(openai_fake, http_client):
    auth = {"Authorization": f"Bearer {openai_fake.key}"}
    gen, edits = f"{openai_fake.url}/v1/images/generations", f"{openai_fake.url}/v1/images/edits"
    assert http_client.post(gen, json={"model": MODEL}, headers=auth).status_code == 400  # no prompt
    assert http_client.post(gen, json={"model": MODEL, "prompt": "x", "response_format": "url"},
                            headers=auth).status_code == 400  # unknown parameter
    assert http_client.post(gen, json={"model": MODEL, "prompt": "x", "size": "999x999"}, headers=auth).status_code == 400
    assert http_client.post(gen, json={"model": MODEL, "prompt": "x"}).status_code == 401
    png = tiny_image((0, 0, 0))
    assert http_client.post(edits, data={"model": MODEL, "prompt": "x"}, files=[("images", ("a.png", png, "image/png"))],
                            headers=auth).status_code == 400  # wrong field name
    assert http_client.post(edits, data={"model": MODEL, "prompt": "x"}, files=[("image[]", ("a.txt", b"hi", "text/plain"))],
                            headers=auth).status_code == 400  # not an image type
    assert http_client.post(edits, json={"model": MODEL, "prompt": "x"}, headers=auth).status_code == 400  # not multipart
    ok = http_client.post(edits, data={"model": MODEL, "prompt": "x"}, files=[("image", ("a.png", png, "image/png"))],
                          headers=auth)
    assert ok.status_code == 200 and "b64_json" in ok.json()["data"][0]


def test_check(openai_fake, http_client):
    result = make(openai_fake, http_client).check()
    assert result.ok and result.latency_ms is not None and openai_fake.requests[-1].path == "/v1/models"
    bad = make(openai_fake, http_client, config={"openai_api_key": "sk-bad-key-42"}).check()
    assert not bad.ok and bad.detail.startswith("auth") and "sk-bad-key-42" not in repr(bad)


@pytest.mark.parametrize(("ratio", "size"), [("1:1", "1024x1024"), ("3:2", "1536x1024"), ("2:3", "1024x1536"),
                                             ("16:9", "1536x1024"), ("9:16", "1024x1536"), (None, "1024x1024")])
def test_size_from_aspect_ratio(ratio, size):
    assert size_for_ratio(ratio) == size
