"""📣 Broadcast (admins only): compose a message, pick the audience, test it on yourself, start it
after a confirmation with the number of recipients and an ETA, then watch it (sent / total /
blocked / failed, 🔄 Refresh) and pause, resume or cancel it.

The composer is a draft (``services.broadcast``) edited by text steps that survive a restart: the
text, a photo (sent as a photo; a text step's ✖ Cancel or 🗑 remove it), a URL button typed as
"Label | https://…". Every value is checked by the service; a refusal is shown above the same
question. 🚀 Start appears once a test was sent after the last change. Each button and step needs
``broadcast.send``: support gets "your role does not allow this", a user "this button is outdated".

Recipients' rows are sent by the delivery loop (``PARTS[KIND]``): the text, or the photo with the
text as its caption, with the URL button under it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telethon import Button

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot import delivery, references
from bananapics.bot.routing import Answer, Press, TextInput
from bananapics.bot.ui import Screen, button, error_text, excerpt
from bananapics.errors import BananaError, PermissionDenied
from bananapics.services import broadcast, conversation
from bananapics.services.audit import Actor

PERMISSION = broadcast.PERMISSION
TEXT_STEP = "adm.bc.text"  # the message text (a new draft, or a draft's new text)
PHOTO_STEP = "adm.bc.photo"  # a photo for the draft
BUTTON_STEP = "adm.bc.button"  # "Label | https://…"
ICONS = {"draft": "📝", "starting": "⏳", "running": "📤", "paused": "⏸", "cancelled": "✖", "done": "✅"}
RECENT = 6
ACTIVE_CYCLE = (None, 1, 7, 30, 90)
LANG_CYCLE = (None, "uz", "ru", "en")


def _per_second(ctx: kit.Ctx) -> float:
    return float(ctx.bot.config.telegram.send_per_second)


def _eta(lang: str, seconds: int) -> str:
    if seconds < 90:
        return i18n.t(lang, "bc-eta-seconds", seconds=max(1, seconds))
    return i18n.t(lang, "bc-eta-minutes", minutes=-(-seconds // 60))


def _segment_text(lang: str, seg: broadcast.Segment) -> str:
    parts = []
    if seg.lang:
        parts.append(i18n.t(lang, "bc-seg-lang", language=i18n.language_names().get(seg.lang, seg.lang)))
    if seg.active_days:
        parts.append(i18n.t(lang, "bc-seg-active", days=seg.active_days))
    parts += [i18n.t(lang, f"bc-seg-{name}") for name in ("paid", "balance", "referred") if getattr(seg, name)]
    return ", ".join(parts) or i18n.t(lang, "bc-seg-all")


def _refused(ctx: kit.Ctx, exc: BananaError) -> str:
    return i18n.t(kit.lang(ctx), "adm-failed", error=error_text(kit.lang(ctx), exc))


# ------------------------------------------------------------------ screens


@kit.section(PERMISSION, "broadcast")
def section_home(press: Press, actor: Actor) -> Answer:
    """``adm:sec:broadcast`` / ``adm:bcs``: the newest broadcasts and ✍️ New."""
    return home_screen(press, actor), None


def home_screen(ctx: kit.Ctx, actor: Actor, note: str | None = None) -> Screen:
    lang = kit.lang(ctx)
    items = broadcast.recent(actor=actor, limit=RECENT, per_second=_per_second(ctx))
    lines = [i18n.t(lang, "bc-title")]
    if not items:
        lines.append(i18n.t(lang, "admin-empty"))
    rows = [[button(lang, "btn-bc-row", "adm", "bc", p.id, icon=ICONS.get(p.status, "•"), id=p.id,
                    text=excerpt(p.text, 24), sent=p.sent, total=p.total)] for p in items]
    rows += [[button(lang, "btn-bc-new", "adm", "bcnew")], kit.home_row(lang)]
    text = "\n".join(lines)
    return Screen(f"{note}\n\n{text}" if note else text, rows)


@kit.section(PERMISSION, "broadcast")
def open_broadcast(press: Press, actor: Actor) -> Answer:
    """``adm:bc:<id>``: the composer of a draft, or the progress of a started broadcast."""
    return screen(press, actor, press.args[0]), None


def screen(ctx: kit.Ctx, actor: Actor, broadcast_id: int, note: str | None = None) -> Screen:
    p = broadcast.progress(broadcast_id, actor=actor, per_second=_per_second(ctx))
    body = _draft(ctx, p) if p.status == "draft" else _progress(ctx, p)
    return Screen(f"{note}\n\n{body.text}" if note else body.text, body.buttons)


def _preview(lang: str, p: broadcast.Progress) -> list[str]:
    lines = [excerpt(p.text, 700)]
    if p.photo:
        lines.append(i18n.t(lang, "bc-has-photo"))
    if p.button:
        lines.append(i18n.t(lang, "bc-has-button", label=p.button[0], url=excerpt(p.button[1], 120)))
    return lines


def _draft(ctx: kit.Ctx, p: broadcast.Progress) -> Screen:
    lang = kit.lang(ctx)
    seg = broadcast.Segment.from_dict(p.segment)
    tested = broadcast.get(p.id, actor=kit.staff(ctx, PERMISSION, f"broadcast:{p.id}")).tested_at is not None
    lines = [i18n.t(lang, "bc-draft-title", id=p.id), "", *_preview(lang, p), "",
             i18n.t(lang, "bc-audience", segment=_segment_text(lang, seg)),
             i18n.t(lang, "bc-tested") if tested else i18n.t(lang, "bc-test-first")]
    rows = [[button(lang, "btn-bc-text", "adm", "bcedit", p.id, "text"),
             button(lang, "btn-bc-photo-del" if p.photo else "btn-bc-photo", "adm", "bcedit", p.id,
                    "nophoto" if p.photo else "photo")],
            [button(lang, "btn-bc-button-del" if p.button else "btn-bc-button", "adm", "bcedit", p.id,
                    "nobutton" if p.button else "button"),
             button(lang, "btn-bc-audience", "adm", "bcseg", p.id)],
            [button(lang, "btn-bc-test", "adm", "bctest", p.id)]]
    if tested:
        rows[-1].append(button(lang, "btn-bc-start", "adm", "bcgo", p.id))
    rows += [[button(lang, "btn-bc-discard", "adm", "bccancel", p.id)],
             kit.back_row(lang, ("adm", "bcs")) + kit.home_row(lang)]
    return Screen("\n".join(lines)[:4000], rows)


def _progress(ctx: kit.Ctx, p: broadcast.Progress) -> Screen:
    lang = kit.lang(ctx)
    lines = [i18n.t(lang, "bc-progress-title", id=p.id, icon=ICONS.get(p.status, "•"),
                    status=i18n.t(lang, f"bc-status-{p.status}")),
             i18n.t(lang, "bc-counts", sent=p.sent, total=p.total, blocked=p.blocked, failed=p.failed,
                    queued=p.queued)]
    if p.cancelled:
        lines.append(i18n.t(lang, "bc-dropped", count=p.cancelled))
    if p.status in ("running", "starting") and p.queued:
        lines.append(i18n.t(lang, "bc-eta", eta=_eta(lang, p.eta_s)))
    lines += ["", *_preview(lang, p)]
    rows: list[list[Any]] = [[button(lang, "btn-bc-refresh", "adm", "bc", p.id)]]
    if p.status in ("running", "starting"):
        rows[0].append(button(lang, "btn-bc-pause", "adm", "bcpause", p.id))
    if p.status == "paused":
        rows[0].append(button(lang, "btn-bc-resume", "adm", "bcresume", p.id))
    if p.status in broadcast.LIVE:
        rows.append([button(lang, "btn-bc-cancel", "adm", "bccancel", p.id)])
    rows.append(kit.back_row(lang, ("adm", "bcs")) + kit.home_row(lang))
    return Screen("\n".join(lines)[:4000], rows)


# ------------------------------------------------------------------ the composer's text and photo steps


def _ask(ctx: kit.Ctx, step: str, key: str, broadcast_id: int | None, note: str | None = None) -> Screen:
    back = ["adm", "bc", broadcast_id] if broadcast_id else ["adm", "bcs"]
    conversation.expect(ctx.user_id, step, {"bid": broadcast_id, "back": back}, ttl_s=kit.STEP_TTL_S)
    lang = kit.lang(ctx)
    text = i18n.t(lang, key)
    return Screen(f"{note}\n\n{text}" if note else text, [[button(lang, "btn-cancel", "adm", "cancel")]])


@kit.section(PERMISSION, "broadcast")
def new(press: Press, actor: Actor) -> Answer:
    """``adm:bcnew``: ask for the text of a new broadcast."""
    return _ask(press, TEXT_STEP, "bc-ask-text", None), None


@kit.section(PERMISSION, "broadcast")
def edit(press: Press, actor: Actor) -> Answer:
    """``adm:bcedit:<id>:<part>``: ask for a new text, photo or button; or take the photo/button away."""
    broadcast_id, part = press.args
    broadcast.get(broadcast_id, actor=actor)
    if part == "text":
        return _ask(press, TEXT_STEP, "bc-ask-text", broadcast_id), None
    if part == "photo":
        return _ask(press, PHOTO_STEP, "bc-ask-photo", broadcast_id), None
    if part == "button":
        return _ask(press, BUTTON_STEP, "bc-ask-button", broadcast_id), None
    try:
        broadcast.edit(broadcast_id, actor=actor, **({"photo_key": None} if part == "nophoto" else {"button": None}))
    except BananaError as exc:
        return screen(press, actor, broadcast_id, _refused(press, exc)), None
    return screen(press, actor, broadcast_id, i18n.t(kit.lang(press), "bc-changed")), None


def _step_actor(text: kit.Ctx, data: dict[str, Any]) -> Actor:
    kit.staff(text)  # below support: PermissionDenied, the bot drops the step
    return kit.staff(text, PERMISSION, f"broadcast:{data.get('bid') or 'new'}")


def _typed(text: TextInput, step: str, ask: str, change: Any) -> Screen:
    """Apply a typed value with ``change(actor, broadcast_id) -> broadcast_id``: the draft again with
    "saved", or the service's refusal above the same question (a draft no longer editable: its screen)."""
    actor = _step_actor(text, text.data)
    broadcast_id = text.data.get("bid")
    try:
        broadcast_id = change(actor, broadcast_id)
    except BananaError as exc:
        if exc.title != "broadcast_status":
            return _ask(text, step, ask, broadcast_id, _refused(text, exc))
        conversation.clear(text.user_id)
        return screen(text, actor, broadcast_id, _refused(text, exc))
    conversation.clear(text.user_id)
    return screen(text, actor, broadcast_id, i18n.t(kit.lang(text), "bc-changed"))


def on_text(text: TextInput) -> Screen:
    """The message text: a new draft, or a draft's new text."""
    def change(actor: Actor, broadcast_id: int | None) -> int:
        if broadcast_id:
            return broadcast.edit(broadcast_id, actor=actor, text=text.text).id
        return broadcast.create(text.text, actor=actor).id

    return _typed(text, TEXT_STEP, "bc-ask-text", change)


def on_button_text(text: TextInput) -> Screen:
    """"Label | https://…" for the draft's URL button."""
    return _typed(text, BUTTON_STEP, "bc-ask-button", lambda actor, broadcast_id: broadcast.edit(
        broadcast_id, actor=actor, button=broadcast.parse_button(text.text)).id)


def on_photo_text(text: TextInput) -> Screen:
    """Text where a photo was asked: the same question again."""
    _step_actor(text, text.data)
    return _ask(text, PHOTO_STEP, "bc-ask-photo", text.data["bid"], i18n.t(kit.lang(text), "bc-not-a-photo"))


async def on_photo(bot: Any, user: Any, chat_id: int, messages: list[Any], data: dict[str, Any]) -> None:
    """A photo (or an image file) sent while the photo step waits: stored on the draft."""
    ctx = TextInput(bot, user.id, chat_id, "", PHOTO_STEP, data)
    broadcast_id = data["bid"]
    images = [m for m in messages if references.is_image(m)]

    def after(note_key: str | None, exc: BananaError | None = None) -> Screen:
        actor = _step_actor(ctx, data)
        note = _refused(ctx, exc) if exc is not None else i18n.t(kit.lang(ctx), note_key) if note_key else None
        if exc is not None or not images:
            return _ask(ctx, PHOTO_STEP, "bc-ask-photo", broadcast_id, note)
        conversation.clear(user.id)
        return screen(ctx, actor, broadcast_id, note)

    try:
        actor = await asyncio.to_thread(_step_actor, ctx, data)
    except PermissionDenied:
        await asyncio.to_thread(conversation.clear, user.id)
        return
    if not images or (images[0].file and (images[0].file.size or 0) > references.MAX_BYTES):
        images = []
        shown = await asyncio.to_thread(after, "bc-not-a-photo")
    else:
        try:
            async with bot.images.turn(user.id):
                blob = await images[0].download_media(bytes)
                await bot.images.run(_store, bot.storage, broadcast_id, blob, actor)
            shown = await asyncio.to_thread(after, "bc-changed")
        except BananaError as exc:
            shown = await asyncio.to_thread(after, None, exc)
    await bot.show(user, chat_id, shown)


def _store(storage: Any, broadcast_id: int, data: bytes, actor: Actor) -> None:
    broadcast.store_photo(storage, broadcast_id, data, actor=actor)


# ------------------------------------------------------------------ audience


SEG_FIELDS = ("lang", "active", "paid", "balance", "referred")


@kit.section(PERMISSION, "broadcast")
def segment(press: Press, actor: Actor) -> Answer:
    """``adm:bcseg:<id>``: the segment picker with the number of recipients it reaches now."""
    return _segment_screen(press, actor, press.args[0]), None


def _segment_screen(ctx: kit.Ctx, actor: Actor, broadcast_id: int, note: str | None = None) -> Screen:
    lang = kit.lang(ctx)
    b = broadcast.get(broadcast_id, actor=actor)
    seg = broadcast.Segment.from_dict(b.segment_dict)
    count = broadcast.audience_count(seg, actor=actor)
    text = i18n.t(lang, "bc-seg-title", segment=_segment_text(lang, seg), count=count)
    mark = {True: "✅", False: "▫️"}
    rows = [[button(lang, "btn-bc-seg-lang", "adm", "bcsegset", broadcast_id, "lang",
                    value=i18n.language_names().get(seg.lang, seg.lang) if seg.lang else i18n.t(lang, "bc-seg-any"))],
            [button(lang, "btn-bc-seg-active", "adm", "bcsegset", broadcast_id, "active",
                    value=seg.active_days or i18n.t(lang, "bc-seg-any"))],
            [button(lang, f"btn-bc-seg-{name}", "adm", "bcsegset", broadcast_id, name, mark=mark[getattr(seg, name)])
             for name in ("paid", "balance", "referred")],
            [button(lang, "btn-bc-seg-done", "adm", "bc", broadcast_id)]]
    return Screen(f"{note}\n\n{text}" if note else text, rows)


def _next(cycle: tuple[Any, ...], value: Any) -> Any:
    return cycle[(cycle.index(value) + 1) % len(cycle)] if value in cycle else cycle[0]


@kit.section(PERMISSION, "broadcast")
def segment_set(press: Press, actor: Actor) -> Answer:
    """``adm:bcsegset:<id>:<field>``: the next language / activity window, or a criterion on/off."""
    broadcast_id, name = press.args
    b = broadcast.get(broadcast_id, actor=actor)
    values = dict(b.segment_dict)
    if name == "lang":
        values["lang"] = _next(LANG_CYCLE, values.get("lang"))
    elif name == "active":
        values["active_days"] = _next(ACTIVE_CYCLE, values.get("active_days"))
    else:
        values[name] = not values.get(name)
    try:
        broadcast.edit(broadcast_id, actor=actor, segment=broadcast.Segment.from_dict(
            {k: v for k, v in values.items() if v not in (None, False)}))
    except BananaError as exc:
        return screen(press, actor, broadcast_id, _refused(press, exc)), None
    return _segment_screen(press, actor, broadcast_id), None


# ------------------------------------------------------------------ test, start, pause, resume, cancel


@kit.section(PERMISSION, "broadcast")
def test(press: Press, actor: Actor) -> Answer:
    """``adm:bctest:<id>``: the message to the admin pressing it (ahead of any broadcast)."""
    try:
        broadcast.test_send(press.args[0], actor=actor)
    except BananaError as exc:
        return screen(press, actor, press.args[0], _refused(press, exc)), None
    lang = kit.lang(press)
    return screen(press, actor, press.args[0], i18n.t(lang, "bc-test-sent")), i18n.t(lang, "bc-test-toast")


def _start_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    count = values["count"]
    return i18n.t(lang, "bc-effect-start", id=values["bid"], count=count, eta=_eta(lang, values["eta"]))


def _start(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    b = broadcast.start(values["bid"], actor=actor, require_test=True)
    return i18n.t(kit.lang(ctx), "bc-started", count=b.total)


def _cancel_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    return i18n.t(lang, "bc-effect-cancel", id=values["bid"])


def _cancel(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    b = broadcast.cancel(values["bid"], actor=actor)
    return i18n.t(kit.lang(ctx), "bc-cancelled", id=b.id)


kit.form(kit.Form("broadcast.start", PERMISSION, _start, effect=_start_effect,
                  target=lambda values: f"broadcast:{values.get('bid')}"))
kit.form(kit.Form("broadcast.cancel", PERMISSION, _cancel, effect=_cancel_effect,
                  target=lambda values: f"broadcast:{values.get('bid')}"))


@kit.section(PERMISSION, "broadcast")
def go(press: Press, actor: Actor) -> Answer:
    """``adm:bcgo:<id>``: confirm with the number of recipients and an ETA, then start."""
    broadcast_id = press.args[0]
    b = broadcast.get(broadcast_id, actor=actor)
    if b.status != "draft" or b.tested_at is None:
        return screen(press, actor, broadcast_id, i18n.t(kit.lang(press), "bc-test-first")), None
    count = broadcast.audience_count(broadcast.Segment.from_dict(b.segment_dict), actor=actor)
    if count == 0:
        return screen(press, actor, broadcast_id, i18n.t(kit.lang(press), "bc-nobody")), None
    values = {"bid": broadcast_id, "count": count, "eta": broadcast.eta_seconds(count, _per_second(press))}
    return kit.start(press, "broadcast.start", values, ("adm", "bc", broadcast_id)), None


@kit.section(PERMISSION, "broadcast")
def cancel(press: Press, actor: Actor) -> Answer:
    """``adm:bccancel:<id>``: confirm, then nothing more is sent (a draft is discarded)."""
    return kit.start(press, "broadcast.cancel", {"bid": press.args[0]}, ("adm", "bc", press.args[0])), None


def _move(press: Press, actor: Actor, fn: Any, key: str) -> Answer:
    try:
        fn(press.args[0], actor=actor)
    except BananaError as exc:
        return screen(press, actor, press.args[0], _refused(press, exc)), None
    return screen(press, actor, press.args[0], i18n.t(kit.lang(press), key)), None


@kit.section(PERMISSION, "broadcast")
def pause(press: Press, actor: Actor) -> Answer:
    """``adm:bcpause:<id>``."""
    return _move(press, actor, broadcast.pause, "bc-paused")


@kit.section(PERMISSION, "broadcast")
def resume(press: Press, actor: Actor) -> Answer:
    """``adm:bcresume:<id>``."""
    return _move(press, actor, broadcast.resume, "bc-resumed")


# ------------------------------------------------------------------ what recipients get


def parts(row: Any, user: Any) -> list[delivery.Part]:
    """A broadcast's outbox row (or a test send): the text, or the photo with it as the caption, and
    the URL button under it."""
    msg = broadcast.message(int(row.data["broadcast"]))
    buttons = [[Button.url(msg.button[0], msg.button[1])]] if msg.button else None
    if msg.photo_key:
        return [delivery.Part(msg.text, keys=(msg.photo_key,), buttons=buttons)]
    return [delivery.Part(msg.text, buttons=buttons)]


TEXT_STEPS = {TEXT_STEP: on_text, PHOTO_STEP: on_photo_text, BUTTON_STEP: on_button_text}
ACTIONS = {("adm", "bcs"): section_home, ("adm", "bc"): open_broadcast, ("adm", "bcnew"): new,
           ("adm", "bcedit"): edit, ("adm", "bcseg"): segment, ("adm", "bcsegset"): segment_set,
           ("adm", "bctest"): test, ("adm", "bcgo"): go, ("adm", "bccancel"): cancel,
           ("adm", "bcpause"): pause, ("adm", "bcresume"): resume}
SECTIONS = {"broadcast": section_home}


def register(bot: Any) -> None:
    delivery.PARTS[broadcast.KIND] = parts
    references.MEDIA_STEPS[PHOTO_STEP] = on_photo
    bot.on_start.append(lambda b: asyncio.to_thread(broadcast.resume_freezing))
