"""Broadcasts: one message (a text, optionally one photo and one URL button) to every user or a segment.

* A broadcast starts as a ``draft`` (:func:`create`, :func:`edit`, :func:`store_photo`), can be sent to
  the composing admin as a test (:func:`test_send`: an ordinary outbox row, not counted) and is started
  with :func:`start`. Every call needs ``broadcast.send`` (admins only) and writes the admin log in the
  transaction of its change.
* Starting freezes the recipient list: the users of the segment (never banned ones, nor those known to
  have blocked the bot) get one outbox row each, tagged with ``broadcast_id``, inserted in chunks of
  :data:`CHUNK` in keyset order. The dedupe key ``bc:<broadcast>:<user>`` makes the freeze idempotent:
  a start interrupted half-way (status ``starting``) is finished by :func:`resume_freezing` (the bot's
  start) or :func:`resume`, and no user ever gets two rows.
* Delivery sends the rows through the one outbox at Telegram's pace under the send limit shared with
  every other message; ``outbox.claim`` takes user-facing rows first and the rows of ``running``
  broadcasts only. :func:`pause` / :func:`resume` stop and restart that; :func:`cancel` drops what
  was not sent yet (its rows are dropped: ``dead``, ``last_error`` "cancelled").
* :func:`progress` counts the rows: sent, blocked (the user blocked the bot), failed (given up after
  retries), queued, cancelled; a running broadcast with nothing queued is ``done``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import peewee as pw

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import Broadcast, Job, Outbox, Panel, User, utcnow
from bananapics.services import audit
from bananapics.services.audit import Actor
from bananapics.services.outbox import BLOCKED_ERRORS

PERMISSION = "broadcast.send"
KIND = "broadcast"  # the outbox kind of a broadcast message (a recipient's row and a test send)
TEXT_MAX = 4096  # Telegram's message limit
CAPTION_MAX = 1024  # a photo's caption
LABEL_MAX = 64
URL_MAX = 512
CHUNK = 1000  # recipient rows inserted per transaction when a broadcast starts
LANGS = ("uz", "ru", "en")
ACTIVE_DAYS = (1, 7, 30, 90)
PHOTO_PREFIX = "broadcasts/"
PHOTO_SIDE = 2048
EDITABLE = ("draft",)
LIVE = ("starting", "running", "paused")
_SCHEMES = ("https", "http")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:\d{1,5})?$")


# ------------------------------------------------------------------ the audience


@dataclass(frozen=True)
class Segment:
    """Who gets a broadcast; every criterion set must hold (no criterion: every user)."""

    lang: str | None = None  # the user's language
    active_days: int | None = None  # used the bot in the last N days
    paid: bool = False  # topped up at least once
    balance: bool = False  # has tokens
    referred: bool = False  # joined through a referral link

    def __post_init__(self) -> None:
        if self.lang is not None and self.lang not in LANGS:
            raise InvalidInput(f"unknown language {self.lang!r}; choose {', '.join(LANGS)}", title="broadcast_segment")
        if self.active_days is not None and not (isinstance(self.active_days, int) and 1 <= self.active_days <= 3650):
            raise InvalidInput(f"active days must be 1..3650, not {self.active_days!r}", title="broadcast_segment")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Segment":
        data = data or {}
        unknown = set(data) - {"lang", "active_days", "paid", "balance", "referred"}
        if unknown:
            raise InvalidInput(f"unknown segment criteria: {', '.join(sorted(unknown))}", title="broadcast_segment")
        return cls(lang=data.get("lang"), active_days=data.get("active_days"), paid=bool(data.get("paid")),
                   balance=bool(data.get("balance")), referred=bool(data.get("referred")))

    @classmethod
    def parse(cls, items: list[str]) -> "Segment":
        """The CLI's ``--segment`` items: ``all``, ``lang=ru``, ``active=7``, ``paid``, ``balance``, ``referred``."""
        values: dict[str, Any] = {}
        for item in items:
            name, _, value = item.strip().partition("=")
            name = name.strip().lower()
            if name == "all" and not value:
                continue
            if name == "lang" and value:
                values["lang"] = value.strip().lower()
            elif name == "active" and value:
                if not value.strip().isdigit():
                    raise InvalidInput(f"active={value}: a number of days", title="broadcast_segment")
                values["active_days"] = int(value.strip())
            elif name in ("paid", "balance", "referred") and not value:
                values[name] = True
            else:
                raise InvalidInput(f"unknown segment {item!r}: use all, lang=uz|ru|en, active=DAYS, paid, balance "
                                   "or referred", title="broadcast_segment")
        return cls(**values)

    def describe(self) -> str:
        """"everyone" or "lang=ru, active 7 d, paid" (the CLI and the admin log)."""
        parts = []
        if self.lang:
            parts.append(f"lang={self.lang}")
        if self.active_days:
            parts.append(f"active {self.active_days} d")
        parts += [name for name in ("paid", "balance", "referred") if getattr(self, name)]
        return ", ".join(parts) or "everyone"


def _audience(segment: Segment, now: dt.datetime | None = None) -> pw.Expression:
    """The users a broadcast reaches: the segment, never banned, not known to have blocked the bot."""
    cond = (User.banned == False) & (User.blocked_bot == False)  # noqa: E712 - SQL
    if segment.lang:
        cond &= User.language == segment.lang
    if segment.paid:
        cond &= User.first_topup_at.is_null(False)
    if segment.balance:
        cond &= User.available > 0
    if segment.referred:
        cond &= User.referrer.is_null(False)
    if segment.active_days:
        since = (now or utcnow()) - dt.timedelta(days=segment.active_days)
        # the bot shows a user a panel on every interaction; a job counts too (a result being delivered)
        panel = Panel.select(Panel.user).where((Panel.user == User.id) & (Panel.updated_at >= since))
        job = Job.select(Job.id).where((Job.user == User.id) & (Job.created_at >= since))
        cond &= (User.created_at >= since) | pw.fn.EXISTS(panel) | pw.fn.EXISTS(job)
    return cond


def audience_count(segment: Segment, *, actor: Actor) -> int:
    """How many users a broadcast to ``segment`` would reach now."""
    audit.authorize(actor, PERMISSION, "broadcast")
    with connection():
        return User.select().where(_audience(segment)).count()


def eta_seconds(messages: int, per_second: float) -> int:
    """The least time ``messages`` take at the send limit (other sends share it: at least this long)."""
    return math.ceil(max(0, messages) / max(per_second, 0.1))


# ------------------------------------------------------------------ what is sent


def check_text(text: str, *, photo: bool) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("the message is empty", title="broadcast_text_empty")
    if len(cleaned) > TEXT_MAX:
        raise InvalidInput(f"the message is {len(cleaned)} characters; Telegram takes {TEXT_MAX}",
                           title="broadcast_text_long")
    if photo and len(cleaned) > CAPTION_MAX:
        raise InvalidInput(f"with a photo the text is its caption: at most {CAPTION_MAX} characters "
                           f"(it has {len(cleaned)})", title="broadcast_caption_long")
    return cleaned


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if (len(url) > URL_MAX or parts.scheme.lower() not in _SCHEMES or not parts.netloc or any(c.isspace() for c in url)
            or not url.isprintable() or parts.username or parts.password or not _HOST.match(parts.netloc)):
        raise InvalidInput(f"{url[:80]!r} is not a web link (https://…)", title="broadcast_button_url")
    return url


def parse_button(text: str) -> tuple[str, str]:
    """"Label | https://…" → (label, url)."""
    label, bar, url = (text or "").partition("|")
    if not bar:
        raise InvalidInput("write the button as: Label | https://…", title="broadcast_button_format")
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX or not label.isprintable():
        raise InvalidInput(f"the button label must be 1–{LABEL_MAX} characters", title="broadcast_button_label")
    return label, check_url(url)


@dataclass(frozen=True)
class Message:
    """What a recipient gets."""

    id: int
    text: str
    photo_key: str | None
    button: tuple[str, str] | None


def message(broadcast_id: int) -> Message:
    """The message of a broadcast, for its outbox rows (the delivery loop; no actor)."""
    b = _get(broadcast_id)
    button = (b.button_label, b.button_url) if b.button_label and b.button_url else None
    return Message(b.id, b.text, b.photo_key, button)


# ------------------------------------------------------------------ composing


def _get(broadcast_id: int) -> Broadcast:
    with connection():
        b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
    if b is None:
        raise NotFound(f"broadcast #{broadcast_id} not found")
    return b


def snapshot(b: Broadcast) -> dict[str, Any]:
    return {"text": b.text, "photo": b.photo_key, "button": [b.button_label, b.button_url] if b.button_url else None,
            "segment": b.segment_dict, "status": b.status}


def get(broadcast_id: int, *, actor: Actor) -> Broadcast:
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    return _get(broadcast_id)


def create(text: str, *, actor: Actor, segment: Segment | None = None, photo_key: str | None = None,
           button: tuple[str, str] | None = None) -> Broadcast:
    """A new draft."""
    audit.authorize(actor, PERMISSION, "broadcast")
    text = check_text(text, photo=photo_key is not None)
    if button is not None:
        button = parse_button(f"{button[0]}|{button[1]}")
    segment = segment or Segment()
    with atomic():
        b = Broadcast.create(text=text, photo_key=photo_key, button_label=button[0] if button else None,
                             button_url=button[1] if button else None, segment=json.dumps(segment.to_dict()),
                             created_by=actor.name[:96])
        audit.record(actor, "broadcast.create", f"broadcast:{b.id}", after=snapshot(b))
    return b


_UNSET: Any = object()


def edit(broadcast_id: int, *, actor: Actor, text: str | None = None, photo_key: Any = _UNSET,
         button: Any = _UNSET, segment: Segment | None = None) -> Broadcast:
    """Change a draft (``photo_key=None`` / ``button=None`` take them away); a test is due again."""
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    with atomic():
        b = Broadcast.select().where(Broadcast.id == broadcast_id).for_update().first() if _pg() else \
            Broadcast.get_or_none(Broadcast.id == broadcast_id)
        if b is None:
            raise NotFound(f"broadcast #{broadcast_id} not found")
        if b.status not in EDITABLE:
            raise InvalidInput(f"broadcast #{broadcast_id} is {b.status}: only a draft can change",
                               title="broadcast_status")
        before = snapshot(b)
        new_photo = b.photo_key if photo_key is _UNSET else photo_key
        changes: dict[str, Any] = {"tested_at": None}
        if text is not None or photo_key is not _UNSET:
            changes["text"] = check_text(text if text is not None else b.text, photo=new_photo is not None)
        if photo_key is not _UNSET:
            changes["photo_key"] = photo_key
        if button is not _UNSET:
            label_url = parse_button(f"{button[0]}|{button[1]}") if button is not None else (None, None)
            changes["button_label"], changes["button_url"] = label_url
        if segment is not None:
            changes["segment"] = json.dumps(segment.to_dict())
        Broadcast.update(changes).where(Broadcast.id == broadcast_id).execute()
        b = Broadcast.get_by_id(broadcast_id)
        audit.record(actor, "broadcast.edit", f"broadcast:{broadcast_id}", before=before, after=snapshot(b))
    return b


def store_photo(storage: Any, broadcast_id: int, data: bytes, *, actor: Actor) -> Broadcast:
    """Check and re-encode the photo (no metadata, ≤ 2048 px), store it and put it on the draft."""
    from bananapics.images import thumbnail

    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    b = _get(broadcast_id)
    if b.status not in EDITABLE:
        raise InvalidInput(f"broadcast #{broadcast_id} is {b.status}: only a draft can change", title="broadcast_status")
    check_text(b.text, photo=True)  # the text must fit a caption before the photo is stored
    image = thumbnail(data, side=PHOTO_SIDE)
    key = f"{PHOTO_PREFIX}{broadcast_id}-{hashlib.sha256(image.data).hexdigest()[:16]}.{image.ext}"
    storage.put(key, image.data, image.mime)
    return edit(broadcast_id, actor=actor, photo_key=key)


def test_send(broadcast_id: int, *, actor: Actor) -> Broadcast:
    """Send the message to the admin composing it (an ordinary outbox row: it goes first and is not
    counted in the progress)."""
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    if actor.user_id is None:
        raise InvalidInput("a test goes to a Telegram admin; an operator has no chat", title="broadcast_no_chat")
    with atomic():
        b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
        if b is None:
            raise NotFound(f"broadcast #{broadcast_id} not found")
        me = User.get_by_id(actor.user_id)
        now = utcnow()
        Outbox.insert(dedupe_key=f"bctest:{broadcast_id}:{me.id}:{now.timestamp():.6f}"[:96], user=me.id,
                      chat_id=me.tg_id, kind=KIND, payload=json.dumps({"broadcast": broadcast_id, "test": True})
                      ).on_conflict_ignore().execute()
        Broadcast.update(tested_at=now).where(Broadcast.id == broadcast_id).execute()
        audit.record(actor, "broadcast.test", f"broadcast:{broadcast_id}", after={"to": me.tg_id})
        b.tested_at = now
    return b


# ------------------------------------------------------------------ sending


def start(broadcast_id: int, *, actor: Actor, require_test: bool = False) -> Broadcast:
    """Freeze the recipients (in chunks) and let delivery send. ``require_test``: the bot's panel
    starts only a draft tested since its last change."""
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    with atomic():
        b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
        if b is None:
            raise NotFound(f"broadcast #{broadcast_id} not found")
        if b.status != "draft":
            raise InvalidInput(f"broadcast #{broadcast_id} is {b.status}, not a draft", title="broadcast_status")
        if require_test and b.tested_at is None:
            raise InvalidInput("send yourself a test first", title="broadcast_untested")
        moved = (Broadcast.update(status="starting", started_at=utcnow())
                 .where((Broadcast.id == broadcast_id) & (Broadcast.status == "draft")).execute())
        if moved != 1:
            raise InvalidInput(f"broadcast #{broadcast_id} was started already", title="broadcast_status")
        audit.record(actor, "broadcast.start", f"broadcast:{broadcast_id}", before={"status": "draft"},
                     after={"status": "running", "segment": b.segment_dict,
                            "recipients": User.select().where(_audience(Segment.from_dict(b.segment_dict))).count()})
    _freeze(broadcast_id)
    return _get(broadcast_id)


def _freeze(broadcast_id: int) -> int:
    """Insert the recipient rows of a ``starting`` broadcast (idempotent, from where it stopped), then
    mark it running (or leave it paused/cancelled if that happened meanwhile). Returns the total."""
    b = _get(broadcast_id)
    segment = Segment.from_dict(b.segment_dict)
    cond = _audience(segment, now=b.started_at)
    with connection():
        last = (Outbox.select(pw.fn.MAX(Outbox.user)).where(Outbox.broadcast_id == broadcast_id).scalar()) or 0
    payload = json.dumps({"broadcast": broadcast_id})
    while True:
        with atomic():
            chunk = list(User.select(User.id, User.tg_id).where(cond & (User.id > last)).order_by(User.id).limit(CHUNK))
            if not chunk:
                break
            now = utcnow()
            Outbox.insert_many([
                {"dedupe_key": f"bc:{broadcast_id}:{u.id}", "user": u.id, "chat_id": u.tg_id, "kind": KIND,
                 "payload": payload, "broadcast_id": broadcast_id, "next_try_at": now, "created_at": now}
                for u in chunk]).on_conflict_ignore().execute()
            last = chunk[-1].id
    with atomic():
        total = Outbox.select().where(Outbox.broadcast_id == broadcast_id).count()
        Broadcast.update(total=total).where(Broadcast.id == broadcast_id).execute()
        Broadcast.update(status="running").where((Broadcast.id == broadcast_id)
                                                 & (Broadcast.status == "starting")).execute()
        if _get(broadcast_id).status == "cancelled":  # cancelled while the list was being frozen
            _drop_pending(broadcast_id)
    return total


def resume_freezing() -> int:
    """At the bot's start: finish the recipient lists a crash left half-frozen. Returns how many."""
    with connection():
        ids = [b.id for b in Broadcast.select(Broadcast.id).where(Broadcast.status == "starting")]
    for broadcast_id in ids:
        _freeze(broadcast_id)
    return len(ids)


def _move(broadcast_id: int, *, actor: Actor, action: str, frm: tuple[str, ...], to: str,
          reason: str | None = None) -> Broadcast:
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    with atomic():
        b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
        if b is None:
            raise NotFound(f"broadcast #{broadcast_id} not found")
        if b.status not in frm:
            raise InvalidInput(f"broadcast #{broadcast_id} is {b.status}; it can be {action}d only when "
                               f"{' or '.join(frm)}", title="broadcast_status")
        Broadcast.update(status=to, **({"finished_at": utcnow()} if to == "cancelled" else {})) \
            .where((Broadcast.id == broadcast_id) & (Broadcast.status == b.status)).execute()
        dropped = _drop_pending(broadcast_id) if to == "cancelled" else 0
        audit.record(actor, f"broadcast.{action}", f"broadcast:{broadcast_id}", before={"status": b.status},
                     after={"status": to, **({"dropped": dropped} if to == "cancelled" else {})}, reason=reason)
    return _get(broadcast_id)


CANCELLED = "cancelled"  # outbox.last_error of a recipient row dropped by a cancel (status dead: never sent)


def _drop_pending(broadcast_id: int) -> int:
    return (Outbox.update(status="dead", last_error=CANCELLED, locked_until=None)
            .where((Outbox.broadcast_id == broadcast_id) & (Outbox.status == "pending")).execute())


def pause(broadcast_id: int, *, actor: Actor) -> Broadcast:
    """Stop sending (rows already handed to Telegram finish); :func:`resume` goes on."""
    return _move(broadcast_id, actor=actor, action="pause", frm=("running", "starting"), to="paused")


def resume(broadcast_id: int, *, actor: Actor) -> Broadcast:
    b = _move(broadcast_id, actor=actor, action="resume", frm=("paused",), to="running")
    with connection():
        frozen = Outbox.select().where(Outbox.broadcast_id == broadcast_id).count()
    if frozen != b.total:  # paused before the list was frozen whole
        _freeze(broadcast_id)
    return _get(broadcast_id)


def cancel(broadcast_id: int, *, actor: Actor, reason: str | None = None) -> Broadcast:
    """Nothing more is sent: the rows not handed to Telegram yet are dropped (dead, "cancelled")."""
    return _move(broadcast_id, actor=actor, action="cancel", frm=("draft", *LIVE), to="cancelled", reason=reason)


# ------------------------------------------------------------------ progress


@dataclass(frozen=True)
class Progress:
    id: int
    status: str
    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    queued: int = 0
    cancelled: int = 0
    eta_s: int = 0
    text: str = ""
    segment: dict[str, Any] = field(default_factory=dict)
    created_by: str = ""
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    photo: bool = False
    button: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["button"] = list(self.button) if self.button else None
        for key in ("created_at", "started_at", "finished_at"):
            data[key] = data[key].isoformat(sep=" ", timespec="seconds") if data[key] else None
        return data


def _count(b: Broadcast, per_second: float) -> Progress:
    counts: dict[str, int] = {}
    why = pw.Case(None, [(Outbox.last_error.in_(BLOCKED_ERRORS), "blocked"), (Outbox.last_error == CANCELLED, CANCELLED)],
                  "failed")
    rows = (Outbox.select(Outbox.status, why.alias("why"), pw.fn.COUNT(Outbox.id).alias("n"))
            .where(Outbox.broadcast_id == b.id).group_by(Outbox.status, why).tuples())
    for status, reason, n in rows:
        if status == "sent":
            key = "sent"
        elif status == "dead":
            key = reason
        else:
            key = "queued"
        counts[key] = counts.get(key, 0) + n
    queued = counts.get("queued", 0)
    if b.status == "starting":  # the list is still being frozen: the rest count as queued
        queued += max(0, b.total - sum(counts.values()))
    button = (b.button_label, b.button_url) if b.button_url else None
    return Progress(b.id, b.status, max(b.total, sum(counts.values())), counts.get("sent", 0),
                    counts.get("blocked", 0), counts.get("failed", 0), queued, counts.get("cancelled", 0),
                    eta_seconds(queued, per_second) if b.status in ("running", "starting") else 0,
                    b.text, b.segment_dict, b.created_by, b.created_at, b.started_at, b.finished_at,
                    b.photo_key is not None, button)


def progress(broadcast_id: int, *, actor: Actor, per_second: float = 28) -> Progress:
    """Live counts of one broadcast; a running one with nothing left to send becomes ``done``."""
    audit.authorize(actor, PERMISSION, f"broadcast:{broadcast_id}")
    b = _get(broadcast_id)
    with connection():
        p = _count(b, per_second)
    if p.status == "running" and p.queued == 0:
        with atomic():
            Broadcast.update(status="done", finished_at=utcnow()).where(
                (Broadcast.id == broadcast_id) & (Broadcast.status == "running")).execute()
        b = _get(broadcast_id)
        with connection():
            p = _count(b, per_second)
    return p


def recent(*, actor: Actor, limit: int = 10, per_second: float = 28) -> list[Progress]:
    """The newest broadcasts with their counts."""
    audit.authorize(actor, PERMISSION, "broadcast")
    with connection():
        ids = [b.id for b in Broadcast.select(Broadcast.id).order_by(Broadcast.id.desc()).limit(limit)]
    return [progress(i, actor=actor, per_second=per_second) for i in ids]


def _pg() -> bool:
    from bananapics.db import is_postgres

    return is_postgres()
