"""The bot on any TelegramClient: ``build_bot(config, client)`` registers every handler and returns
a :class:`Bot` whose ``start()`` runs startup (command menus per language).

Handlers are thin: parse → one service call (in a thread: services are synchronous Peewee code)
→ render a screen. Each user has one panel message edited in place; navigation never sends a new
message. This module holds the shared plumbing; screens live in ``bananapics.bot.screens``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from telethon import TelegramClient, errors, events, functions, types

from bananapics import i18n
from bananapics.bot import delivery, screens, wizard
from bananapics.bot.callbacks import Callback, StaleButton, decode
from bananapics.bot.ratelimit import SendLimiter, UserLimiter
from bananapics.errors import BananaError
from bananapics.config import Config
from bananapics.db import atomic
from bananapics.models import Panel, User
from bananapics.services import drafts, referrals, users
from bananapics.storage import store_reference

log = logging.getLogger(__name__)


@dataclass
class Bot:
    config: Config
    client: TelegramClient
    tasks: Any = None
    storage: Any = None
    limiter: UserLimiter = field(default_factory=lambda: UserLimiter(rate_per_min=40, burst=10))
    sender: SendLimiter = field(default_factory=SendLimiter)
    delivery_task: asyncio.Task | None = None
    delivery_stop: asyncio.Event = field(default_factory=asyncio.Event)
    # callback screen prefix ("gen", "bal"…) → router(user_id, cb, chat_id) -> (Screen, toast|None),
    # run in a thread; prefixes without an entry go to ``screens.route``. Feature modules
    # (``bananapics.bot.<area>``) add their own in their ``register(bot)``.
    routers: dict[str, Callable[[int, Callback, int], tuple[screens.Screen, str | None]]] = field(default_factory=dict)

    async def start(self, *, delivery_loop: bool = True) -> None:
        """Startup: the command menu in every language (Telegram shows the user's own) and the
        delivery loop that sends finished jobs from the outbox."""
        for lang in i18n.LANGUAGES:
            commands = [types.BotCommand(name, text[:256]) for name, text in i18n.commands(lang)]
            await self.client(functions.bots.SetBotCommandsRequest(
                scope=types.BotCommandScopeDefault(), lang_code="" if lang == i18n.DEFAULT else lang,
                commands=commands))
        if delivery_loop:
            self.delivery_stop.clear()
            self.delivery_task = asyncio.create_task(
                delivery.run_forever(self.client, self.storage, self.sender, stop=self.delivery_stop))

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop the delivery loop after the batch in progress (cancelled after ``timeout``: a row cut
        short resumes from its last sent part at the next start)."""
        task, self.delivery_task = self.delivery_task, None
        if task is None:
            return
        self.delivery_stop.set()
        try:
            await asyncio.wait_for(task, timeout)
        except asyncio.TimeoutError:
            log.warning("delivery loop did not stop within %.0f s; cancelled", timeout)
        except asyncio.CancelledError:
            pass

    def submit(self, user_id: int, chat_id: int):
        """Confirm the user's draft; the job id is enqueued once the transaction commits."""
        with atomic():
            job = drafts.confirm(user_id, chat_id=chat_id)
            self.tasks.enqueue_after_commit(job.id)
        return job

    # ------------------------------------------------------------------ plumbing

    async def guard(self, event: Any) -> User | None:
        """Registration, ban and flood control shared by every handler; None means stop here."""
        if not event.is_private:
            return None
        user = await self.user_of(event)
        if user.blocked_bot:  # writing to the bot again means it is no longer blocked
            await asyncio.to_thread(users.set_blocked_bot, user.tg_id, False)
        if user.banned:
            if isinstance(event, events.CallbackQuery.Event):
                await event.answer(i18n.t(user.language, "banned"), alert=True)
            else:
                await event.respond(i18n.t(user.language, "banned"))
            return None
        if not self.limiter.allow(user.tg_id):
            if isinstance(event, events.CallbackQuery.Event):
                await event.answer(i18n.t(user.language, "toast-slow-down"))
            return None
        return user

    async def user_of(self, event: Any) -> User:
        sender = await event.get_sender()
        registration = await asyncio.to_thread(
            users.register, event.sender_id, username=getattr(sender, "username", None),
            first_name=getattr(sender, "first_name", "") or "", last_name=getattr(sender, "last_name", "") or "",
            language_code=getattr(sender, "lang_code", None), default_language=self.config.users.default_language,
            start_balance=self.config.users.start_balance, bootstrap_admins=self.config.admin.bootstrap_ids)
        return registration.user

    async def show(self, user: User, chat_id: int, screen: screens.Screen, *, edit_message: int | None = None) -> None:
        """Edit the panel in place when navigating; otherwise send a fresh panel at the bottom."""
        if edit_message is not None:
            try:
                await self.client.edit_message(chat_id, edit_message, screen.text, buttons=screen.buttons)
                return
            except errors.MessageNotModifiedError:
                return
            except (errors.MessageIdInvalidError, errors.MessageAuthorRequiredError):
                pass  # the panel is gone: send a new one
        old = await asyncio.to_thread(_panel_of, user.id)
        message = await self.client.send_message(chat_id, screen.text, buttons=screen.buttons)
        await asyncio.to_thread(_remember_panel, user.id, chat_id, message.id)
        if old is not None and old != message.id:
            try:  # the old panel loses its buttons so only the newest one is live
                await self.client.edit_message(chat_id, old, buttons=None)
            except errors.RPCError:
                pass


def _panel_of(user_id: int) -> int | None:
    panel = Panel.get_or_none(Panel.user == user_id)
    return panel.message_id if panel else None


def _remember_panel(user_id: int, chat_id: int, message_id: int) -> None:
    with atomic():
        Panel.insert(user=user_id, chat_id=chat_id, message_id=message_id).on_conflict(
            conflict_target=[Panel.user], update={Panel.chat_id: chat_id, Panel.message_id: message_id}).execute()


def build_bot(config: Config, client: TelegramClient, tasks: Any = None) -> Bot:
    """Register every handler on ``client`` and return the bot (call ``await bot.start()``)."""
    from bananapics.storage import make_storage
    from bananapics.wiring import build_tasks

    bot = Bot(config, client, tasks=tasks or build_tasks(config), storage=make_storage(config.storage),
              sender=SendLimiter(global_per_s=config.telegram.send_per_second))
    screens.BOT_USERNAME["value"] = config.telegram.bot_username

    guard = bot.guard
    delivery.register(bot)
    bot.routers["gen"] = lambda user_id, cb, chat_id: wizard.route(user_id, cb, chat_id, bot.submit)

    @client.on(events.NewMessage(pattern=r"^/start(?:@\w+)?(?:\s+(\S{1,64}))?\s*$"))
    async def on_start(event: Any) -> None:
        user = await guard(event)
        if user is None:
            return
        payload = event.pattern_match.group(1) or ""
        inviter = None
        if payload.startswith("ref_") and not user.welcomed:
            try:
                bound = await asyncio.to_thread(referrals.attach, user.id, payload[4:])
                inviter = await asyncio.to_thread(users.get_by_id, bound.referrer_id)
            except Exception as exc:  # noqa: BLE001 - a bad link must never break /start
                log.info("referral link %s refused for %s: %s", payload, user.tg_id, exc)
        welcome = None
        if not user.welcomed:
            await asyncio.to_thread(_mark_welcomed, user.id)
            welcome = i18n.t(user.language, "menu-welcome-referred", name=inviter.first_name or "🙂") if inviter \
                else i18n.t(user.language, "menu-welcome")
        await bot.show(user, event.chat_id, await asyncio.to_thread(screens.main_menu, user.id, welcome))

    @client.on(events.NewMessage(pattern=r"^/generate(?:@\w+)?\s*$"))
    async def on_generate(event: Any) -> None:
        user = await guard(event)
        if user is None:
            return
        await asyncio.to_thread(drafts.reset, user.id)
        await bot.show(user, event.chat_id, await asyncio.to_thread(wizard.models, user.id))

    @client.on(events.NewMessage(func=lambda e: e.is_private and e.raw_text and not e.raw_text.startswith("/")
                                 and not e.message.media))
    async def on_text(event: Any) -> None:
        """Text is the prompt of the user's draft."""
        user = await guard(event)
        if user is None:
            return
        try:
            await asyncio.to_thread(drafts.set_prompt, user.id, event.raw_text)
            screen = await asyncio.to_thread(wizard.refs, user.id)
        except BananaError as exc:
            screen = await asyncio.to_thread(wizard.prompt, user.id)
            screen.text = wizard.error_text(user.language, exc) + "\n\n" + screen.text
        await bot.show(user, event.chat_id, screen)

    @client.on(events.NewMessage(func=lambda e: e.is_private and (e.photo or e.document)))
    async def on_image(event: Any) -> None:
        """A photo or an image file is a reference image of the draft."""
        user = await guard(event)
        if user is None:
            return
        note = None
        try:
            size = event.file.size if event.file else None
            if size is not None and size > 10 * 1024 * 1024:
                raise BananaError("too large", title="image_too_large")
            data = await event.download_media(bytes)
            key = await asyncio.to_thread(store_reference, bot.storage, user.id, data)
            await asyncio.to_thread(drafts.add_refs, user.id, [key])
        except BananaError as exc:
            note = wizard.error_text(user.language, exc)
        await bot.show(user, event.chat_id, await asyncio.to_thread(wizard.refs, user.id, note))

    @client.on(events.NewMessage(pattern=r"^/(terms|privacy|support|paysupport)(?:@\w+)?\s*$"))
    async def on_legal(event: Any) -> None:
        """Texts Telegram requires of bots that take payments."""
        user = await guard(event)
        if user is None:
            return
        name = event.pattern_match.group(1)
        await event.respond(i18n.t(user.language, f"{name}-text", contact=config.telegram.support_contact))

    @client.on(events.NewMessage(pattern=r"^/cancel(?:@\w+)?\s*$"))
    async def on_cancel(event: Any) -> None:
        user = await guard(event)
        if user is None:
            return
        await asyncio.to_thread(drafts.reset, user.id)
        screen = await asyncio.to_thread(screens.main_menu, user.id, i18n.t(user.language, "gen-cancelled"))
        await bot.show(user, event.chat_id, screen)

    @client.on(events.NewMessage(pattern=r"^/(balance|help|lang|settings)(?:@\w+)?\s*$"))
    async def on_command(event: Any) -> None:
        user = await guard(event)
        if user is None:
            return
        name = event.pattern_match.group(1)
        render = {"balance": screens.balance, "help": screens.help_screen,
                  "lang": screens.languages, "settings": screens.settings_screen}[name]
        await bot.show(user, event.chat_id, await asyncio.to_thread(render, user.id))

    @client.on(events.CallbackQuery())
    async def on_button(event: Any) -> None:
        user = await guard(event)
        if user is None:
            return
        try:
            cb = decode(event.data)
            router = bot.routers.get(cb.screen)
            if router is not None:
                screen, toast = await asyncio.to_thread(router, user.id, cb, event.chat_id)
            else:
                screen, toast = await asyncio.to_thread(screens.route, user.id, cb)
        except StaleButton:
            await event.answer(i18n.t(user.language, "toast-outdated"))
            screen, toast = await asyncio.to_thread(screens.main_menu, user.id), None
            await bot.show(user, event.chat_id, screen, edit_message=event.message_id)
            return
        await event.answer(toast or "")
        await bot.show(user, event.chat_id, screen, edit_message=event.message_id)

    return bot


def _mark_welcomed(user_id: int) -> None:
    with atomic():
        User.update(welcomed=True).where(User.id == user_id).execute()
