"""Provider adapters by name, and the operator's "are my providers working?" check.

``build_provider(name, config, client)`` gives one adapter for ``gemini``, ``openai``, ``seedream``,
``fal`` or ``local``; keys and base URLs come from ``config.providers`` only. ``check_all`` reports,
for each provider, whether its key is set and whether a cheap live call against the configured base
URL works, with its latency. A missing key makes no network call; no result ever contains a key.
"""

from __future__ import annotations

import httpx

from bananapics.config import Config
from bananapics.providers.base import CheckResult, Provider, ProviderError
from bananapics.providers.fal import FalProvider
from bananapics.providers.gemini import GeminiProvider
from bananapics.providers.http import scrub
from bananapics.providers.local import LocalProvider
from bananapics.providers.openai_images import OpenAIImagesProvider
from bananapics.providers.seedream import SeedreamProvider

NAMES = ("gemini", "openai", "seedream", "fal", "local")


def build_provider(name: str, config: Config, client: httpx.Client) -> Provider:
    providers = config.providers
    if name == "gemini":
        return GeminiProvider(providers, client)
    if name == "openai":
        return OpenAIImagesProvider(providers, client)
    if name == "seedream":
        return SeedreamProvider(providers, client)
    if name == "fal":
        return FalProvider(providers, client)
    if name == "local":
        return LocalProvider(latency_s=config.providers.local_latency_s,
                             failure_rate=config.providers.local_failure_rate)
    raise ValueError(f"unknown provider {name!r} (known: {', '.join(NAMES)})")


def check_all(config: Config, client: httpx.Client) -> list[CheckResult]:
    """One CheckResult per provider, in ``NAMES`` order. Never raises for a provider failure."""
    results = []
    secrets = config.secret_values()
    for name in NAMES:
        provider = build_provider(name, config, client)
        try:
            result = provider.check()
        except ProviderError as exc:  # defensive: adapters already turn failures into results
            result = CheckResult(name, key_present=True, ok=False, latency_ms=None, detail=f"{exc.kind}: {exc.detail}")
        results.append(CheckResult(result.provider, result.key_present, result.ok, result.latency_ms,
                                   scrub(result.detail, *secrets)))
    return results
