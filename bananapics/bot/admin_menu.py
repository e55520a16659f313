"""The ``/admin`` entry of the command menu, per user: admins and support see it, users do not.

Telegram shows a user the commands of the most specific scope set for them; each staff user gets a
``BotCommandScopePeer`` with the usual commands plus ``/admin``, in their language. :class:`Scopes`
sets them at bot start, right after a role change made in the panel (:func:`after_role_change`),
and every :data:`SCOPE_REFRESH_S` seconds (:func:`refresh_scopes`: a role changed from the CLI or
TUI); a user who lost the role gets their peer scope reset (the default menu again).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telethon import errors, functions, types

from bananapics import i18n
from bananapics.services import access

log = logging.getLogger(__name__)

SCOPE_REFRESH_S = 30.0


class Scopes:
    """Which users were given the /admin command menu (tg id → language), by this bot process."""

    def __init__(self) -> None:
        self.shown: dict[int, str] = {}
        self.lock = asyncio.Lock()

    async def sync(self, bot: Any, only: list[int] | None = None) -> None:
        """Give every admin and support user the menu with /admin (in their language) and take it
        from users who lost the role. ``only``: just these users (a role change in the panel)."""
        async with self.lock:
            staff = dict(await asyncio.to_thread(access.staff_members))
            former = set(await asyncio.to_thread(access.former_staff, only))
            wanted = staff if only is None else {k: v for k, v in staff.items() if k in only}
            for tg_id, lang in wanted.items():
                if self.shown.get(tg_id) != lang:
                    await self._set(bot, tg_id, lang)
            gone = former | {t for t in self.shown if t not in staff and (only is None or t in only)}
            for tg_id in gone:
                await self._reset(bot, tg_id)

    @staticmethod
    def _scope(tg_id: int) -> types.BotCommandScopePeer:
        # access_hash 0: bots may name users who wrote to them without one
        return types.BotCommandScopePeer(peer=types.InputPeerUser(tg_id, 0))

    async def _set(self, bot: Any, tg_id: int, lang: str) -> None:
        commands = [types.BotCommand(name, text[:256]) for name, text in i18n.commands(lang, admin=True)]
        try:
            await bot.client(functions.bots.SetBotCommandsRequest(scope=self._scope(tg_id), lang_code="",
                                                                  commands=commands))
            self.shown[tg_id] = lang
        except errors.RPCError as exc:  # a staff user who never wrote to the bot: Telegram does not know them
            log.info("no /admin menu for %s yet: %s", tg_id, type(exc).__name__)

    async def _reset(self, bot: Any, tg_id: int) -> None:
        try:
            await bot.client(functions.bots.ResetBotCommandsRequest(scope=self._scope(tg_id), lang_code=""))
        except errors.RPCError as exc:
            log.info("could not reset the menu of %s: %s", tg_id, type(exc).__name__)
        self.shown.pop(tg_id, None)


def after_role_change(bot: Any, tg_id: int) -> None:
    """From a handler's thread: refresh the user's command menu now (fire and forget on the loop)."""
    scopes = getattr(bot, "admin_scopes", None)
    loop = bot.loop
    if scopes is None or loop is None or not loop.is_running():
        return
    asyncio.run_coroutine_threadsafe(scopes.sync(bot, only=[tg_id]), loop)


async def refresh_scopes(bot: Any) -> None:
    """The delivery loop's companion: keep the menus in step with roles changed elsewhere (CLI, TUI)."""
    while True:
        await asyncio.sleep(SCOPE_REFRESH_S)
        try:
            await bot.admin_scopes.sync(bot)
        except Exception:  # noqa: BLE001 - the database is away: next time
            log.warning("refreshing the /admin command menus failed", exc_info=True)
