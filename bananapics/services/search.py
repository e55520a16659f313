"""User search for the operator console (TUI search-as-you-type, CLI, the Telegram admin panel).

What the query is decides how it is searched (``Hits.kind``):

* ``id``: digits are a Telegram id (the unique index; at most one row);
* ``username``: ``@ab`` is a username prefix, alphabetical: a range on ``users_username_c``
  ((lower(username) COLLATE "C", id), migration 0015), already in result order, so any prefix is a
  short index walk and the next page continues from the last row;
* ``charge`` / ``referral``: a payment's charge id or a referral code (``ref_<code>`` too) finds its
  user (both unique indexes);
* ``name``: anything else is a part of a name or username (the trigram GIN index of 0001 on
  Postgres), newest users first; one or two characters match the start of the first name, last
  name or username instead (a substring that short matches nearly everyone and no trigram index can serve it).

A result is one page (``limit``, default 200: the TUI's table stays small) and ``total``, counted up
to :data:`COUNT_CAP` only, so counting never walks a million rows: ``total_capped`` says "more".
A first page that holds every match is its own total (no count query: a rare name costs one query).
Pages go by keyset (``after`` = the previous ``Hits.next``), never by offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection, is_postgres
from bananapics.errors import InvalidInput
from bananapics.models import Payment, User
from bananapics.services import audit, lists, users as users_service
from bananapics.services.audit import Actor

COUNT_CAP = lists.COUNT_CAP  # the admin lists' cap: one "1000+" everywhere
MAX_LIMIT = 1000
SHORT = 3  # queries shorter than this match name and username prefixes, not substrings
KINDS = ("id", "username", "charge", "referral", "name")


@dataclass(frozen=True)
class Hits:
    rows: list[User]
    total: int  # matching users, counted up to COUNT_CAP
    total_capped: bool  # more than ``total`` match
    next: str | None  # cursor of the next page; None on the last one
    kind: str  # how the query was read: one of KINDS


def total_label(hits: Hits, shown: int | None = None) -> str:
    """"200 of 1000+", "3 of 3": ``shown`` rows so far (default: this page's) of the total."""
    shown = len(hits.rows) if shown is None else shown
    return f"{shown} of {hits.total}{'+' if hits.total_capped else ''}"


def users(actor: Actor, query: str, *, limit: int = 200, after: str | None = None) -> Hits:
    """The users ``query`` finds (see the module docstring), one page of ``limit``."""
    audit.authorize(actor, "read", "users")
    text = (query or "").strip()
    if not text:
        raise InvalidInput("search needs some text, a @username or a Telegram id")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"a page holds 1-{MAX_LIMIT} rows, not {limit!r}")
    with connection():
        if text.isascii() and text.isdigit():
            tg_id = int(text)
            return _one("id", User.tg_id == tg_id if tg_id < users_service.MAX_TG_ID else pw.SQL("1 = 0"))
        if text.startswith("@") and len(text) > 1:
            return _usernames(text[1:].lower(), limit, after)
        if 6 <= len(text) <= 255 and " " not in text:
            owner = Payment.select(Payment.user).where(Payment.charge_id == text).scalar()
            if owner is not None:
                return _one("charge", User.id == owner)
        code = text.lower().removeprefix("ref_")
        if len(code) == users_service.CODE_LENGTH and User.select().where(User.referral_code == code).exists():
            return _one("referral", User.referral_code == code)
        return _names(text, limit, after)


def _one(kind: str, condition: pw.Expression) -> Hits:
    rows = list(User.select().where(condition).limit(1))
    return Hits(rows, len(rows), False, None, kind)


def _total(condition: pw.Expression) -> tuple[int, bool]:
    counted = User.select(User.id).where(condition).limit(COUNT_CAP + 1).count()  # a LIMITed subquery
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def _page(kind: str, condition: pw.Expression, order: list, keyset: pw.Expression | None, limit: int,
          cursor) -> Hits:
    query = User.select().where(condition)
    if keyset is not None:
        query = query.where(keyset)
    rows = list(query.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    if keyset is None and not more:
        total, capped = len(rows), False  # the first page holds every match: no count query
    else:
        total, capped = _total(condition)
    return Hits(rows, total, capped, cursor(rows[-1]) if more else None, kind)


def _username_key() -> pw.Node:
    key = pw.fn.lower(User.username)
    return pw.NodeList((key, pw.SQL('COLLATE "C"'))) if is_postgres() else key


def _usernames(prefix: str, limit: int, after: str | None) -> Hits:
    """Usernames from ``prefix`` up to (not including) the next string of its length: a range, so
    the index serves it with no LIKE escaping (``_`` is common in usernames); bytewise order."""
    key = _username_key()
    last = prefix[-1]
    condition = key >= prefix
    if ord(last) < 0x10FFFF:
        condition &= key < prefix[:-1] + chr(ord(last) + 1)
    keyset = None
    if after:
        raw_id, sep, name = after.partition(":")
        if not sep or not raw_id.isdigit():
            raise InvalidInput(f"{after!r} is not a page cursor")
        keyset = (key > name) | ((key == name) & (User.id > int(raw_id)))
    return _page("username", condition, [key, User.id], keyset, limit,
                 lambda row: f"{row.id}:{(row.username or '').lower()}")


def _names(text: str, limit: int, after: str | None) -> Hits:
    if len(text) < SHORT:
        needle = users_service._escape_like(text.lower()) + "%"
        condition = (users_service._like("lower(first_name || ' ' || last_name)", needle)
                     | users_service._like("lower(last_name)", needle)
                     | users_service._like("lower(username)", needle))
    else:
        condition = users_service.search_condition(text)
    keyset = None
    if after:
        if not after.isdigit():
            raise InvalidInput(f"{after!r} is not a page cursor")
        keyset = User.id < int(after)
    return _page("name", condition, [User.id.desc()], keyset, limit, lambda row: str(row.id))
