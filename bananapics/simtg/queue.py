"""The simulated client's updates queue, apart from the client so the settling code can recognise
it without importing the client (which imports the server, which imports the settling code)."""

from __future__ import annotations

import asyncio


class UpdatesQueue(asyncio.Queue):
    """``client._updates_queue`` that knows whether the update loop is parked on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0

    async def get(self):  # noqa: D401 - same contract as asyncio.Queue.get
        self.waiting += 1
        try:
            return await super().get()
        finally:
            self.waiting -= 1
