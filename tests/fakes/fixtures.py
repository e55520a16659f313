"""Pytest fixtures for the fake provider servers and a config pointing at them.

Import into a test module with ``from tests.fakes.fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bananapics.config import Config, ProvidersConfig
from tests.fakes.ark import ArkFake
from tests.fakes.fal import FalFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

__all__ = ["ark_fake", "fal_fake", "full_config", "gemini_fake", "http_client", "make_request", "openai_fake",
           "providers_config"]


def _serve(fake):
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def gemini_fake() -> Iterator[GeminiFake]:
    yield from _serve(GeminiFake())


@pytest.fixture
def openai_fake() -> Iterator[OpenAIFake]:
    yield from _serve(OpenAIFake())


@pytest.fixture
def ark_fake() -> Iterator[ArkFake]:
    yield from _serve(ArkFake())


@pytest.fixture
def fal_fake() -> Iterator[FalFake]:
    yield from _serve(FalFake())


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    # trust_env=False: no proxy from the environment may intercept calls to 127.0.0.1
    with httpx.Client(trust_env=False) as client:
        yield client


def providers_config(*, gemini: GeminiFake | None = None, openai: OpenAIFake | None = None, ark: ArkFake | None = None,
                     fal: FalFake | None = None, timeout_s: float = 3.0, keys: bool = True, **overrides: Any) -> ProvidersConfig:
    """A ProvidersConfig whose base URLs point at the given fakes (and whose keys they accept)."""
    values: dict[str, Any] = {"timeout_s": timeout_s}
    dead = "http://127.0.0.1:9"  # nothing listens there: a provider without a fake must not be called
    values["gemini_base_url"] = f"{gemini.url}/v1beta" if gemini else f"{dead}/v1beta"
    values["openai_base_url"] = f"{openai.url}/v1" if openai else f"{dead}/v1"
    values["ark_base_url"] = f"{ark.url}/api/v3" if ark else f"{dead}/api/v3"
    values["fal_base_url"] = fal.url if fal else dead
    if keys:
        values["gemini_api_key"] = gemini.key if gemini else GeminiFake.key
        values["openai_api_key"] = openai.key if openai else OpenAIFake.key
        values["ark_api_key"] = ark.key if ark else ArkFake.key
        values["fal_api_key"] = fal.key if fal else FalFake.key
    values.update(overrides)
    return ProvidersConfig.build(**values)


def full_config(**kwargs: Any) -> Config:
    return Config(providers=providers_config(**kwargs))


def make_request(model: str, prompt: str = "a banana surfing a wave", *, refs: list[tuple[bytes, str]] | None = None,
                 key: str = "job-1", **settings: Any):
    """A GenerationRequest with ``settings`` as given (``count`` defaults to 1)."""
    from bananapics.providers.base import GenerationRequest, ImageIn

    settings.setdefault("count", 1)
    return GenerationRequest(prompt=prompt, provider_model=model, settings=settings,
                             references=[ImageIn(data, mime) for data, mime in (refs or [])], idempotency_key=key)
