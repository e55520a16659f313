"""build_provider / check_all, and the shared HTTP helpers."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from bananapics.config import Config
from bananapics.providers.base import ProviderError
from bananapics.providers.fal import FalProvider
from bananapics.providers.gemini import GeminiProvider
from bananapics.providers.http import Budget, RetryPolicy, call_with_retries, retry_after, scrub, size_for
from bananapics.providers.local import LocalProvider
from bananapics.providers.openai_images import OpenAIImagesProvider
from bananapics.providers.registry import NAMES, build_provider, check_all
from bananapics.providers.seedream import SeedreamProvider
from tests.fakes.fixtures import (  # noqa: F401
    ark_fake,
    fal_fake,
    full_config,
    gemini_fake,
    http_client,
    openai_fake,
)


@pytest.mark.parametrize(("name", "cls"), [("gemini", GeminiProvider), ("openai", OpenAIImagesProvider),
                                           ("seedream", SeedreamProvider), ("fal", FalProvider), ("local", LocalProvider)])
def test_build_provider(name, cls, http_client):
    provider = build_provider(name, Config(), http_client)
    assert isinstance(provider, cls) and provider.name == name


def test_build_provider_unknown_name(http_client):
    with pytest.raises(ValueError, match="unknown provider"):
        build_provider("midjourney", Config(), http_client)


def test_seedream_watermark_defaults_off(http_client):
    assert build_provider("seedream", Config(), http_client).watermark is False


def test_check_all_with_keys_missing_makes_no_call(gemini_fake, openai_fake, ark_fake, fal_fake, http_client):
    config = full_config(gemini=gemini_fake, openai=openai_fake, ark=ark_fake, fal=fal_fake, keys=False)
    results = check_all(config, http_client)
    assert [r.provider for r in results] == list(NAMES)
    for r in results[:4]:
        assert (r.key_present, r.ok, r.latency_ms) == (False, False, None)
        assert "key missing" in r.detail
    assert results[4].ok  # local needs no key
    assert gemini_fake.requests == openai_fake.requests == ark_fake.requests == fal_fake.requests == []


def test_check_all_with_keys_present(gemini_fake, openai_fake, ark_fake, fal_fake, http_client):
    config = full_config(gemini=gemini_fake, openai=openai_fake, ark=ark_fake, fal=fal_fake)
    results = check_all(config, http_client)
    assert all(r.ok and r.key_present and r.latency_ms is not None and r.latency_ms >= 0 for r in results), results
    out = repr(results)
    for key in config.secret_values():
        assert key not in out
    assert all(len(fake.requests) == 1 for fake in (gemini_fake, openai_fake, ark_fake, fal_fake))


def test_check_all_with_wrong_keys_never_shows_them(gemini_fake, openai_fake, ark_fake, fal_fake, http_client):
    wrong = {"gemini_api_key": "AIzaWRONG-gemini-1", "openai_api_key": "sk-WRONG-openai-2",
             "ark_api_key": "WRONG-ark-3", "fal_api_key": "WRONG-fal-4"}
    config = full_config(gemini=gemini_fake, openai=openai_fake, ark=ark_fake, fal=fal_fake, **wrong)
    results = check_all(config, http_client)
    assert [(r.key_present, r.ok) for r in results[:4]] == [(True, False)] * 4
    assert all(r.detail.startswith("auth") for r in results[:4]), results
    out = repr(results)
    assert not any(key in out for key in wrong.values())


def test_check_all_with_an_unreachable_provider(http_client):
    config = full_config()  # keys set, base URLs point at a closed local port
    results = check_all(config, http_client)
    assert all(not r.ok and r.detail.startswith("provider_down") for r in results[:4]), results


# ---- shared helpers ---------------------------------------------------------------------------

def response(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_parsing():
    assert retry_after(response({"retry-after-ms": "250"})) == 0.25
    assert retry_after(response({"retry-after": "12"})) == 12.0
    assert retry_after(response({"retry-after": "1.5"})) == 1.5
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after(response({"retry-after": date})) <= 31
    assert retry_after(response({})) is None
    assert retry_after(response({"retry-after": "soon"})) is None


def test_call_with_retries_stops_on_non_retryable_and_respects_the_budget():
    calls = []

    def moderation():
        calls.append(1)
        raise ProviderError("moderation", "no")

    with pytest.raises(ProviderError):
        call_with_retries(moderation, Budget(5), RetryPolicy(max_retries=3, sleep=lambda s: None), "t")
    assert len(calls) == 1

    def down():
        calls.append(1)
        raise ProviderError("provider_down", "503", retry_after=3.0)

    calls.clear()
    with pytest.raises(ProviderError):  # a 3 s wait does not fit a 1 s budget: raise at once, retry_after kept
        call_with_retries(down, Budget(1), RetryPolicy(max_retries=3, sleep=lambda s: None), "t")
    assert len(calls) == 1


def test_scrub_and_size_for():
    assert scrub("bad key sk-123 here", "sk-123", None) == "bad key *** here"
    assert size_for("16:9", 2048 * 2048) == (2720, 1536)
    assert size_for("1:1", 1024 * 1024) == (1024, 1024)
