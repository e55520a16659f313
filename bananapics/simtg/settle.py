"""Settling: waiting until the bot has finished reacting to an action."""

from __future__ import annotations

import asyncio
from typing import Any, Optional


from .errors import BotHandlerError, SettleTimeout
from .queue import UpdatesQueue


class SettleMixin:
    """``settle()``: wait until the bot has finished reacting to an action."""

    # ================================================================= settling

    async def settle(self, *, since: Optional[set] = None, timeout: Optional[float] = None) -> None:
        """Wait until the bot has finished reacting.

        Quiescent means: every delivery scheduled towards a connected client has run, each
        client's update loop is parked on an empty queue, Telethon's per-update handler tasks
        (``client._event_handler_tasks``) are done, transient Telethon tasks (``AlbumHack``'s
        delayed album delivery, the ``answer()`` task ``CallbackQuery.Event.edit`` starts) are
        done, and — when ``since`` (a set of tasks alive before the action) is given — every task
        created after it has finished too, so fire-and-forget work the bot started is awaited.
        Tasks passed to :meth:`ignore_task` and the clients' update/keepalive loops are never
        waited for. Raises :class:`SettleTimeout` if this does not happen within ``timeout``
        seconds, and :class:`BotHandlerError` if a handler raised meanwhile.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.settle_timeout if timeout is None else timeout)
        current = asyncio.current_task()
        quiet = spins = 0
        while True:
            senders = [s for s in self._senders if s.is_connected()]
            pending = self._pending_tasks(senders, since, current)
            busy = bool(pending) or any(not s._idle() for s in senders)
            if not busy:
                quiet += 1
                if quiet >= 3:
                    break
                await asyncio.sleep(0)
                continue
            quiet = 0
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = ", ".join(_task_name(t) for t in pending) or "update delivery"
                raise SettleTimeout(
                    f"the bot did not settle within the timeout; still running: {names} "
                    "(long-lived tasks started during an action can be excused with telegram.ignore_task)"
                )
            if pending:
                await asyncio.wait(pending, timeout=min(remaining, 0.05), return_when=asyncio.FIRST_COMPLETED)
            else:  # e.g. a possible gap Telethon waits 0.5 s on: poll without spinning the CPU
                spins += 1
                await asyncio.sleep(0 if spins < 50 else 0.005)
        if self._handler_errors:
            errors, self._handler_errors = self._handler_errors, []
            raise BotHandlerError(errors) from errors[0]

    def _pending_tasks(self, senders: list, since: Optional[set], current: Any) -> list:
        handler_tasks = set()
        long_lived = set()
        for s in senders:
            handler_tasks.update(s._client._event_handler_tasks)
            long_lived.update(t for t in (s._client._updates_handle, s._client._keepalive_handle) if t)
        out = []
        for task in asyncio.all_tasks():
            if task is current or task.done() or task in long_lived or task in self._ignored_tasks:
                continue
            if _parked_getter(task) or (self._ignored_names and _task_qualname(task) in self._ignored_names):
                continue
            if task in handler_tasks or _task_qualname(task) in _TRANSIENT_TELETHON:
                out.append(task)
            elif since is not None and task not in since:
                out.append(task)
        return out


_TRANSIENT_TELETHON = {"AlbumHack.deliver_event", "CallbackQuery.Event.answer", "TelegramBaseClient._disconnect_coro"}


def _task_qualname(task: "asyncio.Task") -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", "") or ""


def _task_name(task: "asyncio.Task") -> str:
    return f"{task.get_name()}<{_task_qualname(task) or task.get_coro()!r}>"


def _parked_getter(task: "asyncio.Task") -> bool:
    coro = task.get_coro()
    return getattr(coro, "cr_code", None) is UpdatesQueue.get.__code__
