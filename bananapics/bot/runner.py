"""The bot process: ``bananapics run bot`` (Telegram handlers + delivery loop) and ``bananapics run
all`` (the same plus the Huey consumer in this process, the embedded default).

The Telegram client comes from a factory ``(session_path, api_id, api_hash) -> TelegramClient`` so
tests and benchmarks run the very same code on the simulated Telegram (``bananapics.simtg``);
:data:`client_factory` is the real one. Shutdown on SIGINT/SIGTERM (or ``stop``): the delivery loop
finishes its batch, the consumer finishes running jobs (up to ``[jobs] lease_s``), then the client
disconnects. A row cut short resumes from its last sent part at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huey.consumer import Consumer
from telethon import TelegramClient, errors

from bananapics import metrics
from bananapics.config import Config
from bananapics.errors import ConfigError

log = logging.getLogger(__name__)

ClientFactory = Callable[..., TelegramClient]  # (session_path, api_id, api_hash, **CLIENT_OPTIONS)
# Catch up on what was missed while the bot was down (the SQLite session keeps the update state).
CLIENT_OPTIONS = {"catch_up": True}
DRAIN_S = 10.0  # SIGTERM: how long the updates being answered may take to finish

TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{16,}$")  # BotFather: <bot id>:<35-char secret>
API_HASH_RE = re.compile(r"^[0-9a-fA-F]{32}$")  # my.telegram.org: 32 hex characters
ENV = "BANANAPICS_TELEGRAM__"


@dataclass(frozen=True)
class Credentials:
    api_id: int
    api_hash: str
    bot_token: str


def credentials(config: Config) -> Credentials:
    """The three Telegram secrets, checked for shape; a missing or malformed one is one clear line
    that names the variable but never shows a value."""
    tg = config.telegram
    values = {key: (getattr(tg, key).get_secret_value().strip() if getattr(tg, key) is not None else "")
              for key in ("bot_token", "api_id", "api_hash")}
    missing = [key for key, value in values.items() if not value]
    if missing:
        names = ", ".join(f"{ENV}{key.upper()}" for key in missing)
        raise ConfigError(f"[telegram] {', '.join(missing)} not set: export {names} (or *_FILE naming a file)")
    if not (values["api_id"].isascii() and values["api_id"].isdigit()) or not 0 < int(values["api_id"]) < 2**31:
        raise ConfigError(f"[telegram] api_id must be the number my.telegram.org shows ({ENV}API_ID)")
    if not API_HASH_RE.fullmatch(values["api_hash"]):
        raise ConfigError(f"[telegram] api_hash must be the 32 hex characters my.telegram.org shows ({ENV}API_HASH)")
    if not TOKEN_RE.fullmatch(values["bot_token"]):
        raise ConfigError(f"[telegram] bot_token does not look like a BotFather token <digits>:<secret> ({ENV}BOT_TOKEN)")
    return Credentials(int(values["api_id"]), values["api_hash"], values["bot_token"])


def prepare_session(path: str) -> Path:
    """The session file (a credential: it logs in as the bot) exists with mode 600 before Telethon
    opens it; Telethon adds ``.session`` when the name lacks it, so the same is done here."""
    file = Path(path).expanduser()
    if file.suffix != ".session":
        file = file.with_name(file.name + ".session")
    file.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(file, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(file, 0o600)
    return file


def client_factory(session: str, api_id: int, api_hash: str, **options) -> TelegramClient:
    """The real client on a SQLite session file (it keeps entities and the update state)."""
    return TelegramClient(session, api_id, api_hash, **options)


class _EmbeddedConsumer(Consumer):
    """Huey's consumer inside the bot's process: the event loop owns SIGINT/SIGTERM, not Huey."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer(tasks, config: Config, workers: int | None = None) -> Consumer:
    # Idle workers poll at most every 2 s (Huey's default backs off to 10 s), so a stop is quick.
    consumer = _EmbeddedConsumer(tasks.huey, workers=workers or config.queue.workers, worker_type="thread",
                                 periodic=True, flush_locks=True, max_delay=2.0,
                                 shutdown_timeout=config.jobs.lease_s)
    consumer.start()
    return consumer


def stop_consumer(consumer: Consumer) -> None:
    """Let running jobs finish (up to the shutdown timeout); a job cut off is re-run by the sweeper."""
    consumer.stop(graceful=True)
    consumer.huey.notify_interrupted_tasks()


async def _login(client: TelegramClient, token: str) -> None:
    try:
        await client.start(bot_token=token)
    except (errors.AccessTokenInvalidError, errors.AccessTokenExpiredError) as exc:
        raise ConfigError(f"Telegram refused the bot token ({type(exc).__name__}): check {ENV}BOT_TOKEN") from None
    except (errors.ApiIdInvalidError, errors.ApiIdPublishedFloodError) as exc:
        raise ConfigError(f"Telegram refused the API id/hash ({type(exc).__name__}): check {ENV}API_ID "
                          f"and {ENV}API_HASH") from None


def _on_signals(stop: asyncio.Event) -> list[int]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
    return installed


async def drain_handlers(client: TelegramClient, timeout: float = DRAIN_S) -> None:
    """Let the updates being answered finish before the connection closes. Telethon's disconnect
    closes the connection first and cancels its handler tasks after, so an answer in flight at
    SIGTERM failed with "Cannot send requests while disconnected" and the user got silence.
    Updates arriving meanwhile are answered too; after ``timeout`` disconnect cancels the rest."""
    tasks = getattr(client, "_event_handler_tasks", None)  # Telethon 1.45 (pinned): set of handler tasks
    if not tasks:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while tasks:
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("%d update handler(s) still running after %.0f s; cancelled", len(tasks), timeout)
            return
        await asyncio.wait(set(tasks), timeout=remaining)


async def run(config: Config, *, with_worker: bool = False, workers: int | None = None,
              factory: ClientFactory | None = None, stop: asyncio.Event | None = None,
              started: Callable[[object], None] | None = None) -> None:
    """Run until SIGINT/SIGTERM, ``stop`` or a lost connection. ``started(bot)`` is called once the
    bot answers updates (tests and benchmarks use it)."""
    from bananapics.bot.app import build_bot
    from bananapics.wiring import build_tasks

    creds = credentials(config)
    session = prepare_session(config.telegram.session_path)
    stop = stop or asyncio.Event()
    signals = _on_signals(stop)
    client = (factory or client_factory)(str(session), creds.api_id, creds.api_hash, **CLIENT_OPTIONS)
    tasks = build_tasks(config)
    bot = build_bot(config, client, tasks=tasks)  # handlers first: catch-up dispatches to them
    consumer = None
    try:
        await _login(client, creds.bot_token)  # a refused token stops here, before any worker starts
        os.chmod(session, 0o600)
        metrics.serve(config.metrics.port, config.metrics.host)  # [metrics] port 0: off
        if with_worker and not tasks.huey.immediate:
            consumer = await asyncio.to_thread(start_consumer, tasks, config, workers)
        await bot.start()
        me = await client.get_me()
        log.info("bot @%s running (session %s%s)", getattr(me, "username", "?"), session,
                 ", worker in this process" if consumer else "")
        if started is not None:
            started(bot)
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(client.disconnected)]
        _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        log.info("shutting down")
    finally:
        await drain_handlers(client)
        await bot.stop()
        if consumer is not None:
            await asyncio.to_thread(stop_consumer, consumer)
        await client.disconnect()
        loop = asyncio.get_running_loop()
        for signum in signals:
            loop.remove_signal_handler(signum)
