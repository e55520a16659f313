"""Builds the long-lived parts from config: storage, providers, the worker runtime, Huey tasks.

Only entry points (CLI commands, the bot, tests) call this; services receive what they need.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from bananapics.config import Config
from bananapics.providers.base import Provider
from bananapics.services.jobs import Timing
from bananapics.worker import Runtime


@dataclass
class ProviderPool:
    """One adapter per provider name, sharing one httpx client (connection pooling across threads)."""

    config: Config
    client: httpx.Client = field(default_factory=lambda: httpx.Client(follow_redirects=False))
    cache: dict[str, Provider] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, name: str) -> Provider:
        from bananapics.providers.registry import build_provider

        name = self.config.providers.force_provider or name
        with self.lock:
            if name not in self.cache:
                self.cache[name] = build_provider(name, self.config, self.client)
            return self.cache[name]

    def close(self) -> None:
        self.client.close()


def timing(config: Config) -> Timing:
    return Timing(lease_s=config.jobs.lease_s, deadline_s=config.jobs.deadline_s,
                  requeue_after_s=config.jobs.requeue_after_s)


def build_runtime(config: Config, providers: ProviderPool | None = None) -> Runtime:
    from bananapics.storage import make_storage

    return Runtime(storage=make_storage(config.storage), provider_for=providers or ProviderPool(config),
                   timing=timing(config), breaker=breaker_policy(config))


def breaker_policy(config: Config):
    """The per-model circuit breaker's thresholds from ``[providers]``."""
    from bananapics.services.breaker import Policy

    return Policy(failures=config.providers.breaker_failures, cooldown_s=config.providers.breaker_cooldown_seconds)


def build_tasks(config: Config, runtime: Runtime | None = None):
    """The Huey instance and tasks for this config; the runtime is built on first use."""
    from bananapics.tasks.generation import register
    from bananapics.tasks.queue import make_huey

    holder: dict[str, Runtime] = {}
    lock = threading.Lock()

    def get_runtime() -> Runtime:
        with lock:
            if "rt" not in holder:
                holder["rt"] = runtime or build_runtime(config)
            return holder["rt"]

    tasks = register(make_huey(config.queue), get_runtime, sweep_minutes=config.jobs.sweep_minutes,
                     retention_days=config.storage.retention_days, stars_api=lambda: stars_api(config),
                     reconcile_minutes=config.telegram.reconcile_minutes)
    from bananapics.tasks import observability  # the metrics server and the leader's verify, per consumer

    observability.register(tasks.huey, config)
    return tasks


def stars_api(config: Config):
    """The Bot API client for refunds and reconcile, or None when no bot token is configured."""
    from bananapics import botapi

    return botapi.from_config(config) if config.telegram.bot_token else None
