"""Users: registration from Telegram, lookup, admin search, roles and bans.

Every admin change (role, ban, unban) is authorised here and logged with before/after in the same
transaction. Bootstrap admins come from config (numeric Telegram ids, never usernames).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import peewee as pw

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import User, db, utcnow
from bananapics.models.users import ROLES
from bananapics.services import audit, ledger, outbox
from bananapics.services.audit import Actor

LANGUAGES = ("uz", "ru", "en")
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
CODE_LENGTH = 8
MAX_TG_ID = 2**53  # Telegram ids fit in 52 bits


@dataclass(frozen=True)
class Registration:
    user: User

    @property
    def created(self) -> bool:
        """This call created the user (the row says so itself: ``User.registered_now``)."""
        return self.user.registered_now


def pick_language(language_code: str | None, default: str = "uz") -> str:
    """Telegram's ``lang_code`` (``ru``, ``en-US``, ``uz``) → one of our languages."""
    code = (language_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


def new_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_tg_id(tg_id: int) -> int:
    if isinstance(tg_id, bool) or not isinstance(tg_id, int) or not 0 < tg_id < MAX_TG_ID:
        raise InvalidInput(f"{tg_id!r} is not a Telegram user id")
    return tg_id


# Zero-width (non-)joiners are not printable but not controls either: they hold emoji sequences
# together ("👩‍👩‍👧" is one family, not three people) and words of some scripts; names keep them.
_JOINERS = "\u200c\u200d"


def _clean(value: str | None, limit: int) -> str:
    return "".join(ch for ch in (value or "") if ch.isprintable() or ch in _JOINERS)[:limit]


def _create(tg_id: int, *, username: str | None, first_name: str, last_name: str, language: str, role: str,
            welcomed: bool = False) -> User:
    """Insert the user with a fresh referral code. ``ON CONFLICT DO NOTHING`` instead of catching an
    IntegrityError: no savepoint per attempt (the common path is one statement). A taken Telegram id
    (a concurrent registration) raises IntegrityError as before; a taken code draws another."""
    for _ in range(5):
        code = new_referral_code()
        inserted = (User.insert(tg_id=tg_id, username=username, first_name=first_name, last_name=last_name,
                                language=language, role=role, referral_code=code, welcomed=welcomed)
                    .on_conflict_ignore().returning(User).execute())
        user = next(iter(inserted), None)
        if user is not None:
            return user
        if User.by(User.tg_id, tg_id) is not None:
            raise pw.IntegrityError(f"user {tg_id} exists")
    raise RuntimeError("could not draw a unique referral code")  # pragma: no cover - 31^8 codes


def register(tg_id: int, *, username: str | None = None, first_name: str = "", last_name: str = "",
             language_code: str | None = None, default_language: str = "uz", start_balance: int = 0,
             bootstrap_admins: Iterable[int] = (), welcomed: bool = False) -> Registration:
    """Get or create the user behind a Telegram update; refreshes names, grants the welcome balance once.

    ``welcomed``: the update that creates the user greets them itself (a ``/start``), so the row is
    stored already welcomed (no second write for it)."""
    check_tg_id(tg_id)
    username = _clean(username, 64) or None
    first_name, last_name = _clean(first_name, 128), _clean(last_name, 128)
    with connection():
        user = User.by(User.tg_id, tg_id)
        if user is None:
            role = "admin" if tg_id in set(bootstrap_admins) else "user"
            try:
                # The welcome grant commits with the user row: granted exactly once, at creation, so a
                # later change of the configured amount never touches existing users.
                with atomic():
                    user = _create(tg_id, username=username, first_name=first_name, last_name=last_name,
                                   language=pick_language(language_code, default_language), role=role,
                                   welcomed=welcomed)
                    if start_balance > 0:
                        granted = ledger.grant(user.id, start_balance, f"welcome:{user.id}", reason="welcome balance")
                        if not granted.replayed:
                            user.available += granted.amount  # the row as it is now, without reading it back
                user.registered_now = True
            except pw.IntegrityError:  # created concurrently by another update
                user = User.get(User.tg_id == tg_id)
        elif (user.username, user.first_name, user.last_name) != (username, first_name, last_name):
            User.update(username=username, first_name=first_name, last_name=last_name, updated_at=utcnow()) \
                .where(User.id == user.id).execute()
            user.username, user.first_name, user.last_name = username, first_name, last_name
    return Registration(user)


def add(tg_id: int, *, username: str | None = None, role: str = "user", actor: Actor) -> User:
    """An operator creates a user by Telegram id (before they ever wrote to the bot)."""
    audit.authorize(actor, "users.add", f"user:{tg_id}")
    check_tg_id(tg_id)
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose {', '.join(ROLES)}")
    with atomic():
        if User.get_or_none(User.tg_id == tg_id) is not None:
            raise InvalidInput(f"user {tg_id} already exists")
        user = _create(tg_id, username=_clean(username, 64).lstrip("@") or None, first_name="", last_name="",
                       language="uz", role=role)
        audit.record(actor, "users.add", f"user:{tg_id}", after={"role": role, "username": user.username})
    return user


def get(tg_id: int) -> User:
    check_tg_id(tg_id)  # an id past 64 bits would overflow the query itself
    with connection():
        user = User.by(User.tg_id, tg_id)
    if user is None:
        raise NotFound(f"user {tg_id} not found")
    return user


def get_by_id(user_id: int) -> User:
    with connection():
        user = User.by(User.id, user_id)
    if user is None:
        raise NotFound(f"user #{user_id} not found")
    return user


def search_condition(query: str) -> pw.Expression:
    """The admin search as a condition on users: a number matches the Telegram id, ``@name`` a
    username prefix, text any name part (``services.lists.users`` pages through it)."""
    text = (query or "").strip()
    if not text:
        raise InvalidInput("search needs some text, a @username or a Telegram id")
    digits = text.lstrip("-")
    if digits.isascii() and digits.isdigit():  # "²" passes isdigit() but not int()
        tg_id = int(text)
        return (User.tg_id == tg_id) if -2**63 <= tg_id < 2**63 else pw.SQL("1 = 0")
    needle = _escape_like(text.lower())
    if needle.startswith("@"):  # prefix: a btree (text_pattern_ops) index serves it
        return _like("lower(username)", needle[1:] + "%")
    # substring over username and names: a trigram GIN index serves it on Postgres
    haystack = "lower(coalesce(username, '') || ' ' || first_name || ' ' || last_name)"
    return _like(haystack, "%" + needle + "%")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(expression: str, pattern: str) -> pw.SQL:
    return pw.SQL(f"{expression} LIKE {db.obj.param} ESCAPE '\\'", (pattern,))


# Outbox kinds the bot's delivery loop sends (``bananapics.bot.admin_users``): the user is told once
# about a ban, an unban (and ``services.corrections`` a balance adjustment).
NOTICE_BANNED = "user_banned"
NOTICE_UNBANNED = "user_unbanned"


def _admin_change(tg_id: int, actor: Actor, action: str, changes: dict, reason: str | None,
                  notice: str | None = None) -> User:
    """Apply ``changes`` with an admin-log row; nothing (no row, no notice) when they hold already.
    ``notice``: an outbox kind telling the user, queued in the same transaction (once per change)."""
    check_tg_id(tg_id)
    with atomic():
        user = User.get_or_none(User.tg_id == tg_id)
        if user is None:
            raise NotFound(f"user {tg_id} not found")
        before = {key: getattr(user, key) for key in changes}
        if before == changes:
            return user  # nothing to change, nothing to log
        User.update(**changes, updated_at=utcnow()).where(User.id == user.id).execute()
        audit.record(actor, action, f"user:{tg_id}", before=before, after=changes, reason=reason)
        if notice is not None:
            outbox.enqueue(user_id=user.id, chat_id=user.tg_id, kind=notice, payload={"reason": reason or ""},
                           dedupe_key=f"{notice}:{user.id}:{secrets.token_hex(8)}")
        return User.get_by_id(user.id)


def _need_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise InvalidInput(f"{what} needs a reason")
    return reason.strip()


def ban(tg_id: int, *, reason: str, actor: Actor) -> User:
    audit.authorize(actor, "users.ban", f"user:{tg_id}")
    reason = _need_reason(reason, "a ban")
    return _admin_change(tg_id, actor, "users.ban", {"banned": True, "ban_reason": reason}, reason, NOTICE_BANNED)


def unban(tg_id: int, *, reason: str, actor: Actor) -> User:
    audit.authorize(actor, "users.ban", f"user:{tg_id}")
    reason = _need_reason(reason, "an unban")
    return _admin_change(tg_id, actor, "users.unban", {"banned": False, "ban_reason": None}, reason,
                         NOTICE_UNBANNED)


def set_role(tg_id: int, role: str, *, actor: Actor, reason: str | None = None) -> User:
    audit.authorize(actor, "users.role", f"user:{tg_id}")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose {', '.join(ROLES)}")
    return _admin_change(tg_id, actor, "users.role", {"role": role}, reason)


def bootstrap_admins(tg_ids: Iterable[int]) -> list[int]:
    """Give the admin role to configured ids that already exist; returns the ids promoted."""
    promoted = []
    with atomic():
        for tg_id in tg_ids:
            user = User.get_or_none(User.tg_id == tg_id)
            if user is not None and user.role != "admin":
                _admin_change(tg_id, Actor.system(), "users.role", {"role": "admin"}, "bootstrap admin from config")
                promoted.append(tg_id)
    return promoted


def as_dict(user: User) -> dict:
    return {
        "tg_id": user.tg_id, "username": user.username, "first_name": user.first_name,
        "last_name": user.last_name, "language": user.language, "role": user.role,
        "banned": bool(user.banned), "ban_reason": user.ban_reason,
        "available": user.available, "held": user.held, "debt": user.debt, "referral_code": user.referral_code,
        "referrer_id": user.referrer_id,
        "created_at": user.created_at.isoformat(sep=" ", timespec="seconds"),
    }


def clear_blocked_bot_mark(tg_id: int) -> None:
    """The user wrote to the bot, so they do not block it: clear a "blocked the bot" mark if there is
    one. A read first: the common case (no mark) writes nothing, so a flood of messages costs no
    write transactions."""
    with connection():
        marked = User.select(User.id).where((User.tg_id == tg_id) & User.blocked_bot).exists()
    if marked:
        set_blocked_bot(tg_id, False)


def set_blocked_bot(tg_id: int, blocked: bool) -> None:
    """Telegram says the user stopped (or restarted) the bot; delivery skips blocked users. A user
    who comes back gets what delivery dropped meanwhile (``outbox.revive_blocked``)."""
    with atomic():
        changed = (User.update(blocked_bot=blocked)
                   .where((User.tg_id == tg_id) & (User.blocked_bot != blocked))
                   .returning(User.id).execute())
        for row in changed:
            if not blocked:
                outbox.revive_blocked(row.id)
