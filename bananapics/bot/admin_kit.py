"""The kit every admin-panel section is built from (``bananapics.bot.admin_*``).

* :func:`section` — a button handler that needs a permission: the presser's role is read from the
  database first (``services.access``); a plain user (a forged ``adm:`` button) gets the one "this
  button is outdated" answer, support pressing an admin-only button gets the admin home with "your
  role does not allow this". Both are logged as ``denied`` by the service layer.
* Forms (:class:`Form`, :func:`start`) — an action that asks for typed values (an amount, a reason)
  and/or a confirmation. Each typed value is a text step (``services.conversation``: in the
  database, so it survives a bot restart) with [✖ Cancel]; what is typed is checked by a value
  parser (:func:`amount`, :func:`reason`, …) and a bad value is answered with a clear message and the
  same question. A form with an ``effect`` then shows "⚠️ Please confirm: <the exact effect>" with
  [✅ Yes] [✖ No]; the buttons carry a one-time nonce kept server-side (the confirmation is the
  user's conversation step), taken exactly once by ``adm:yes``, so a replayed or older "yes" does
  nothing. ``apply`` calls one service (which authorises again and writes the admin log) and
  returns the result line, shown above the screen the form came from (``back``).
* :func:`keyset_page` — a paged list ("11–20 of 42") over a keyset-paged service list
  (``services.lists``): the cursors of pages already seen are kept per admin and list.
* :func:`render` — show another admin route's screen (with a note above it).

A section module declares ``ACTIONS`` (its routes) and registers its forms with :func:`form`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bananapics import i18n
from bananapics.bot import viewer
from bananapics.bot.callbacks import Callback, StaleButton
from bananapics.bot.routing import Answer, Press, TextInput
from bananapics.bot.ui import Screen, button, error_text, noted, pager
from bananapics.errors import BananaError, InvalidInput, NotFound, PermissionDenied
from bananapics.services import access, audit, conversation, lists
from bananapics.services.audit import Actor

HOME: tuple[Any, ...] = ("adm", "home")
FORM_STEP = "adm.form"  # the admin is typing a form's value
CONFIRM_STEP = "adm.confirm"  # the admin is looking at a confirmation (its nonce is in the data)
STEP_TTL_S = 900  # an unanswered question or confirmation is forgotten after 15 minutes
NONCE_BYTES = 8  # 16 hex digits on the Yes/No buttons

# what typed values may be
MAX_TOKENS = 1_000_000_000  # one adjustment; more is a typo, not a correction
REASON_MAX = 200
QUERY_MAX = 64
NUMBER_MAX_CHARS = 16  # "1 000 000 000" with spaces; longer is not a number anyone meant


class Ctx(Protocol):
    """What a press and a typed message have in common (``routing.Press``, ``routing.TextInput``)."""

    bot: Any
    user_id: int
    chat_id: int


class InputError(Exception):
    """A typed value a step does not accept: ``key`` is the catalog text that says why."""

    def __init__(self, key: str, **args: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, args


# ------------------------------------------------------------------ value parsers


def _number(text: str) -> int:
    raw = (text or "").strip()
    if len(raw) > NUMBER_MAX_CHARS:
        raise InputError("adm-bad-too-long", limit=NUMBER_MAX_CHARS)
    compact = re.sub(r"[\s_'’,.]", "", raw)  # "1 000", "1,000", "1_000"
    sign = -1 if compact[:1] in ("-", "−") else 1
    digits = compact.lstrip("+-−")
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InputError("adm-bad-number")
    return sign * int(digits)


def integer(text: str, *, lo: int, hi: int) -> int:
    """A whole number in ``lo..hi``."""
    value = _number(text)
    if value < lo:
        raise InputError("adm-bad-negative" if value < 0 <= lo else "adm-bad-too-small", min=lo)
    if value > hi:
        raise InputError("adm-bad-too-big", max=hi)
    return value


def amount(text: str, *, maximum: int = MAX_TOKENS) -> int:
    """A positive number of tokens (or Stars): negative, zero, letters, too big or too long are refused."""
    value = _number(text)
    if value < 0:
        raise InputError("adm-bad-negative", min=1)
    if value == 0:
        raise InputError("adm-bad-zero")
    if value > maximum:
        raise InputError("adm-bad-too-big", max=maximum)
    return value


def reason(text: str) -> str:
    """A reason for the admin log: one line of 2–200 printable characters with a letter or digit."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in (text or "")).split())
    if len(cleaned) > REASON_MAX:
        raise InputError("adm-bad-reason-long", limit=REASON_MAX)
    if len(cleaned) < 2 or not any(ch.isalnum() for ch in cleaned):
        raise InputError("adm-bad-reason")
    return cleaned


def query(text: str) -> str:
    """A search: 1–64 characters."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InputError("adm-bad-query")
    if len(cleaned) > QUERY_MAX:
        raise InputError("adm-bad-too-long", limit=QUERY_MAX)
    return cleaned


# ------------------------------------------------------------------ permissions


def lang(ctx: Ctx) -> str:
    return viewer.lang(ctx.user_id)


def staff(ctx: Ctx, permission: str = audit.READ, target: str = "admin panel") -> Actor:
    """The presser as an actor allowed ``permission`` (PermissionDenied, logged, otherwise)."""
    return access.staff(ctx.user_id, permission, target)


def section(permission: str = audit.READ, target: str = "admin panel") -> Callable[..., Callable[[Press], Answer]]:
    """Decorate ``handler(press, actor) -> Answer`` as a route handler that needs ``permission``.

    Anyone below support gets "this button is outdated" (``PermissionDenied`` propagates to the bot,
    which refuses the press); support without ``permission`` gets the admin home with "your role
    does not allow this". The services the handler calls check the role again."""
    def wrap(handler: Callable[[Press, Actor], Answer]) -> Callable[[Press], Answer]:
        @functools.wraps(handler)  # the route belongs to the section module that declares it
        def route(press: Press) -> Answer:
            actor = staff(press)  # users stop here (a forged adm: button)
            if permission != audit.READ:
                try:
                    actor = staff(press, permission, target)
                except PermissionDenied:
                    return render(press, HOME, i18n.t(lang(press), "admin-forbidden")), None
            try:
                return handler(press, actor)
            except (NotFound, InvalidInput) as exc:  # a forged or stale id in the button
                raise StaleButton(str(exc)) from None
        del route.__wrapped__  # a route takes a press only
        return route
    return wrap


# ------------------------------------------------------------------ screens


def render(ctx: Ctx, route: tuple[Any, ...] | list[Any], note: str | None = None) -> Screen:
    """The screen of another admin route (as if its button was pressed), with ``note`` above it."""
    screen_name, action, *args = route
    handler = ctx.bot.actions.get((screen_name, action))
    if handler is None:
        raise StaleButton(f"{screen_name}:{action} is served by no module")
    screen, _ = handler(Press(ctx.bot, ctx.user_id, ctx.chat_id, Callback(screen_name, action, tuple(args))))
    return dataclasses.replace(screen, text=noted(note, screen.text)) if note else screen


def back_row(lang_: str, route: tuple[Any, ...] = HOME) -> list[Any]:
    return [button(lang_, "btn-back", *route)]


def home_row(lang_: str) -> list[Any]:
    return [button(lang_, "btn-admin-home", *HOME)]


def failed(lang_: str, exc: BananaError) -> str:
    """A service's refusal as the result line: what happened, in the admin's language."""
    return i18n.t(lang_, "adm-failed", error=error_text(lang_, exc))


# ------------------------------------------------------------------ forms: typed values and confirmation


@dataclass(frozen=True)
class Field:
    """One typed value of a form: its name in ``values``, its parser and the question."""

    name: str
    parse: Callable[[str], Any]
    ask: str  # catalog key of the question
    ask_args: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class Form:
    """An admin action with typed values and/or a confirmation.

    ``effect(actor, lang, values)`` says exactly what a yes will do ("Refund ⭐250 to @ann: −550
    tokens…"); None applies right after the last value. ``apply(ctx, actor, values, nonce)`` calls the
    service and returns the result line ("@ann: +50 tokens, balance 170, reason: goodwill"); the nonce
    is the confirmation's one-time token (an idempotency key for money moves; "" without confirmation).
    """

    name: str
    permission: str
    apply: Callable[[Ctx, Actor, dict[str, Any], str], str]
    fields: tuple[Field, ...] = ()
    effect: Callable[[Actor, str, dict[str, Any]], str] | None = None
    target: Callable[[dict[str, Any]], str] = field(default=lambda values: "admin panel")


FORMS: dict[str, Form] = {}


def form(spec: Form) -> Form:
    """Register a form (each section module, at import)."""
    if FORMS.get(spec.name, spec) is not spec:
        raise ValueError(f"form {spec.name} is declared twice")
    FORMS[spec.name] = spec
    return spec


def start(ctx: Ctx, name: str, values: dict[str, Any], back: tuple[Any, ...]) -> Screen:
    """Begin form ``name`` with ``values`` already known; ``back`` is the route it returns to."""
    spec = FORMS[name]
    actor = staff(ctx)
    try:
        actor = staff(ctx, spec.permission, spec.target(values))
    except PermissionDenied:
        return render(ctx, back, i18n.t(lang(ctx), "admin-forbidden"))
    return _next(ctx, actor, spec, dict(values), tuple(back))


def _cancel_row(lang_: str) -> list[Any]:
    return [button(lang_, "btn-cancel", "adm", "cancel")]


def _next(ctx: Ctx, actor: Actor, spec: Form, values: dict[str, Any], back: tuple[Any, ...],
          note: str | None = None) -> Screen:
    """Ask the first value not typed yet; else the confirmation; else apply."""
    lang_ = lang(ctx)
    state = {"form": spec.name, "values": values, "back": list(back)}
    for fld in spec.fields:
        if fld.name not in values:
            conversation.expect(ctx.user_id, FORM_STEP, {**state, "field": fld.name}, ttl_s=STEP_TTL_S)
            args = fld.ask_args(values) if fld.ask_args is not None else {}
            return Screen(noted(note, i18n.t(lang_, fld.ask, **args)), [_cancel_row(lang_)])
    if spec.effect is None:
        conversation.clear(ctx.user_id)
        return _apply(ctx, actor, spec, values, back, "")
    nonce = secrets.token_hex(NONCE_BYTES)
    conversation.expect(ctx.user_id, CONFIRM_STEP, {**state, "nonce": nonce}, ttl_s=STEP_TTL_S)
    return _confirm_screen(lang_, actor, spec, values, nonce, note)


def _confirm_screen(lang_: str, actor: Actor, spec: Form, values: dict[str, Any], nonce: str,
                    note: str | None = None) -> Screen:
    text = i18n.t(lang_, "admin-confirm", action=spec.effect(actor, lang_, values))  # type: ignore[misc]
    return Screen(noted(note, text), [[button(lang_, "btn-adm-yes", "adm", "yes", nonce),
                                       button(lang_, "btn-adm-no", "adm", "no", nonce)]])


def _apply(ctx: Ctx, actor: Actor, spec: Form, values: dict[str, Any], back: tuple[Any, ...], nonce: str) -> Screen:
    lang_ = lang(ctx)
    try:
        line = spec.apply(ctx, actor, values, nonce)
    except PermissionDenied:
        line = i18n.t(lang_, "admin-forbidden")  # the service refused (and logged it): nothing changed
    except BananaError as exc:
        line = failed(lang_, exc)
    viewer.forget()  # the admin's own row may have changed (their balance, their role)
    return render(ctx, back, line)


def on_form_text(text: TextInput) -> Screen:
    """A typed value of a form: checked, stored, then the next question or the confirmation. A value
    the parser refuses is answered with why and the same question (the step stays)."""
    spec = FORMS.get(text.data.get("form", ""))
    back = tuple(text.data.get("back") or HOME)
    if spec is None:  # a form this version no longer has
        conversation.clear(text.user_id)
        return render(text, HOME)
    staff(text)  # a user demoted since: PermissionDenied, the bot drops the step
    actor = staff(text, spec.permission, spec.target(text.data.get("values", {})))
    values = dict(text.data.get("values") or {})
    fld = next((f for f in spec.fields if f.name == text.data.get("field")), None)
    if fld is None:
        conversation.clear(text.user_id)
        return render(text, back)
    try:
        values[fld.name] = fld.parse(text.text)
    except InputError as exc:
        return _next(text, actor, spec, values, back, note=i18n.t(lang(text), exc.key, **exc.values))
    return _next(text, actor, spec, values, back)


def on_confirm_text(text: TextInput) -> Screen:
    """Typing while a confirmation waits: the same confirmation again (same nonce), with a hint."""
    spec = FORMS.get(text.data.get("form", ""))
    if spec is None or spec.effect is None:
        conversation.clear(text.user_id)
        return render(text, HOME)
    actor = staff(text, spec.permission, spec.target(text.data.get("values", {})))
    return _confirm_screen(lang(text), actor, spec, dict(text.data.get("values") or {}), text.data.get("nonce", ""),
                           note=i18n.t(lang(text), "adm-press-yes-no"))


def yes(press: Press) -> Answer:
    """``adm:yes:<nonce>``: take the pending confirmation once and apply it."""
    staff(press)
    taken = conversation.take(press.user_id, CONFIRM_STEP, press.args[0])
    if taken is None:  # replayed, older, cancelled or expired: nothing happens
        return render(press, HOME), i18n.t(lang(press), "toast-outdated")
    spec = FORMS.get(taken.data.get("form", ""))
    back = tuple(taken.data.get("back") or HOME)
    if spec is None:
        return render(press, back), i18n.t(lang(press), "toast-outdated")
    values = dict(taken.data.get("values") or {})
    try:
        actor = staff(press, spec.permission, spec.target(values))
    except PermissionDenied:
        return render(press, back, i18n.t(lang(press), "admin-forbidden")), None
    return _apply(press, actor, spec, values, back, press.args[0]), None


def no(press: Press) -> Answer:
    """``adm:no:<nonce>``: drop the pending confirmation; nothing changes."""
    staff(press)
    taken = conversation.take(press.user_id, CONFIRM_STEP, press.args[0])
    if taken is None:
        return render(press, HOME), i18n.t(lang(press), "toast-outdated")
    return render(press, tuple(taken.data.get("back") or HOME), i18n.t(lang(press), "admin-cancelled")), None


def cancel(press: Press) -> Answer:
    """``adm:cancel``: forget the question being asked and go back to where it was asked from."""
    staff(press)
    asked = conversation.current(press.user_id)
    back = HOME
    if asked is not None and asked.name.startswith("adm."):
        back = tuple(asked.data.get("back") or HOME)
        conversation.clear(press.user_id)
    return render(press, back, i18n.t(lang(press), "admin-cancelled")), None


# ------------------------------------------------------------------ keyset paging


@dataclass
class _Listing:
    filters: dict[str, Any]
    cursors: list[str | None] = field(default_factory=lambda: [None])  # where page i starts


@dataclass(frozen=True)
class PageView:
    """One page of an admin list: its rows, position and the pager row."""

    items: list[Any]
    page: int
    pages: int
    total: int | str  # a number, or "1000+" past the count's cap
    first: int  # 1-based number of the first row shown (0 for an empty list)
    last: int
    filters: dict[str, Any]

    def label(self, lang_: str) -> str:
        """"11–20 of 42"."""
        return i18n.t(lang_, "adm-page-of", first=self.first, last=self.last, total=self.total)

    def pager(self, lang_: str, screen_name: str, action: str, *args: Any) -> list[list[Any]]:
        return pager(lang_, screen_name, action, self.page, self.pages, *args)


def page_screen(lang_: str, title: str, view: PageView, rows: list[list[Any]], pager_route: tuple[Any, ...],
                back: tuple[Any, ...]) -> Screen:
    """A list page: the title, "N of M" (or "nothing here"), one button per row, the pager, Back and
    the admin home. ``pager_route``: the page route without its page number."""
    text = f"{title}\n{view.label(lang_) if view.items else i18n.t(lang_, 'admin-empty')}"
    return Screen(text, rows + view.pager(lang_, *pager_route) + [back_row(lang_, back) + home_row(lang_)])


_LISTINGS: OrderedDict[tuple[int, str], _Listing] = OrderedDict()
LISTINGS_MAX = 10_000


def keyset_page(ctx: Ctx, name: str, page: int, fetch: Callable[[dict[str, Any], str | None, int], Any],
                count: Callable[[dict[str, Any]], int], *, size: int = 8,
                filters: dict[str, Any] | None = None) -> PageView:
    """Page ``page`` (0-based) of list ``name`` for this admin.

    ``fetch(filters, after, limit)`` is a keyset-paged service list (returns ``items`` and ``next``);
    ``count(filters)`` the total. Passing ``filters`` starts the list afresh (a new search or filter);
    without, the list's stored filters apply (none after a bot restart: the list starts over). The
    cursor of every page reached is kept (in memory, per admin and list), so a page is one query; a
    page further than any seen is reached by walking from the last known one."""
    key = (ctx.user_id, name)
    listing = _LISTINGS.get(key)
    if filters is not None or listing is None:
        listing = _Listing(dict(filters or {}))
        if page and filters is None:
            page = 0  # the list was forgotten (a restart): start over rather than guess
    _LISTINGS[key] = listing
    _LISTINGS.move_to_end(key)
    while len(_LISTINGS) > LISTINGS_MAX:
        _LISTINGS.popitem(last=False)
    page = max(0, page)
    known = min(page, len(listing.cursors) - 1)
    result = fetch(listing.filters, listing.cursors[known], size)
    while known < page and result.next is not None:
        known += 1
        if len(listing.cursors) == known:
            listing.cursors.append(result.next)
        result = fetch(listing.filters, result.next, size)
    page = known
    if result.next is not None and len(listing.cursors) == page + 1:
        listing.cursors.append(result.next)
    total = count(listing.filters)  # counted up to lists.COUNT_CAP + 1: more than the cap shows "1000+"
    pages = max(1, page + 1 + (result.next is not None))  # ▶ follows the next cursor, never the (capped) total
    first = page * size + 1 if result.items else 0
    last = page * size + len(result.items)
    shown: int | str = f"{lists.COUNT_CAP}+" if total > lists.COUNT_CAP and last <= lists.COUNT_CAP else max(total, last)
    return PageView(list(result.items), page, pages, shown, first, last, listing.filters)


def set_filters(ctx: Ctx, name: str, filters: dict[str, Any]) -> None:
    """Start list ``name`` afresh with ``filters`` (a search typed, a filter chosen)."""
    _LISTINGS[(ctx.user_id, name)] = _Listing(dict(filters))
    _LISTINGS.move_to_end((ctx.user_id, name))


def filters_of(ctx: Ctx, name: str) -> dict[str, Any]:
    """The filters list ``name`` shows now for this admin (none after a restart)."""
    listing = _LISTINGS.get((ctx.user_id, name))
    return dict(listing.filters) if listing is not None else {}


def who(tg_id: int | None, username: str | None, first_name: str = "") -> str:
    """A user as the panel names them: "@ann (123)", "Ann (123)", or "123"."""
    if tg_id is None:
        return "—"
    name = f"@{username}" if username else (first_name or "").strip()
    return f"{name} ({tg_id})" if name else str(tg_id)


TEXT_STEPS = {FORM_STEP: on_form_text, CONFIRM_STEP: on_confirm_text}
ACTIONS = {("adm", "yes"): yes, ("adm", "no"): no, ("adm", "cancel"): cancel}
