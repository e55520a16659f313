"""The bot on any TelegramClient: ``build_bot(config, client)`` registers every handler and returns
a :class:`Bot` whose ``start()`` runs startup (command menus per language).

Handlers are thin: parse → one service call (in a thread: services are synchronous Peewee code)
→ render a screen. Each user has one panel message edited in place; navigation never sends a new
message. This module holds the shared plumbing: the guard, the panel, and the dispatch of a
button press to the handler a feature module declared for its route (``ACTIONS``) and of a typed
message to the text step the user was asked for (``TEXT_STEPS``, ``bananapics.bot.routing``).
Screens live in the feature modules, built from ``bananapics.bot.ui``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import inspect
import io
import itertools
import logging
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from telethon import TelegramClient, errors, events, functions, types

from bananapics import i18n, logs, metrics
from bananapics.bot import (account, admin, apology, delivery, history, payments, references, results, routing, screens,
                            templates, ui, viewer, wizard)
from bananapics.bot.callbacks import PRESSED_MESSAGE, ROUTES, StaleButton, decode
from bananapics.bot.imagework import ImageWork
from bananapics.bot.ratelimit import KeyedLocks, SendLimiter, UserLimiter
from bananapics.config import Config
from bananapics.errors import BananaError, PermissionDenied
from bananapics.models import User
from bananapics.services import conversation, drafts, maintenance, onboarding, settings, users
from bananapics.services import panels as stored_panels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """What :meth:`Bot.serve` gives a handler that may go on: the user and what ``work`` returned."""

    user: User
    result: Any = None


@dataclass
class Bot:
    config: Config
    client: TelegramClient
    tasks: Any = None
    storage: Any = None
    limiter: UserLimiter = field(default_factory=lambda: UserLimiter(*_REGISTRY_LIMITS))
    sender: SendLimiter = field(default_factory=SendLimiter)
    images: ImageWork = field(default_factory=ImageWork)  # image decoding: its own pool, one per user
    delivery_task: asyncio.Task | None = None
    # coroutine functions ``loop(bot)`` started with the delivery loop (e.g. the chat-action pump)
    loops: list[Callable[[Any], Any]] = field(default_factory=list)
    background: list[asyncio.Task] = field(default_factory=list)
    # coroutine functions ``hook(bot)`` awaited by ``start()`` after the command menus (the admin menus)
    on_start: list[Callable[[Any], Any]] = field(default_factory=list)
    admin_scopes: Any = None  # who was given the /admin command menu (``bananapics.bot.admin_menu.Scopes``)
    # the event loop the client runs on (set by ``start()``): handlers in worker threads that must call
    # Telegram in the middle of a service (``bananapics.bot.stars``) schedule the request there
    loop: asyncio.AbstractEventLoop | None = None
    # the per-user limits are admin settings, re-read at most this often (seconds)
    limits_refresh_s: float = 5.0
    _limits: tuple[int, int] = field(default_factory=lambda: _REGISTRY_LIMITS)
    _limits_read_at: float = -math.inf
    _slowed: set[int] = field(default_factory=set)  # users told "too many requests" (told once)
    _told_closed: dict[int, float] = field(default_factory=dict)  # user → when told "maintenance" (clock)
    # chat id → the newest panel waiting for its turn to be sent (older ones give way: a burst is one panel)
    _wanted: dict[int, int] = field(default_factory=dict)
    _tickets: Any = field(default_factory=itertools.count)
    _sending: KeyedLocks = field(default_factory=KeyedLocks)  # chat id → one new panel sent at a time
    delivery_stop: asyncio.Event = field(default_factory=asyncio.Event)
    # (screen, action) → handler(press), filled by each feature module's ``register(bot)`` from its
    # ``ACTIONS`` table (``bananapics.bot.routing``); a press no entry serves is an outdated button
    actions: dict[tuple[str, str], routing.Handler] = field(default_factory=dict)
    # conversation step → handler(text_input): where a typed message goes (``routing.PROMPT``: the wizard)
    text_steps: dict[str, routing.TextHandler] = field(default_factory=dict)
    # /start payload prefix ("tpl_"…) → render(user_id, rest_of_payload, welcome_or_None) -> Screen, run in a
    # thread; feature modules add theirs. ``ref_`` links bind a referrer first (``services.onboarding``).
    deep_links: dict[str, Callable[[int, str, str | None], screens.Screen]] = field(default_factory=dict)
    photos: OrderedDict = field(default_factory=OrderedDict)  # storage key → Telegram photo already sent
    panels: OrderedDict = field(default_factory=OrderedDict)  # user id → (panel message id, is a photo)

    async def start(self, *, delivery_loop: bool = True) -> None:
        """Startup: the command menu in every language (Telegram shows the user's own) and the
        delivery loop that sends finished jobs from the outbox."""
        for lang in i18n.LANGUAGES:
            commands = [types.BotCommand(name, text[:256]) for name, text in i18n.commands(lang)]
            await self.client(functions.bots.SetBotCommandsRequest(
                scope=types.BotCommandScopeDefault(), lang_code="" if lang == i18n.DEFAULT else lang,
                commands=commands))
        self.loop = asyncio.get_running_loop()
        for hook in self.on_start:
            await hook(self)
        if delivery_loop:
            self.delivery_stop.clear()
            self.delivery_task = asyncio.create_task(
                delivery.run_forever(self.client, self.storage, self.sender, stop=self.delivery_stop))
            self.background += [asyncio.create_task(loop(self)) for loop in self.loops]

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop the delivery loop after the batch in progress (cancelled after ``timeout``: a row cut
        short resumes from its last sent part at the next start). Background loops (the chat-action
        pump) are cancelled: they only repeat what the database says."""
        for loop in self.background:
            loop.cancel()
        self.background = []
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

    def add_actions(self, table: dict[tuple[str, str], routing.Handler]) -> None:
        """A feature module's button handlers: each a declared callback route, served by one module."""
        for route, handler in table.items():
            if route not in ROUTES:
                raise ValueError(f"{route[0]}:{route[1]} is not a declared callback route")
            if self.actions.get(route, handler) is not handler:
                raise ValueError(f"{route[0]}:{route[1]} is served by two handlers")
            self.actions[route] = handler

    def add_text_steps(self, table: dict[str, routing.TextHandler]) -> None:
        """A feature module's text steps (conversation step name → handler of the typed text)."""
        for step, handler in table.items():
            if self.text_steps.get(step, handler) is not handler:
                raise ValueError(f"text step {step} has two handlers")
            self.text_steps[step] = handler

    # ------------------------------------------------------------------ plumbing

    async def guard(self, event: Any, *, essential: bool = False) -> User | None:
        """Registration, ban, maintenance and flood control shared by every handler; None means stop here."""
        served = await self.serve(event, essential=essential)
        return served.user if served is not None else None

    async def serve(self, event: Any, work: Callable[[User], Any] | None = None, *,
                    essential: bool = False) -> "Served | None":
        """The guard, then ``work(user)`` in the same worker thread: one thread hop per update.

        Registers (or reads) the sender, clears a stale "blocked the bot" mark, refuses banned and
        flooding users (one polite message; None is returned and ``work`` never runs), and makes the
        row the update's viewer (``bot.viewer``) for the screens. ``work`` is synchronous service and
        screen code; what it raises propagates. During maintenance (``services.maintenance``) users
        other than admins and support get the admin's message instead (once per burst of messages; a
        button press as an alert, its panel unchanged). ``essential``: the support, payment-help and
        legal texts, which the "banned" and maintenance answers point to, are shown to banned users
        and during maintenance too. Payments never come here: an invoice paid during maintenance
        still passes pre-checkout and credits (``bananapics.bot.payments``).
        """
        if not event.is_private or _outgoing(event):
            return None
        await self.refresh_limits()
        allowed = self.limiter.allow(event.sender_id)
        callback = isinstance(event, events.CallbackQuery.Event)
        if not allowed:
            metrics.flood_refusal(callback)
        if not allowed and event.sender_id in self._slowed and not callback:
            # already told: flooding sends nothing and costs one indexed read (writing again means the
            # user no longer blocks the bot: a mark left from meanwhile is cleared, delivery resumes)
            await asyncio.to_thread(users.clear_blocked_bot_mark, event.sender_id)
            return None
        sender = await event.get_sender()
        register = functools.partial(
            users.register, event.sender_id, username=getattr(sender, "username", None),
            first_name=getattr(sender, "first_name", "") or "", last_name=getattr(sender, "last_name", "") or "",
            language_code=getattr(sender, "lang_code", None), default_language=self.config.users.default_language,
            start_balance=self.config.users.start_balance, bootstrap_admins=self.config.admin.bootstrap_ids)

        def in_thread() -> tuple[User, Any, bool]:
            closed = not essential and maintenance.enabled()  # settings are cached: no read of its own
            # /start greets a new user at once: stored welcomed, no second write. Not during maintenance:
            # their first /start after it is the greeting (and binds the referral link it carries).
            user = register(welcomed=_is_start(event) and not closed).user
            if user.blocked_bot:  # writing to the bot again means it is no longer blocked
                users.set_blocked_bot(user.tg_id, False)
            if (user.banned and not essential) or not allowed:
                return user, None, False
            if closed and maintenance.blocks(user):  # admins and support pass
                return user, maintenance.message(user.language), True
            if work is None:
                return user, None, False
            viewer.VIEWER.set(user)  # this thread's copy of the update's context
            return user, work(user), False

        user, result, blocked = await asyncio.to_thread(in_thread)
        viewer.VIEWER.set(user)  # the screens of this update use this row instead of reading it again
        if user.registered_now:
            self._note_panel(user.id, (None, False))  # a new user has no panel yet
        if user.banned and not essential:
            if not allowed and not callback:  # flooding: this answer is the last of the burst
                self._told_slow(user.tg_id)
            if callback:
                await self.answer(event, i18n.t(user.language, "banned"), alert=True)
            else:
                await self.say(event.chat_id, i18n.t(user.language, "banned"))
            return None
        if not allowed:
            if callback:
                await self.answer(event, i18n.t(user.language, "toast-slow-down"))
            else:  # one polite message per burst, not one per message
                self._told_slow(user.tg_id)
                wait = max(1, math.ceil(self.limiter.retry_after(user.tg_id)))
                await self.say(event.chat_id, i18n.t(user.language, "rate-limited", seconds=wait))
            return None
        self._slowed.discard(user.tg_id)
        if blocked:
            await self._tell_maintenance(event, user, result, callback)
            return None
        return Served(user, result)

    async def _tell_maintenance(self, event: Any, user: User, text: str, callback: bool) -> None:
        """The maintenance message: an alert for a press (the panel stays as it is); a message for the
        first of a burst of messages, none for the rest (``MAINTENANCE_REPEAT_S``)."""
        if callback:
            await self.answer(event, ui.excerpt(text, TOAST_MAX), alert=True)
            return
        now = self.sender.clock()
        told = self._told_closed.get(user.tg_id)
        if told is not None and now - told < MAINTENANCE_REPEAT_S:
            return
        if len(self._told_closed) > 100_000:
            self._told_closed.clear()
        self._told_closed[user.tg_id] = now
        await self.say(event.chat_id, text)

    async def answer(self, event: Any, text: str = "", *, alert: bool = False) -> bool:
        """Answer a button press (its spinner stops; ``text`` as a toast, or an alert). Not a message:
        it never waits for the send limiter. Telegram takes an answer for a short while only (~15 s):
        a press answered later (one caught up after a restart, a handler held up) is refused with
        ``QUERY_ID_INVALID``, which is logged and is no error — the panel still shows the outcome.
        False when refused; a press is answered once (a second call does nothing)."""
        try:
            await event.answer(text, alert=alert)
            return True
        except errors.QueryIdInvalidError:
            log.info("press of %s answered too late: Telegram no longer takes its answer", event.sender_id)
            return False

    def _told_slow(self, tg_id: int) -> None:
        """``tg_id`` was answered for a flood: further messages of the burst get no answer."""
        if len(self._slowed) > 100_000:
            self._slowed.clear()
        self._slowed.add(tg_id)

    async def reply(self, event: Any, render: Callable[[User], screens.Screen], *,
                    essential: bool = False) -> User | None:
        """The common handler: guard, render the screen in the same thread hop, show it."""
        served = await self.serve(event, render, essential=essential)
        if served is not None:
            await self.show(served.user, event.chat_id, served.result)
        return served.user if served is not None else None

    async def refresh_limits(self) -> None:
        """Apply the admin's per-user rate limits (settings registry) without a restart."""
        now = time.monotonic()
        if now - self._limits_read_at < self.limits_refresh_s:
            return
        self._limits_read_at = now
        limits = await asyncio.to_thread(_read_limits)
        if limits != self._limits:
            self._limits = limits
            self.limiter.update(*limits)

    async def show(self, user: User, chat_id: int, screen: screens.Screen, *, edit_message: int | None = None) -> None:
        """Edit the panel in place when navigating; otherwise send a fresh panel at the bottom.

        A screen with a photo makes the panel a photo message (a text panel can be edited into one).
        Telegram cannot take the photo off a message again, so a text screen replaces a photo panel:
        a new panel is sent and the photo one deleted.

        New panels are paced by the per-chat send limiter (Telegram allows about one message a second
        per chat after a short burst); a panel still waiting for its turn when a newer one for the same
        chat is asked for is dropped, so a burst of updates ends in one panel, the newest. A FloodWait
        Telegram answers anyway pauses sending and the panel is tried once more after the wait
        (logged once, never a traceback).
        """
        photo = await self._photo(screen)
        try:
            await self._show_paced(user, chat_id, screen, photo, edit_message)
        except (errors.FileReferenceExpiredError, errors.MediaEmptyError):
            if screen.photo not in self.photos:
                raise
            self.photos.pop(screen.photo)  # Telegram forgot the photo sent before: upload it again
            await self._show_paced(user, chat_id, screen, await self._photo(screen), edit_message)

    async def _show_paced(self, user: User, chat_id: int, screen: screens.Screen, photo: Any,
                          edit_message: int | None) -> None:
        try:
            await self._show(user, chat_id, screen, photo, edit_message)
        except (errors.FloodWaitError, errors.SlowModeWaitError) as exc:
            self.flooded(chat_id, exc, "panel")
            await self.sender.clock.sleep(self.sender.paused_for(chat_id))
            try:
                await self._show(user, chat_id, screen, photo, edit_message)
            except (errors.FloodWaitError, errors.SlowModeWaitError) as again:
                self.flooded(chat_id, again, "panel dropped")

    def flooded(self, chat_id: int, exc: Exception, what: str) -> None:
        """Telegram said wait: no more sends until then (to this chat for a slow mode; to anyone for a
        FloodWait, which Telethon remembers per request type, not per chat). One log line."""
        seconds = getattr(exc, "seconds", 1) or 1
        metrics.flood_wait("answer" if what.startswith("answer") else "panel")
        if isinstance(exc, errors.SlowModeWaitError):
            self.sender.pause_chat(chat_id, seconds)
        else:
            self.sender.pause_all(seconds)
        log.warning("%s for chat %s: Telegram asked to wait %s s (%s)", what, chat_id, seconds, type(exc).__name__)

    async def say(self, chat_id: int, text: str) -> None:
        """A one-line answer outside the panel ("too many requests", "banned"): paced like a panel, not
        coalesced with panels; a FloodWait drops it (logged once)."""
        try:
            async with self.sender.send(chat_id):
                await self.client.send_message(chat_id, text)
        except (errors.FloodWaitError, errors.SlowModeWaitError) as exc:
            self.flooded(chat_id, exc, "answer dropped")

    async def _show(self, user: User, chat_id: int, screen: screens.Screen, photo: Any,
                    edit_message: int | None) -> None:
        current, media = await self._panel(user.id)
        replace = media and edit_message is not None and edit_message == current and photo is None
        if edit_message is not None and not replace and (photo is None or edit_message == current):
            try:
                message = await self.client.edit_message(chat_id, edit_message, screen.text, buttons=screen.buttons,
                                                         file=photo, formatting_entities=entities(screen))
                if photo is not None:
                    self._cache_photo(screen.photo, message)
                    await self._remember(user.id, chat_id, edit_message, True)
                return
            except errors.MessageNotModifiedError:
                return
            except (errors.MessageIdInvalidError, errors.MessageAuthorRequiredError):
                pass  # the panel is gone: send a new one
        await self._send_panel(user, chat_id, screen, photo, replace)

    async def _send_panel(self, user: User, chat_id: int, screen: screens.Screen, photo: Any, replace: bool) -> None:
        """Send a new panel when the chat's turn comes (the per-chat limit); one at a time per chat,
        so each takes over from the one before it. A panel still waiting when a newer one for the same
        chat is asked for is dropped: the newer one is sent instead (unless it is a ``keep`` panel, the
        one-time welcome, which is always sent)."""
        ticket = next(self._tickets)
        self._wanted[chat_id] = ticket

        def wanted() -> bool:
            return self._wanted.get(chat_id) == ticket

        try:
            async with self._sending.hold(chat_id):
                async with self.sender.send(chat_id, wanted=None if screen.keep else wanted) as go:
                    if not go:
                        return  # a newer panel for this chat is on its way
                    current, _ = await self._panel(user.id)
                    if photo is not None:
                        message = await self.client.send_file(chat_id, photo, caption=screen.text,
                                                              buttons=screen.buttons, formatting_entities=entities(screen))
                        self._cache_photo(screen.photo, message)
                    else:
                        message = await self.client.send_message(chat_id, screen.text, buttons=screen.buttons,
                                                                 formatting_entities=entities(screen))
                await self._take_over(user.id, chat_id, message.id, photo is not None, current, delete_old=replace)
        finally:
            if wanted():
                del self._wanted[chat_id]

    async def adopt_panel(self, user_id: int, chat_id: int, message_id: int) -> None:
        """A message sent outside a handler (a job's result) becomes the user's panel."""
        current, _ = await self._panel(user_id)
        await self._take_over(user_id, chat_id, message_id, False, current)

    async def _take_over(self, user_id: int, chat_id: int, message_id: int, media: bool, old: int | None,
                         *, delete_old: bool = False) -> None:
        """``message_id`` is the user's panel now; the old panel loses its buttons so only the newest
        one is live (or goes away: a photo panel replaced by a text one)."""
        await self._remember(user_id, chat_id, message_id, media)
        if old is None or old == message_id:
            return
        if delete_old:
            try:
                await self.client.delete_messages(chat_id, [old])
                return
            except errors.RPCError:
                pass
        with contextlib.suppress(errors.RPCError):
            await self.client.edit_message(chat_id, old, buttons=None)

    async def _panel(self, user_id: int) -> tuple[int | None, bool]:
        """The user's panel message and whether it is a photo: from memory (one bot process owns
        the panels), else from the database (after a restart)."""
        known = self.panels.get(user_id)
        if known is None:
            known = await asyncio.to_thread(stored_panels.of, user_id)
            self._note_panel(user_id, known)
        return known

    async def _remember(self, user_id: int, chat_id: int, message_id: int, media: bool) -> None:
        await asyncio.to_thread(stored_panels.remember, user_id, chat_id, message_id, media)
        self._note_panel(user_id, (message_id, media))

    def _note_panel(self, user_id: int, panel: tuple[int | None, bool]) -> None:
        self.panels[user_id] = panel
        self.panels.move_to_end(user_id)
        while len(self.panels) > PANEL_CACHE:
            self.panels.popitem(last=False)

    async def _photo(self, screen: screens.Screen) -> Any:
        """What to send for ``screen.photo``: the Telegram photo sent before (no second upload) or the
        stored bytes; None for a text screen, a caption too long for a photo, or a missing file."""
        if not screen.photo or len(screen.text) > CAPTION_MAX:
            return None
        if screen.photo in self.photos:
            self.photos.move_to_end(screen.photo)
            return self.photos[screen.photo]
        try:
            data = await asyncio.to_thread(self.storage.get, screen.photo)
        except BananaError as exc:
            log.warning("panel photo %s: %s", screen.photo, exc)
            return None
        blob = io.BytesIO(data)
        blob.name = "preview." + screen.photo.rsplit(".", 1)[-1]
        return blob

    def _cache_photo(self, key: str | None, message: Any) -> None:
        photo = getattr(message, "photo", None)
        if key and photo is not None:
            self.photos[key] = photo
            while len(self.photos) > PHOTO_CACHE:
                self.photos.popitem(last=False)


def entities(screen: screens.Screen) -> list[Any] | None:
    """The screen's code parts as Telegram entities (offsets in UTF-16 code units); None for none."""
    found = []
    for part in screen.code:
        at = screen.text.find(part)
        if part and at >= 0:
            found.append(types.MessageEntityCode(offset=_utf16(screen.text[:at]), length=_utf16(part)))
    return found or None


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_REGISTRY_LIMITS = (settings.REGISTRY["limits.user_actions_per_min"].default,
                    settings.REGISTRY["limits.user_burst"].default)


def _read_limits() -> tuple[int, int]:
    return int(settings.get("limits.user_actions_per_min")), int(settings.get("limits.user_burst"))


CAPTION_MAX = 1024
MAINTENANCE_REPEAT_S = 30.0  # a user writing during maintenance is told again after this pause
TOAST_MAX = 200  # Telegram's limit for a callback answer: cut here, once, for every handler
# a press answered "this button is outdated": stale or forged data, a route no module serves, or an
# action the presser's role (read from the database by the service) does not allow
REFUSED = (drafts.NoModels, StaleButton, PermissionDenied)
PHOTO_CACHE = 256
PANEL_CACHE = 100_000


def build_bot(config: Config, client: TelegramClient, tasks: Any = None) -> Bot:
    """Register every handler on ``client`` and return the bot (call ``await bot.start()``)."""
    from bananapics.storage import make_storage
    from bananapics.wiring import build_tasks

    bot = Bot(config, client, tasks=tasks or build_tasks(config), storage=make_storage(config.storage),
              sender=SendLimiter(global_per_s=config.telegram.send_per_second))
    # Every text is plain: prompts, names and template titles must never be read as Markdown
    # (``**``, ``__``, ``[x](url)``) — Telethon's default parse mode would eat them or make links.
    client.parse_mode = None
    ui.BOT_USERNAME["value"] = config.telegram.bot_username

    delivery.register(bot)
    for area in (screens, wizard, references, results, history, templates, account, payments, admin):
        area.register(bot)

    @client.on(events.NewMessage(pattern=START))
    async def on_start(event: Any) -> None:
        payload = event.pattern_match.group(1) or ""
        if not references.has_media(event):
            await bot.reply(event, lambda user: start_screen(bot, user, payload))
            return
        # A photo captioned "/start": the photo handler (which ran first) answered it; only a user
        # never greeted gets the welcome too. An existing user gets one answer, not two.
        served = await bot.serve(event, lambda user: None if user.welcomed else start_screen(bot, user, payload))
        if served is not None and served.result is not None:
            await bot.show(served.user, event.chat_id, served.result)

    @client.on(events.NewMessage(func=lambda e: e.is_private and e.raw_text and not e.raw_text.startswith("/")
                                 and not references.has_media(e)))
    async def on_text(event: Any) -> None:
        """Typed text answers the step the user was last asked for (``services.conversation``: an
        admin's amount, a search…) while it lasts; otherwise it is the prompt of the user's draft."""
        def render(user: User) -> screens.Screen:
            prompt = routing.TextInput(bot, user.id, event.chat_id, event.raw_text)
            asked = conversation.current(user.id)  # the one read this adds, on text messages only
            handler = bot.text_steps.get(asked.name) if asked is not None else None
            if asked is None or handler is None:  # nothing asked, expired, or a step no module serves now
                return bot.text_steps[routing.PROMPT](prompt)
            try:
                return handler(routing.TextInput(bot, user.id, event.chat_id, event.raw_text, asked.name, asked.data))
            except PermissionDenied:  # the role that was asked is gone (demoted since): the step goes too
                conversation.clear(user.id)
                return bot.text_steps[routing.PROMPT](prompt)

        await bot.reply(event, render)

    unknown = events.NewMessage(pattern=r"^/", func=lambda e: not references.has_media(e))  # a caption: on_media

    @client.on(unknown)
    async def on_unknown_command(event: Any) -> None:
        """A command no handler takes ("/imagine a cat", "/help me") gets an answer, not silence."""
        text = event.raw_text
        if any(ev is not unknown and getattr(ev, "pattern", None) and ev.pattern(text)
               for _, ev in client.list_event_handlers() if isinstance(ev, events.NewMessage)):
            return
        await bot.reply(event, lambda user: wizard.resume(user.id, i18n.t(user.language, "error-unknown-command")))

    @client.on(events.CallbackQuery())
    async def on_button(event: Any) -> None:
        PRESSED_MESSAGE.set(event.message_id)
        chat_id = event.chat_id
        asynchronous: list[Any] = []  # a coroutine handler (it may send messages): awaited after the hop

        def refused(user: User, exc: Exception) -> tuple[screens.Screen, str | None, bool]:
            """(screen, toast, stale) when the press could not be served."""
            if isinstance(exc, drafts.NoModels):  # the admin switched every model off mid-wizard
                return wizard.models(user.id), None, False
            return screens.main_menu(user.id), i18n.t(user.language, "toast-outdated"), True

        def work(user: User) -> tuple[screens.Screen | None, str | None, bool]:
            """(screen, toast, stale) for the press, in the guard's thread hop."""
            try:
                cb = decode(event.data)
                handler = bot.actions.get((cb.screen, cb.action))
                if handler is None:
                    raise StaleButton(f"{cb.screen}:{cb.action} is served by no module")
                press = routing.Press(bot, user.id, chat_id, cb)
                if inspect.iscoroutinefunction(handler):
                    asynchronous.append((handler, press))
                    return None, None, False
                return (*handler(press), False)
            except REFUSED as exc:
                return refused(user, exc)

        served = await bot.serve(event, work)
        if served is None:
            return
        user, (screen, toast, stale) = served.user, served.result
        if asynchronous:
            # a coroutine handler may send (an invoice) and wait for its turn under the send limit:
            # the press is answered first, so its spinner never waits behind a broadcast or a pause
            await bot.answer(event)
            handler, press = asynchronous[0]
            try:
                screen, toast = await handler(press)
            except REFUSED as exc:
                screen, toast, stale = await asyncio.to_thread(refused, user, exc)
        await bot.answer(event, (toast or "")[:TOAST_MAX])  # once: nothing more after the early answer
        await bot.show(user, chat_id, screen, edit_message=event.message_id)
        if screen.followup is not None and not stale:
            await screen.followup(bot, chat_id)

    # one pass over the handlers: updates counted by kind (and the log context bound), each handler
    # timed, and a handler failing (database or queue away) still answers "try again"
    metrics.instrument(client, on_update=lambda ids: logs.bind(**ids), wrap=lambda cb: apology.guarded(bot, cb))
    return bot


def start_screen(bot: Bot, user: User, payload: str) -> screens.Screen:
    """``/start [payload]`` (``services.onboarding`` binds a ``ref_`` link's referrer and greets on
    the first visit): the welcome above a deep link's screen (``tpl_<id>``…) or the main menu. Runs
    in the guard's thread hop."""
    started = onboarding.start(user, payload, bot.deep_links)
    welcome = None
    if started.greet:
        welcome = i18n.t(user.language, "menu-welcome-referred", name=started.inviter.first_name or "🙂") \
            if started.inviter else i18n.t(user.language, "menu-welcome")
    screen = bot.deep_links[started.link](user.id, started.arg, welcome) if started.link is not None \
        else screens.main_menu(user.id, welcome)
    return dataclasses.replace(screen, keep=True) if welcome else screen  # a greeting is never coalesced away


START = re.compile(r"^/start(?:@\w+)?(?:\s+(\S{1,64}))?\s*$")


def _outgoing(event: Any) -> bool:
    """The bot's own message: Telegram hands those to the bot too (``updates.getDifference`` after a
    gap or a restart lists every new message of its chats, the ones it sent included), and Telethon
    dispatches them to ``NewMessage`` / ``Album`` handlers; answering one would take a delivered
    notice for the user's prompt and send a panel nobody asked for."""
    messages = getattr(event, "messages", None) or [getattr(event, "message", None)]
    return bool(getattr(messages[0], "out", False))


def _is_start(event: Any) -> bool:
    """A ``/start`` message, greeted by ``on_start`` in its own update. Not a photo captioned
    "/start": the photo handler registers it first, and /start then greets the row it finds (only
    if it was never greeted)."""
    return (isinstance(event, events.NewMessage.Event) and not references.has_media(event)
            and START.match(event.raw_text or "") is not None)
