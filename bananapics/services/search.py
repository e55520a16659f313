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

A caller that shows the rows before the count (the TUI's search as you type) asks for the page with
``count=False`` and for :func:`total` next, and may load only the ``fields`` it shows: on SQLite the
count and the 25 columns' conversion (six of them datetimes) were two thirds of a name search.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    counted: bool = True  # False: asked with count=False and more pages match (total(), when wanted)


def total_label(hits: Hits, shown: int | None = None) -> str:
    """"200 of 1000+", "3 of 3": ``shown`` rows so far (default: this page's) of the total."""
    shown = len(hits.rows) if shown is None else shown
    return f"{shown} of {hits.total}{'+' if hits.total_capped else ''}"


def users(actor: Actor, query: str, *, limit: int = 200, after: str | None = None, count: bool = True,
          fields: Sequence[str] | None = None) -> Hits:
    """The users ``query`` finds (see the module docstring), one page of ``limit``.

    ``count=False``: no count query; when more pages match, ``total`` is this page's rows,
    ``total_capped`` is True and ``counted`` False (:func:`total` counts). ``fields``: the names of
    the columns to load (the id and username always come along: cursors need them); default all."""
    audit.authorize(actor, "read", "users")
    text = _text(query)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"a page holds 1-{MAX_LIMIT} rows, not {limit!r}")
    select = _select(fields)
    with connection():
        kind, condition = _match(text)
        if kind == "username":
            return _usernames(select, condition, limit, after, count)
        if kind == "name":
            return _names(select, condition, limit, after, count)
        return _one(select, kind, condition)


def total(actor: Actor, query: str) -> tuple[int, bool]:
    """How many users ``query`` finds, counted up to :data:`COUNT_CAP`, and whether more do: the
    count :func:`users` leaves out with ``count=False``."""
    audit.authorize(actor, "read", "users")
    text = _text(query)
    with connection():
        kind, condition = _match(text)
        if kind in ("username", "name"):
            return _total(condition)
        return int(User.select().where(condition).exists()), False


def _text(query: str | None) -> str:
    text = (query or "").strip()
    if not text:
        raise InvalidInput("search needs some text, a @username or a Telegram id")
    return text


def _select(fields: Sequence[str] | None) -> pw.ModelSelect:
    if fields is None:
        return User.select()
    known = User._meta.fields
    unknown = [name for name in fields if name not in known]
    if unknown or isinstance(fields, str):
        raise InvalidInput(f"users have no column {unknown or fields!r}")
    return User.select(*(known[name] for name in dict.fromkeys(["id", "username", *fields])))


def _match(text: str) -> tuple[str, pw.Expression]:
    """How ``text`` is read (one of KINDS) and the condition on users it stands for."""
    if text.isascii() and text.isdigit():
        tg_id = int(text)
        return "id", User.tg_id == tg_id if tg_id < users_service.MAX_TG_ID else pw.SQL("1 = 0")
    if text.startswith("@") and len(text) > 1:
        return "username", _username_range(text[1:].lower())
    if 6 <= len(text) <= 255 and " " not in text:
        owner = Payment.select(Payment.user).where(Payment.charge_id == text).scalar()
        if owner is not None:
            return "charge", User.id == owner
    code = text.lower().removeprefix("ref_")
    if len(code) == users_service.CODE_LENGTH and User.select().where(User.referral_code == code).exists():
        return "referral", User.referral_code == code
    return "name", _name_condition(text)


def _one(select: pw.ModelSelect, kind: str, condition: pw.Expression) -> Hits:
    rows = list(select.where(condition).limit(1))
    return Hits(rows, len(rows), False, None, kind)


def _total(condition: pw.Expression) -> tuple[int, bool]:
    counted = User.select(User.id).where(condition).limit(COUNT_CAP + 1).count()  # a LIMITed subquery
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def _page(select: pw.ModelSelect, kind: str, condition: pw.Expression, order: list,
          keyset: pw.Expression | None, limit: int, cursor, count: bool) -> Hits:
    query = select.where(condition)
    if keyset is not None:
        query = query.where(keyset)
    rows = list(query.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = cursor(rows[-1]) if more else None
    if keyset is None and not more:
        return Hits(rows, len(rows), False, nxt, kind)  # the first page holds every match: no count query
    if not count:
        return Hits(rows, len(rows), True, nxt, kind, counted=False)
    total, capped = _total(condition)
    return Hits(rows, total, capped, nxt, kind)


def _username_key() -> pw.Node:
    key = pw.fn.lower(User.username)
    return pw.NodeList((key, pw.SQL('COLLATE "C"'))) if is_postgres() else key


def _username_range(prefix: str) -> pw.Expression:
    """Usernames from ``prefix`` up to (not including) the next string of its length: a range, so
    the index serves it with no LIKE escaping (``_`` is common in usernames); bytewise order."""
    key = _username_key()
    last = prefix[-1]
    condition = key >= prefix
    if ord(last) < 0x10FFFF:
        condition &= key < prefix[:-1] + chr(ord(last) + 1)
    return condition


def _usernames(select: pw.ModelSelect, condition: pw.Expression, limit: int, after: str | None,
               count: bool) -> Hits:
    key = _username_key()
    keyset = None
    if after:
        raw_id, sep, name = after.partition(":")
        if not sep or not raw_id.isdigit():
            raise InvalidInput(f"{after!r} is not a page cursor")
        keyset = (key > name) | ((key == name) & (User.id > int(raw_id)))
    return _page(select, "username", condition, [key, User.id], keyset, limit,
                 lambda row: f"{row.id}:{(row.username or '').lower()}", count)


def _name_condition(text: str) -> pw.Expression:
    if len(text) < SHORT:
        needle = users_service._escape_like(text.lower()) + "%"
        return (users_service._like("lower(first_name || ' ' || last_name)", needle)
                | users_service._like("lower(last_name)", needle)
                | users_service._like("lower(username)", needle))
    return users_service.search_condition(text)


def _names(select: pw.ModelSelect, condition: pw.Expression, limit: int, after: str | None, count: bool) -> Hits:
    keyset = None
    if after:
        if not after.isdigit():
            raise InvalidInput(f"{after!r} is not a page cursor")
        keyset = User.id < int(after)
    return _page(select, "name", condition, [User.id.desc()], keyset, limit, lambda row: str(row.id), count)
