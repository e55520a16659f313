"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
import itertools
import tempfile

from bananapics.bot.app import build_bot
from bananapics.bot.ratelimit import SendLimiter
from bananapics.config import load_config
from bananapics.services import users
from bananapics.services.verify import verify
from bananapics.simtg import FakeTelegram, ManualClock, SimClient
from bananapics.simtg.server import Limits

_ids = itertools.count(700_000_001)


def new_user(start: int = 0, **kwargs):
    """Register a fresh Telegram user; ``start`` tokens arrive through the ledger (welcome grant)."""
    tg_id = kwargs.pop("tg_id", None) or next(_ids)
    return users.register(tg_id, start_balance=start, **kwargs).user


def assert_ledger_clean() -> None:
    breaches = verify()
    assert breaches == [], "\n".join(f"{b.check}: {b.detail}" for b in breaches)


def scenario(database, body, *, limits: Limits | None = None, tasks_of=None, **env):
    """Run ``body(tg, bot)`` against a bot built on a simulated Telegram (offline provider,
    jobs run inline when their transaction commits; the test drives the delivery loop).

    ``limits`` turns the simulated Telegram's limits on (rate limits included). The bot's send
    limiter always runs on the simulator's manual clock (``tg.clock``), so pacing needs no real sleep.
    ``tasks_of(config)``: the bot's tasks (a runtime of the test's own); default, built from config."""
    media = tempfile.mkdtemp(prefix="bananapics-media-")
    config = load_config(None, environ={
        "BANANAPICS_USERS__START_BALANCE": "50", "BANANAPICS_QUEUE__BACKEND": "immediate",
        "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local", "BANANAPICS_STORAGE__PATH": media, **env})

    async def main():
        tg = FakeTelegram(clock=ManualClock(), limits=limits or Limits(rate_limits=False))
        client = SimClient(telegram=tg)
        bot = build_bot(config, client, tasks=tasks_of(config) if tasks_of is not None else None)
        bot.sender = SendLimiter(clock=tg.clock)
        await client.start(bot_token=tg.bot_token)
        await bot.start(delivery_loop=False)
        try:
            await body(tg, bot)
        finally:
            await client.disconnect()

    asyncio.run(main())


async def to_confirm(user, model: str, prompt: str) -> None:
    """Walk the wizard to the confirm screen: /generate, the model (by its name), the prompt, Skip
    (no references), Next (default settings)."""
    await user.send("/generate")
    await user.press(next(b for b in user.buttons() if b.startswith(f"{model} ·")))
    await user.send(prompt)
    await user.press("Skip")
    await user.press("Next")
