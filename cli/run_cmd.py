"""``bananapics run bot`` and ``bananapics run all``: the long-running bot process."""

from __future__ import annotations

import asyncio
import gc
from typing import Annotated

import typer

from bananapics.cli.common import config, database, out, group
from bananapics.errors import BananaError

app = group("Run the Telegram bot (and, with `all`, the worker in the same process).")


def _run(with_worker: bool, workers: int | None = None) -> None:
    from bananapics.bot import runner
    from bananapics.logs import setup_logging

    cfg = config()
    runner.credentials(cfg)  # a missing or malformed secret is one line, before anything starts
    database()
    setup_logging(cfg)
    where = f", worker: {cfg.queue.backend} queue, {workers or cfg.queue.workers} threads" if with_worker else ""
    out.print(f"bot: session {cfg.telegram.session_path}{where}; Ctrl-C or SIGTERM stops it")
    import bananapics.bot.app  # noqa: F401 - everything the bot needs, imported before the freeze

    # The ~115,000 objects of the imported modules live as long as the process: frozen, they leave
    # the collector's full scans, which otherwise pause every handler ~50 ms each time they run.
    gc.freeze()
    try:
        asyncio.run(runner.run(cfg, with_worker=with_worker, workers=workers, factory=runner.client_factory))
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
        # Telethon gave up connecting (no route, or something that is not Telegram answered: an
        # IncompleteReadError is an EOFError, which click would print as a bare "aborted").
        detail = (str(exc).strip().splitlines() or [""])[0]
        raise BananaError(f"cannot reach Telegram ({type(exc).__name__}{': ' + detail if detail else ''}); "
                          "check the network and start it again") from None
    out.print("bot: stopped")


@app.command("bot")
def bot() -> None:
    """The bot: every handler and the delivery loop. Exactly one per session file and bot token.

    Example: bananapics run bot
    """
    _run(with_worker=False)


@app.command("all")
def all_(workers: Annotated[int | None, typer.Option("--workers", "-w", help="Thread workers (default [queue] workers).")] = None) -> None:
    """Bot + Huey consumer (generation jobs and the sweeper) in one process: the embedded default.

    Example: bananapics run all -w 4
    """
    _run(with_worker=True, workers=workers)
