"""The strict codec of inline-button callback data (SCREENS.md "The panel").

Wire format: ``<screen>:<action>[:<arg>…]``, printable ASCII, at most 64 bytes (Telegram's limit).
Every allowed ``(screen, action)`` is declared in :data:`ROUTES` with the exact types of its
arguments; args are ids (integers, lowercase hex job/draft ids of up to 32 digits, model slugs) or
small enums, never user text. The encoding is canonical (no leading zeros, lowercase hex), so
``encode(*decode(data)) == data`` for every accepted ``data``.

* :func:`encode` builds button data and raises :class:`CallbackError` for a route or argument
  the table does not allow, or data over 64 bytes: a programming error, caught in tests.
* :func:`decode` parses what Telegram hands back. Anything unknown, malformed, oversize,
  non-ASCII or with a wrong argument raises :class:`StaleButton` (and nothing else), so forged
  data never reaches a handler; the bot answers "this button is outdated" and shows the menu.

Handlers must still check that the draft/job/payment named in the data belongs to the presser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 64
SEP = ":"


class CallbackError(ValueError):
    """``encode`` was asked for something the route table does not allow."""


class StaleButton(ValueError):
    """Callback data that is unknown, malformed, forged or from an older version of the bot."""


# --- argument types -------------------------------------------------------------------------

@dataclass(frozen=True)
class ArgType:
    """One argument kind: a canonical wire pattern plus conversions to and from Python values."""

    name: str
    pattern: re.Pattern[str]
    max_len: int
    parse: Callable[[str], Any]
    dump: Callable[[Any], str]

    def to_wire(self, value: Any) -> str:
        try:
            wire = self.dump(value)
        except (TypeError, ValueError) as exc:
            raise CallbackError(f"{self.name}: {value!r} is not allowed ({exc})") from None
        if not self.pattern.fullmatch(wire):
            raise CallbackError(f"{self.name}: {value!r} is not allowed")
        self.from_wire(wire, error=CallbackError)  # range checks live in parse
        return wire

    def from_wire(self, wire: str, error: type[Exception] = StaleButton) -> Any:
        if len(wire) > self.max_len or not self.pattern.fullmatch(wire):
            raise error(f"{self.name}: bad value")
        try:
            return self.parse(wire)
        except (TypeError, ValueError):
            raise error(f"{self.name}: bad value") from None


def _int(name: str, lo: int, hi: int) -> ArgType:
    digits = len(str(hi))

    def parse(wire: str) -> int:
        value = int(wire)
        if not lo <= value <= hi:
            raise ValueError(f"out of range {lo}..{hi}")
        return value

    def dump(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("an int is required")
        return str(value)

    return ArgType(name, re.compile(rf"0|[1-9][0-9]{{0,{digits - 1}}}"), digits, parse, dump)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a str is required")
    return value


def _enum(name: str, *values: str) -> ArgType:
    allowed = frozenset(values)
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))

    def parse(wire: str) -> str:
        if wire not in allowed:
            raise ValueError("not an allowed value")
        return wire

    return ArgType(name, pattern, max(map(len, values)), parse, _text)


def _regex(name: str, regex: str, max_len: int) -> ArgType:
    return ArgType(name, re.compile(regex), max_len, str, _text)


def _ratio_dump(value: Any) -> str:
    w, _, h = _text(value).partition(":")
    return f"{w}x{h}"


_RATIO_WIRE = re.compile(r"([1-9][0-9]?)x([1-9][0-9]?)")

ID = _int("id", 1, 2**63 - 1)             # database ids, Telegram user ids
PAGE = _int("page", 0, 9999)
PRICE = _int("price", 0, 10**12)          # tokens shown to the user on the confirm button
COUNT = _int("count", 1, 16)              # images per request
HEX = _regex("hex", r"[0-9a-f]{1,32}", 32)                 # job / draft / pending-action ids
SLUG = _regex("slug", r"[a-z0-9][a-z0-9._-]{0,31}", 32)   # model ids, categories, setting keys
RATIO = ArgType("ratio", _RATIO_WIRE, 5, lambda w: w.replace("x", ":"), _ratio_dump)  # "16:9" ↔ 16x9
RES = _regex("res", r"[1-9][0-9]?K", 3)                    # 1K, 2K, 4K
QUALITY = _enum("quality", "low", "medium", "high", "auto")
FORMAT = _enum("format", "png", "jpeg", "webp")
LANG = _enum("lang", "uz", "ru", "en")
SETTING = _enum("setting", "ar", "res", "q", "fmt", "n")   # wizard settings rows
STEP = _enum("step", "model", "prompt", "refs", "settings")
DOC = _enum("doc", "terms", "privacy", "support", "paysupport", "prices")
SECTION = _enum("section", "users", "pricing", "packages", "referrals", "templates", "transactions",
                "system", "log", "broadcast")
USER_ACTION = _enum("uaction", "ban", "unban", "grant", "deduct", "role", "jobs", "pays")
ROLE = _enum("role", "user", "support", "admin")
MODEL_FIELD = _enum("mfield", "base", "res", "quality", "ref", "maxrefs", "maxcount", "conc")
PACKAGE_FIELD = _enum("pfield", "stars", "tokens", "bonus", "sort")
REF_MODE = _enum("mode", "every", "first")
PERIOD = _enum("period", "all", "day", "week")              # admin lists: everything, last 24 h, last 7 days
JOB_VIEW = _enum("jview", "queued", "running", "failed")     # admin: stuck and failed jobs
TKIND = _enum("tkind", "all", "topup", "bonus", "hold", "settle", "refund", "adjust", "grant", "cashback",
              "stars_refund")                                 # admin: ledger transfers by kind
OFF_MODE = _enum("offmode", "keep", "refund")                # admin: switching a model off, its queued jobs
MOVE = _enum("move", "up", "down")                           # admin: reorder packages, templates
TPL_FIELD = _enum("tfield", "title", "prompt", "model", "settings", "photo")
FEATURE = _enum("feature", "templates", "referrals", "topups")
ON_OFF = _enum("onoff", "on", "off")
BC_PART = _enum("bcpart", "text", "photo", "nophoto", "button", "nobutton")  # broadcast composer
BC_SEG = _enum("bcseg", "lang", "active", "paid", "balance", "referred")     # broadcast segment picker

# --- the route table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    screen: str
    action: str
    args: tuple[ArgType, ...]
    doc: str

    @property
    def max_len(self) -> int:
        return len(self.screen) + 1 + len(self.action) + sum(1 + a.max_len for a in self.args)


_TABLE: list[tuple[str, str, tuple[ArgType, ...], str]] = [
    # main menu
    ("menu", "open", (), "main menu (also 🏠 Menu everywhere)"),
    ("menu", "noop", (), "an inert button such as a page counter"),
    # generate wizard: the draft id (hex) makes buttons of an older draft stale
    ("gen", "new", (), "start a new draft: model list"),
    ("gen", "model", (SLUG,), "pick a model for the current draft"),
    ("gen", "tpl", (HEX,), "prompt step: pick a template"),
    ("gen", "skip", (HEX,), "references: skip"),
    ("gen", "rdone", (HEX,), "references: done"),
    ("gen", "rclear", (HEX,), "references: clear"),
    ("gen", "rlast", (HEX,), "references: remove the last one added"),
    ("gen", "opts", (HEX,), "settings screen"),
    ("gen", "opt", (HEX, SETTING), "open the choice list of one setting"),
    ("gen", "ar", (HEX, RATIO), "choose an aspect ratio"),
    ("gen", "res", (HEX, RES), "choose a resolution"),
    ("gen", "q", (HEX, QUALITY), "choose a quality"),
    ("gen", "fmt", (HEX, FORMAT), "choose an output format"),
    ("gen", "n", (HEX, COUNT), "choose the number of images"),
    ("gen", "next", (HEX,), "settings done: confirm screen"),
    ("gen", "go", (HEX, PRICE), "confirm at the price shown (a changed price re-renders instead)"),
    ("gen", "edit", (HEX,), "confirm: what to edit"),
    ("gen", "step", (HEX, STEP), "go back to one wizard step"),
    ("gen", "cancel", (HEX,), "cancel the draft"),
    # progress, result and failure of a job
    ("res", "status", (HEX,), "refresh the progress panel"),
    ("res", "again", (HEX,), "same request again"),
    ("res", "edit", (HEX,), "new draft from the job, at the prompt step"),
    ("res", "retry", (HEX,), "failure: try again"),
    ("res", "other", (HEX,), "failure: same prompt, other model"),
    ("res", "new", (), "a new generation"),
    # history
    ("hist", "page", (PAGE,), "history list page"),
    ("hist", "open", (HEX, PAGE), "job detail (page to return to)"),
    ("hist", "send", (HEX,), "send the results again"),
    ("hist", "regen", (HEX,), "regenerate"),
    ("hist", "reuse", (HEX,), "new draft with this prompt"),
    ("hist", "del", (HEX, PAGE), "ask before deleting a generation from the history (page to return to)"),
    ("hist", "delok", (HEX, PAGE), "delete it: unlisted, its images removed from storage"),
    # balance, top-up, payments
    ("bal", "open", (), "balance screen"),
    ("bal", "topup", (), "package list"),
    ("bal", "pkg", (ID,), "send the invoice of a package"),
    ("bal", "pays", (PAGE,), "payments list"),
    ("bal", "pay", (ID,), "one payment"),
    # invite friends, profile
    ("ref", "open", (), "referral screen"),
    ("prof", "open", (), "profile: balance, spending, generations, referral figures"),
    # templates and trending
    ("tpl", "cats", (), "template categories"),
    ("tpl", "cat", (SLUG, PAGE), "templates of a category, one page"),
    ("tpl", "open", (ID,), "one template"),
    ("tpl", "use", (ID,), "fill the draft from a template"),
    ("trend", "page", (PAGE,), "trending templates"),
    # user settings
    ("set", "open", (), "settings screen"),
    ("set", "langs", (), "language picker"),
    ("set", "lang", (LANG,), "set the language"),
    ("set", "models", (), "default model picker"),
    ("set", "model", (SLUG,), "set the default model"),
    ("set", "automodel", (), "follow the admin's default model"),
    ("set", "ratios", (), "default aspect ratio picker"),
    ("set", "ratio", (RATIO,), "set the default aspect ratio"),
    ("set", "noratio", (), "use each model's own default aspect ratio"),
    # help
    ("help", "open", (), "help screen"),
    ("help", "doc", (DOC,), "terms / privacy / support / paysupport / prices"),
    # admin panel (every handler re-checks the role in the service layer)
    ("adm", "home", (), "admin panel"),
    ("adm", "sec", (SECTION,), "open a section"),
    ("adm", "cancel", (), "cancel a text-input step"),
    ("adm", "yes", (HEX,), "confirm a pending destructive or money action (e.g. a refund)"),
    ("adm", "no", (HEX,), "drop a pending action"),
    ("adm", "users", (PAGE,), "user list page"),
    ("adm", "user", (ID,), "user card (Telegram id)"),
    ("adm", "uact", (ID, USER_ACTION), "user action: ban, unban, grant, deduct, role, jobs, pays"),
    ("adm", "role", (ID, ROLE), "set a user's role"),
    ("adm", "models", (), "models and prices"),
    ("adm", "model", (SLUG,), "one model"),
    ("adm", "mtog", (SLUG,), "enable/disable a model"),
    ("adm", "mdef", (SLUG,), "make a model the default"),
    ("adm", "mset", (SLUG, MODEL_FIELD), "edit a model price or limit (text input)"),
    ("adm", "pkgs", (), "package list"),
    ("adm", "pkg", (ID,), "one package"),
    ("adm", "ptog", (ID,), "activate/deactivate a package"),
    ("adm", "pset", (ID, PACKAGE_FIELD), "edit a package field (text input)"),
    ("adm", "padd", (), "new package (text input)"),
    ("adm", "refs", (), "referral rule"),
    ("adm", "refpct", (), "change the referral % (text input)"),
    ("adm", "refmode", (REF_MODE,), "cashback on every or the first top-up"),
    ("adm", "tpls", (PAGE,), "template list page"),
    ("adm", "tpl", (ID,), "one template"),
    ("adm", "ttog", (ID,), "show/hide a template"),
    ("adm", "tpin", (ID,), "pin/unpin a template"),
    ("adm", "tdel", (ID,), "delete a template (asks to confirm)"),
    ("adm", "tadd", (), "new template (text input)"),
    ("adm", "txs", (PAGE,), "payments/transactions page"),
    ("adm", "tx", (ID,), "one payment"),
    ("adm", "refund", (ID,), "refund a payment: asks a reason, then adm:yes"),
    ("adm", "sys", (), "system status"),
    ("adm", "pcheck", (), "check provider keys"),
    ("adm", "sset", (SLUG,), "edit an admin setting (text input)"),
    ("adm", "log", (PAGE,), "admin action log page"),
    ("adm", "find", (), "ask for a user search (id, @username, name, charge id, referral code)"),
    ("adm", "ujobs", (ID, PAGE), "a user's generations (Telegram id, page)"),
    ("adm", "upays", (ID, PAGE), "a user's payments (Telegram id, page)"),
    ("adm", "job", (HEX,), "one generation, admin view"),
    ("adm", "jretry", (HEX,), "put a stuck generation back in the queue"),
    ("adm", "jrefund", (HEX,), "refund a stuck generation (asks a reason, then adm:yes)"),
    ("adm", "jobs", (JOB_VIEW, PAGE), "queued, running or failed generations"),
    ("adm", "txp", (PERIOD,), "payments of a period (all, last 24 h, last 7 days)"),
    ("adm", "txu", (), "payments of one user (text input)"),
    ("adm", "trs", (PERIOD, TKIND, PAGE), "ledger transfers of a period, all or of one kind"),
    ("adm", "logq", (), "filter the admin log by actor or target (text input)"),
    ("adm", "logall", (), "the admin log without a filter"),
    ("adm", "moff", (SLUG, OFF_MODE), "switch a model off, keeping or refunding its queued jobs (confirm)"),
    ("adm", "mres", (SLUG, RES), "edit a model's extra for one resolution (text input)"),
    ("adm", "mq", (SLUG, QUALITY), "edit a model's extra for one quality (text input)"),
    ("adm", "pmove", (ID, MOVE), "move a package up or down"),
    ("adm", "reftog", (), "referral programme on/off"),
    ("adm", "tmove", (ID, MOVE), "move a template up or down in its category"),
    ("adm", "tedit", (ID, TPL_FIELD), "edit a template's titles, prompts, model, settings or preview photo"),
    ("adm", "tnew", (SLUG,), "new template in a category (text input)"),
    ("adm", "tcats", (), "template categories"),
    ("adm", "tcat", (SLUG,), "rename a template category (text input)"),
    ("adm", "tcatnew", (), "new template category (text input)"),
    ("adm", "ftog", (FEATURE,), "feature toggle on/off"),
    ("adm", "maint", (ON_OFF,), "maintenance mode on (asks the message, confirm) or off"),
    ("adm", "bcs", (), "broadcasts: the newest and New"),
    ("adm", "bc", (ID,), "one broadcast: its composer (draft) or its progress"),
    ("adm", "bcnew", (), "new broadcast (text input)"),
    ("adm", "bcedit", (ID, BC_PART), "broadcast text / photo / button (input), or remove photo / button"),
    ("adm", "bcseg", (ID,), "broadcast segment picker"),
    ("adm", "bcsegset", (ID, BC_SEG), "next language / activity window, or a criterion on/off"),
    ("adm", "bctest", (ID,), "send the broadcast to the admin pressing it"),
    ("adm", "bcgo", (ID,), "start a broadcast (recipients and ETA, then adm:yes)"),
    ("adm", "bcpause", (ID,), "pause a broadcast"),
    ("adm", "bcresume", (ID,), "resume a broadcast"),
    ("adm", "bccancel", (ID,), "cancel a broadcast or discard a draft (then adm:yes)"),
]

ROUTES: dict[tuple[str, str], Route] = {}
for _screen, _action, _args, _doc in _TABLE:
    if (_screen, _action) in ROUTES:  # pragma: no cover - a typo in the table
        raise RuntimeError(f"duplicate route {_screen}:{_action}")
    ROUTES[(_screen, _action)] = Route(_screen, _action, _args, _doc)
del _screen, _action, _args, _doc

_NAME = re.compile(r"[a-z][a-z0-9]{0,11}")
assert all(_NAME.fullmatch(s) and _NAME.fullmatch(a) for s, a in ROUTES)


# --- codec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    screen: str
    action: str
    args: tuple[Any, ...] = ()

    @property
    def data(self) -> bytes:
        return encode(self.screen, self.action, *self.args)


def encode(screen: str, action: str, *args: Any) -> bytes:
    """Button data for a declared route; raises :class:`CallbackError` if invalid or > 64 bytes."""
    route = ROUTES.get((screen, action)) if isinstance(screen, str) and isinstance(action, str) else None
    if route is None:
        raise CallbackError(f"unknown route {screen!r}:{action!r}")
    if len(args) != len(route.args):
        raise CallbackError(f"{screen}:{action} takes {len(route.args)} argument(s), got {len(args)}")
    parts = [screen, action] + [kind.to_wire(value) for kind, value in zip(route.args, args)]
    data = SEP.join(parts).encode("ascii")
    if len(data) > MAX_BYTES:
        raise CallbackError(f"{screen}:{action} data is {len(data)} bytes, the limit is {MAX_BYTES}")
    return data


def decode(data: bytes | bytearray | memoryview | str) -> Callback:
    """Parse button data; anything not produced by :func:`encode` raises :class:`StaleButton`."""
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise StaleButton("non-ASCII data") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise StaleButton("callback data must be bytes")
    raw = bytes(data)
    if not raw or len(raw) > MAX_BYTES:
        raise StaleButton("empty or oversize data")
    if any(b < 0x21 or b > 0x7E for b in raw):
        raise StaleButton("non-printable or non-ASCII data")
    parts = raw.decode("ascii").split(SEP)
    if len(parts) < 2:
        raise StaleButton("no action")
    route = ROUTES.get((parts[0], parts[1]))
    if route is None:
        raise StaleButton("unknown route")
    wires = parts[2:]
    if len(wires) != len(route.args):
        raise StaleButton("wrong number of arguments")
    return Callback(route.screen, route.action, tuple(kind.from_wire(w) for kind, w in zip(route.args, wires)))


def try_decode(data: Any) -> Callback | None:
    """:func:`decode`, or ``None`` for a stale button."""
    try:
        return decode(data)
    except StaleButton:
        return None


# The message whose button is being handled (set by the bot around a handler call; handlers run in
# a thread that inherits it). Lets a handler tell a double tap (same message) from a new press.
PRESSED_MESSAGE: ContextVar[int | None] = ContextVar("pressed_message", default=None)
