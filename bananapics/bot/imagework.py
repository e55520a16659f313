"""Image work (download, decode, re-encode, store) kept off the executor every other handler shares.

Decoding a user's image is the one CPU- and memory-heavy thing the bot process does. It runs on a
small pool of its own (``workers`` threads: one per core, at most two, so at most two images are
decoded at once — each bounded by ``bananapics.images``), so database hops of every
other handler — above all the pre-checkout answer Telegram cancels after 10 s — never queue behind
it on ``asyncio.to_thread``'s default executor. Each user has at most one image in flight (download
and decode): a burst of files from one user is handled one after the other, so it costs one
image's memory at a time and cannot take the whole pool from everyone else.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncContextManager, TypeVar

from bananapics.bot.ratelimit import KeyedLocks

T = TypeVar("T")


class ImageWork:
    """A dedicated thread pool for image work and a per-user turn (one image per user at a time)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._turns = KeyedLocks()

    def turn(self, user_id: int) -> AsyncContextManager[None]:
        """Hold ``user_id``'s single image slot (others of the same user wait, in order)."""
        return self._turns.hold(user_id)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the image pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="bananapics-image")
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    def busy_users(self) -> int:
        """Users with an image in flight or waiting (for tests and the bench)."""
        return len(self._turns)
