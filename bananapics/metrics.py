"""Prometheus metrics of the bot and of each worker process (``prometheus_client``).

Every process that serves them (``[metrics] port`` > 0; 0, the embedded default, serves nothing)
exposes ``/metrics`` on its own port. Counters are per process (Prometheus sums them); the gauges
read from the database (queue depth, outbox backlog, jobs by state, workers alive, ledger verify
breaches) are set by ONE worker, the observability leader (``bananapics.tasks.observability``).

Names follow Prometheus conventions (``bananapics_*_total`` counters, ``_seconds`` for time) and
labels have a small, fixed set of values (update kind, handler, model, provider, error kind,
outcome). No label ever carries a user id, a chat id, a charge id or a prompt.

This module imports nothing of the bot, the services or the database, so any layer may record a
metric with one line.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# ------------------------------------------------------------------ the bot
UPDATES = Counter("bananapics_updates_total", "Telegram updates received, by TL update type", ["kind"])
HANDLER_SECONDS = Histogram(
    "bananapics_handler_seconds", "Time one bot handler took for one update", ["handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
HANDLER_ERRORS = Counter("bananapics_handler_errors_total", "Bot handlers that raised", ["handler"])
FLOOD_REFUSALS = Counter("bananapics_flood_refusals_total",
                         "Updates refused by the per-user flood control", ["kind"])  # message | button
FLOOD_WAITS = Counter("bananapics_flood_waits_total", "FloodWait / SlowModeWait answers from Telegram",
                      ["where"])  # delivery | panel | answer
DELIVERIES = Counter("bananapics_deliveries_total", "Outbox rows handled by the delivery loop, by outcome",
                     ["outcome"])  # sent | flood | blocked | retry | duplicate

# ------------------------------------------------------------------ jobs and providers
JOBS = Counter("bananapics_jobs_total", "Generation jobs by state reached and model",
               ["state", "model"])  # submitted | succeeded | partial | failed | retry
PROVIDER_SECONDS = Histogram(
    "bananapics_provider_seconds", "Provider call latency (successful or not)", ["provider"],
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120))
PROVIDER_ERRORS = Counter("bananapics_provider_errors_total", "Provider calls that failed, by error kind",
                          ["provider", "kind"])

# ------------------------------------------------------------------ money
STARS_IN = Counter("bananapics_stars_received_total", "Telegram Stars received (credited payments)")
TOKENS_IN = Counter("bananapics_tokens_sold_total", "Tokens credited for Stars, bonus included")
REFUNDS = Counter("bananapics_refunds_total", "Refunds: a failed job's hold (job) or a Stars payment (stars)",
                  ["kind"])
REFUNDED_STARS = Counter("bananapics_refunded_stars_total", "Telegram Stars refunded")

# ------------------------------------------------------------------ database gauges (the leader sets them)
QUEUE_DEPTH = Gauge("bananapics_queue_depth", "Jobs queued in the database, waiting for a worker")
OUTBOX_BACKLOG = Gauge("bananapics_outbox_backlog", "Outbox messages not yet delivered")
JOBS_ACTIVE = Gauge("bananapics_jobs_active", "Jobs not finished, by state and model", ["state", "model"])
WORKERS_ALIVE = Gauge("bananapics_workers_alive", "Worker processes with a heartbeat in the last minute")
VERIFY_BREACHES = Gauge("bananapics_ledger_verify_breaches", "Breaches found by the last ledger verify")
VERIFY_LAST_RUN = Gauge("bananapics_ledger_verify_last_run_timestamp_seconds",
                        "When the last ledger verify finished (Unix time)")
LEADER = Gauge("bananapics_observer_leader", "1 in the worker that runs the ledger verify and sets the gauges")
HEARTBEAT = Gauge("bananapics_heartbeat_timestamp_seconds", "This worker's last heartbeat written (Unix time)")

_server_lock = threading.Lock()
_served: dict[str, Any] = {}


def serve(port: int, host: str = "127.0.0.1") -> int | None:
    """Serve ``/metrics`` on ``host:port`` once per process (a second call returns the same port);
    ``port`` 0 serves nothing and returns None. An address already in use raises OSError."""
    if port <= 0:
        return None
    with _server_lock:
        if "port" not in _served:
            server, thread = start_http_server(port, addr=host)
            _served.update(port=server.server_port, server=server, thread=thread)
        return _served["port"]


def stop_serving() -> None:
    """Stop this process's metrics server (tests; a process exiting just ends)."""
    with _server_lock:
        server = _served.pop("server", None)
        _served.clear()
    if server is not None:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ one-line recorders

def job(state: str, model: str) -> None:
    JOBS.labels(state, model or "?").inc()


def provider_call(provider: str, seconds: float, error_kind: str | None = None) -> None:
    PROVIDER_SECONDS.labels(provider).observe(seconds)
    if error_kind is not None:
        PROVIDER_ERRORS.labels(provider, error_kind).inc()


def payment(stars: int, tokens: int) -> None:
    STARS_IN.inc(stars)
    TOKENS_IN.inc(tokens)


def stars_refund(stars: int) -> None:
    REFUNDS.labels("stars").inc()
    REFUNDED_STARS.inc(stars)


def flood_refusal(button: bool) -> None:
    FLOOD_REFUSALS.labels("button" if button else "message").inc()


def flood_wait(where: str) -> None:
    FLOOD_WAITS.labels(where).inc()


def delivery(outcome: str) -> None:
    DELIVERIES.labels(outcome).inc()


def heartbeat() -> None:
    HEARTBEAT.set(time.time())


# ------------------------------------------------------------------ the bot's handlers

def update_ids(update: Any) -> dict[str, int | None]:
    """The ids a log line of this raw update should carry: ``update_id`` (the callback or
    pre-checkout query id, else the message id) and ``user_id`` (the Telegram id of the sender)."""
    message = getattr(update, "message", None)
    update_id = getattr(update, "query_id", None) or getattr(message, "id", None)
    user_id = getattr(update, "user_id", None)
    if user_id is None and message is not None:
        peer = getattr(message, "from_id", None) or getattr(message, "peer_id", None)
        user_id = getattr(peer, "user_id", None)
    return {"update_id": update_id if isinstance(update_id, int) else None,
            "user_id": user_id if isinstance(user_id, int) else None}


def timed(name: str, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``callback`` (an async event handler) timed into ``bananapics_handler_seconds{handler=name}``."""

    @functools.wraps(callback)
    async def handler(event: Any) -> Any:
        started = time.perf_counter()
        try:
            return await callback(event)
        except Exception as exc:
            if type(exc).__name__ != "StopPropagation":
                HANDLER_ERRORS.labels(name).inc()
            raise
        finally:
            HANDLER_SECONDS.labels(name).observe(time.perf_counter() - started)

    handler.__bananapics_timed__ = True  # type: ignore[attr-defined]
    return handler


def instrument(client: Any, on_update: Callable[[dict[str, int | None]], None] | None = None,
               wrap: Callable[[Callable[[Any], Any]], Callable[[Any], Any]] | None = None) -> None:
    """Count every update by kind and time every handler registered on ``client`` so far (the
    Telethon client is duck-typed: this module does not import Telethon). ``on_update(ids)`` runs
    first for each update (the log context: update and user id). ``wrap(callback)`` is the bot's own
    layer around each handler (the apology): the one pass that re-registers the handlers applies
    both, inside the timing. Handlers keep their order."""
    registered = client.list_event_handlers()
    if any(getattr(cb, "__bananapics_timed__", False) for cb, _ in registered):
        return  # already instrumented
    for callback, event in registered:
        client.remove_event_handler(callback, event)

    async def count_update(update: Any) -> None:
        UPDATES.labels(type(update).__name__).inc()
        if on_update is not None:
            on_update(update_ids(update))

    count_update.__bananapics_timed__ = True  # type: ignore[attr-defined]
    client.add_event_handler(count_update)  # no builder: Raw, every update, before the handlers
    for callback, event in registered:
        inner = wrap(callback) if wrap is not None else callback
        client.add_event_handler(timed(getattr(callback, "__name__", "handler"), inner), event)
