"""Gemini adapter against the fake Gemini API (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import time

import pytest

from bananapics.providers.base import ProviderError
from bananapics.providers.gemini import GeminiProvider, parse_duration
from tests.fakes.fixtures import gemini_fake, http_client, make_request, providers_config  # noqa: F401
from tests.fakes.gemini import THOUGHT_COLOUR, GeminiFake
from tests.fakes.server import colour_of, tiny_image

MODEL = "gemini-3-pro-image"


def make(fake: GeminiFake, client, **kwargs) -> GeminiProvider:
    timeout_s = kwargs.pop("timeout_s", 3.0)
    config = providers_config(gemini=fake, timeout_s=timeout_s, **kwargs.pop("config", {}))
    kwargs.setdefault("backoff_s", 0.01)
    return GeminiProvider(config, client, **kwargs)


def test_one_image_and_the_exact_request(gemini_fake, http_client):
    images = make(gemini_fake, http_client).generate(make_request(MODEL, "a red fox", aspect_ratio="16:9", resolution="2K"))

    assert len(images) == 1
    image = images[0]
    assert image.mime == "image/png" and (image.width, image.height) == (4, 4)
    assert colour_of(image.data) != THOUGHT_COLOUR  # the thought image was skipped
    [rec] = gemini_fake.requests
    assert rec.method == "POST" and rec.path == f"/v1beta/models/{MODEL}:generateContent"
    assert rec.header("x-goog-api-key") == gemini_fake.key
    assert "key" not in rec.query  # never in the URL
    assert rec.header("content-type") == "application/json"
    assert rec.json == {
        "contents": [{"role": "user", "parts": [{"text": "a red fox"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                             "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"}},
    }


def test_image_size_is_omitted_for_1k_and_for_the_1k_only_model(gemini_fake, http_client):
    provider = make(gemini_fake, http_client)
    provider.generate(make_request(MODEL, aspect_ratio="1:1", resolution="1K"))
    provider.generate(make_request("gemini-2.5-flash-image", aspect_ratio="3:2", resolution="2K"))
    first, second = (r.json["generationConfig"]["imageConfig"] for r in gemini_fake.requests)
    assert first == {"aspectRatio": "1:1"}
    assert second == {"aspectRatio": "3:2"}


def test_count_n_makes_n_sequential_calls(gemini_fake, http_client):
    images = make(gemini_fake, http_client).generate(make_request(MODEL, count=3))
    assert len(images) == 3
    assert len(gemini_fake.requests) == 3
    assert len({colour_of(i.data) for i in images}) == 3
    assert all(r.json == gemini_fake.requests[0].json for r in gemini_fake.requests)


def test_references_are_inline_data_parts_with_raw_base64(gemini_fake, http_client):
    png, jpeg = tiny_image((1, 2, 3)), tiny_image((4, 5, 6), "JPEG")
    make(gemini_fake, http_client).generate(make_request(MODEL, "merge", refs=[(png, "image/png"), (jpeg, "image/jpeg")]))
    parts = gemini_fake.requests[0].json["contents"][0]["parts"]
    assert parts[0] == {"text": "merge"}
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}}
    assert parts[2] == {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(jpeg).decode()}}
    assert not parts[1]["inlineData"]["data"].startswith("data:")


def test_snake_case_responses_are_read(gemini_fake, http_client):
    gemini_fake.script(gemini_fake.success(snake=True))
    [image] = make(gemini_fake, http_client).generate(make_request(MODEL))
    assert colour_of(image.data) != THOUGHT_COLOUR


def test_a_partial_result_when_a_later_call_fails(gemini_fake, http_client):
    gemini_fake.script(gemini_fake.success(), "image_safety")
    images = make(gemini_fake, http_client).generate(make_request(MODEL, count=3))
    assert len(images) == 1
    assert len(gemini_fake.requests) == 2


@pytest.mark.parametrize(("preset", "kind"), [
    ("blocked_prompt", "moderation"),
    ("image_safety", "moderation"),
    ("no_image", "no_image"),
    ("text_only", "no_image"),
    ("empty", "no_image"),
    ("no_candidates", "no_image"),
    ("malformed", "provider_down"),
    ("bad_base64", "provider_down"),
    ("not_an_image", "provider_down"),
    ("html_502", "provider_down"),
    ("overloaded", "provider_down"),
    ("internal", "provider_down"),
    ("deadline", "timeout"),
    ("bad_key", "auth"),
    ("permission_denied", "auth"),
    ("failed_precondition", "quota"),
    ("not_found", "bad_request"),
    ("rate_limited", "rate_limited"),
])
def test_error_mapping(gemini_fake, http_client, preset, kind):
    gemini_fake.script(preset)
    with pytest.raises(ProviderError) as info:
        make(gemini_fake, http_client, max_retries=0).generate(make_request(MODEL))
    assert info.value.kind == kind
    assert gemini_fake.key not in str(info.value)


def test_blocked_prompt_detail_names_the_reason(gemini_fake, http_client):
    gemini_fake.script("blocked_prompt")
    with pytest.raises(ProviderError, match="PROHIBITED_CONTENT"):
        make(gemini_fake, http_client).generate(make_request(MODEL))


def test_a_wrong_key_is_a_400_api_key_invalid_mapped_to_auth(gemini_fake, http_client):
    provider = make(gemini_fake, http_client, config={"gemini_api_key": "wrong-key-xyz"})
    with pytest.raises(ProviderError) as info:
        provider.generate(make_request(MODEL))
    assert info.value.kind == "auth" and info.value.status == 400
    assert "wrong-key-xyz" not in str(info.value)


def test_an_unknown_or_retired_model_is_a_bad_request(gemini_fake, http_client):
    with pytest.raises(ProviderError) as info:
        make(gemini_fake, http_client).generate(make_request("gemini-3-pro-image-preview"))
    assert info.value.kind == "bad_request" and info.value.status == 404
    assert "retired" in info.value.detail


def test_a_missing_key_raises_auth_without_a_call(gemini_fake, http_client):
    provider = make(gemini_fake, http_client, config={"gemini_api_key": None})
    with pytest.raises(ProviderError) as info:
        provider.generate(make_request(MODEL))
    assert info.value.kind == "auth"
    assert gemini_fake.requests == []


def test_rate_limit_with_a_long_retry_delay_is_not_slept_in_process(gemini_fake, http_client):
    sleeps: list[float] = []
    gemini_fake.script("rate_limited")
    with pytest.raises(ProviderError) as info:
        make(gemini_fake, http_client, sleep=sleeps.append).generate(make_request(MODEL))
    assert info.value.kind == "rate_limited" and info.value.retry_after == 41.0
    assert sleeps == [] and len(gemini_fake.requests) == 1


def test_rate_limit_with_a_short_retry_delay_is_retried(gemini_fake, http_client):
    sleeps: list[float] = []
    gemini_fake.script("rate_limited_fast")
    images = make(gemini_fake, http_client, sleep=sleeps.append).generate(make_request(MODEL))
    assert len(images) == 1
    assert sleeps == [0.01] and len(gemini_fake.requests) == 2


def test_retries_exhausted_raise_the_typed_error(gemini_fake, http_client):
    sleeps: list[float] = []
    gemini_fake.script("overloaded", "overloaded", "overloaded", "overloaded")
    with pytest.raises(ProviderError) as info:
        make(gemini_fake, http_client, max_retries=2, sleep=sleeps.append).generate(make_request(MODEL))
    assert info.value.kind == "provider_down" and info.value.status == 503
    assert len(gemini_fake.requests) == 3 and sleeps == [0.01, 0.02]


def test_a_hanging_server_times_out(gemini_fake, http_client):
    gemini_fake.script("hang")
    start = time.monotonic()
    with pytest.raises(ProviderError) as info:
        make(gemini_fake, http_client, timeout_s=0.3).generate(make_request(MODEL))
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < 2.0


def test_connection_refused_is_provider_down(http_client):
    config = providers_config(gemini_api_key="k")  # base URL points at a closed local port
    with pytest.raises(ProviderError) as info:
        GeminiProvider(config, http_client, max_retries=0).generate(make_request(MODEL))
    assert info.value.kind == "provider_down"


def test_the_fake_rejects_what_the_real_api_rejects(gemini_fake, http_client):
    url = f"{gemini_fake.url}/v1/models/{MODEL}:generateContent"
    headers = {"x-goog-api-key": gemini_fake.key}
    assert http_client.post(url, content=b"{oops", headers=headers).status_code == 400
    assert http_client.post(url, json={"contents": []}, headers=headers).status_code == 400
    assert http_client.post(url, json={"contents": [{"parts": [{"text": "x"}]}], "n": 2}, headers=headers).status_code == 400
    bad_part = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "data:image/png;base64,AA=="}}]}]}
    assert http_client.post(url, json=bad_part, headers=headers).status_code == 400
    assert http_client.post(url, json={"contents": [{"parts": [{"text": "x"}]}]}).status_code == 403
    ok = http_client.post(url + "?key=" + gemini_fake.key, json={"contents": [{"parts": [{"text": "x"}]}]})
    assert ok.status_code == 200  # ?key= and the v1 path work too


def test_check_ok_wrong_key_and_missing_key(gemini_fake, http_client):
    result = make(gemini_fake, http_client).check()
    assert result.ok and result.key_present and result.latency_ms is not None
    assert gemini_fake.requests[-1].path == "/v1beta/models"

    bad = make(gemini_fake, http_client, config={"gemini_api_key": "not-the-key-123"}).check()
    assert not bad.ok and bad.key_present and bad.detail.startswith("auth")
    assert "not-the-key-123" not in repr(bad)

    calls = len(gemini_fake.requests)
    missing = make(gemini_fake, http_client, config={"gemini_api_key": None}).check()
    assert not missing.key_present and not missing.ok and missing.latency_ms is None
    assert len(gemini_fake.requests) == calls


def test_parse_duration():
    assert parse_duration("41s") == 41.0
    assert parse_duration("0.5s") == 0.5
    assert parse_duration({"seconds": 2, "nanos": 500_000_000}) == 2.5
    assert parse_duration("soon") is None
