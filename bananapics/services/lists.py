"""Paged admin lists with filters: users, payments, transfers, jobs and the admin log.

Every list is newest first and pages by keyset, never by offset: a page ends with a cursor naming
its last row (``created_at|id``) and the next page starts strictly after it, so rows added while an
admin pages (new users, payments, jobs) never shift a page or show a row twice. Every list needs
the ``read`` permission (support and admin). ``user`` filters take a Telegram id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import peewee as pw

from bananapics.db import connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AdminAction, Job, Payment, Transfer, User
from bananapics.models.jobs import ACTIVE, TERMINAL
from bananapics.models.users import ROLES
from bananapics.services import audit, users as users_service
from bananapics.services.audit import Actor

MAX_LIMIT = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None  # cursor of the next page; None on the last one


def cursor_of(row: Any) -> str:
    return f"{row.created_at.isoformat()}|{row.id}"


def _after(model: type[pw.Model], cursor: str | None) -> pw.Expression | None:
    """Rows strictly after ``cursor`` in (created_at, id) descending order."""
    if not cursor:
        return None
    stamp, sep, raw_id = cursor.rpartition("|")
    try:
        if not sep or not raw_id:
            raise ValueError(cursor)
        when = dt.datetime.fromisoformat(stamp)
        key: Any = raw_id if isinstance(model._meta.primary_key, pw.CharField) else int(raw_id)
    except ValueError:
        raise InvalidInput(f"{cursor!r} is not a page cursor") from None
    pk = model._meta.primary_key
    return (model.created_at < when) | ((model.created_at == when) & (pk < key))


def _page(query: pw.ModelSelect, model: type[pw.Model], limit: int, after: str | None) -> Page:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"a page holds 1-{MAX_LIMIT} rows, not {limit!r}")
    condition = _after(model, after)
    if condition is not None:
        query = query.where(condition)
    rows = list(query.order_by(model.created_at.desc(), model._meta.primary_key.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, cursor_of(rows[-1]) if more and rows else None)


def keyset(query: pw.ModelSelect, model: type[pw.Model], limit: int, after: str | None) -> Page:
    """One newest-first page of any query on ``model`` (for lists built elsewhere: the admin search)."""
    return _page(query, model, limit, after)


def _user_id(tg_id: int) -> int:
    users_service.check_tg_id(tg_id)  # one clear line for an id no Telegram user can have (and no overflow in SQL)
    row = User.select(User.id).where(User.tg_id == tg_id).first()
    if row is None:
        raise NotFound(f"user {tg_id} not found")
    return row.id


def _dates(model: type[pw.Model], query: pw.ModelSelect, since: dt.datetime | None,
           until: dt.datetime | None) -> pw.ModelSelect:
    if since is not None:
        query = query.where(model.created_at >= since)
    if until is not None:
        query = query.where(model.created_at < until)
    return query


COUNT_CAP = 1000  # a list's "of M" is counted this far only ("1000+"): a page never counts 10M transfers


def _capped(query: pw.ModelSelect) -> int:
    """How many rows ``query`` has, up to ``COUNT_CAP + 1`` (more than the cap: "COUNT_CAP+")."""
    return query.limit(COUNT_CAP + 1).count()  # a LIMITed subquery: stops at the cap


# One filter builder per list, shared by its page and its count (the "N of M" counts what the pages show).

def _users_query(role: str | None, banned: bool | None, search: str | None) -> pw.ModelSelect:
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose {', '.join(ROLES)}")
    query = User.select()
    if role is not None:
        query = query.where(User.role == role)
    if banned is not None:
        query = query.where(User.banned == banned)
    if search is not None:
        query = query.where(users_service.search_condition(search))
    return query


def _payments_query(query: pw.ModelSelect, user: int | None, status: str | None, since: dt.datetime | None,
                    until: dt.datetime | None) -> pw.ModelSelect:
    if status is not None and status not in ("paid", "refunded"):
        raise InvalidInput(f"unknown payment status {status!r}; choose paid, refunded")
    if user is not None:
        query = query.where(Payment.user == _user_id(user))
    if status is not None:
        query = query.where(Payment.status == status)
    return _dates(Payment, query, since, until)


def _transfers_query(user: int | None, kind: str | None, since: dt.datetime | None,
                     until: dt.datetime | None) -> pw.ModelSelect:
    query = Transfer.select()
    if user is not None:
        uid = _user_id(user)
        query = query.where((Transfer.debit_user == uid) | (Transfer.credit_user == uid))
    if kind is not None:
        query = query.where(Transfer.kind == kind)
    return _dates(Transfer, query, since, until)


def _jobs_query(query: pw.ModelSelect, status: str | None, model: str | None, user: int | None) -> pw.ModelSelect:
    if status is not None and status not in ACTIVE + TERMINAL:
        raise InvalidInput(f"unknown job status {status!r}; choose {', '.join(ACTIVE + TERMINAL)}")
    if status is not None:
        query = query.where(Job.status == status)
    if model is not None:
        query = query.where(Job.model == model)
    if user is not None:
        query = query.where(Job.user == _user_id(user))
    return query


def _admin_log_query(by: str | None, target: str | None, since: dt.datetime | None,
                     until: dt.datetime | None) -> pw.ModelSelect:
    query = AdminAction.select()
    if by is not None:
        query = query.where(AdminAction.actor == by)
    if target is not None:
        query = query.where(AdminAction.target == target)
    return _dates(AdminAction, query, since, until)


def users(*, actor: Actor, role: str | None = None, banned: bool | None = None, search: str | None = None,
          limit: int = 20, after: str | None = None) -> Page[User]:
    """Users by role, ban state and a search (Telegram id, ``@username`` prefix, any part of a name)."""
    audit.authorize(actor, "read", "users")
    with connection():
        return _page(_users_query(role, banned, search), User, limit, after)


def payments(*, actor: Actor, user: int | None = None, status: str | None = None, since: dt.datetime | None = None,
             until: dt.datetime | None = None, limit: int = 50, after: str | None = None) -> Page[Payment]:
    """Stars payments (each with its payer joined: ``p.user.tg_id``) by payer, status and date."""
    audit.authorize(actor, "read", "payments")
    with connection():
        query = _payments_query(Payment.select(Payment, User).join(User), user, status, since, until)
        return _page(query, Payment, limit, after)


def transfers(*, actor: Actor, user: int | None = None, kind: str | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, limit: int = 50, after: str | None = None) -> Page[Transfer]:
    """Ledger transfers (either side the user's) by user, kind and date."""
    audit.authorize(actor, "read", "transfers")
    with connection():
        return _page(_transfers_query(user, kind, since, until), Transfer, limit, after)


def tg_ids_of(rows: list[Transfer]) -> dict[int, int]:
    """``users.id → tg_id`` for every user the transfers touch, in one query (for printing them)."""
    ids = {t.debit_user_id for t in rows} | {t.credit_user_id for t in rows}
    ids.discard(None)
    if not ids:
        return {}
    with connection():
        return {u.id: u.tg_id for u in User.select(User.id, User.tg_id).where(User.id.in_(list(ids)))}


def jobs(*, actor: Actor, status: str | None = None, model: str | None = None, user: int | None = None,
         limit: int = 50, after: str | None = None) -> Page[Job]:
    """Generation jobs (each with its user joined: ``j.user.tg_id``) by status, model and user."""
    audit.authorize(actor, "read", "jobs")
    with connection():
        return _page(_jobs_query(Job.select(Job, User).join(User), status, model, user), Job, limit, after)


def admin_log(*, actor: Actor, by: str | None = None, target: str | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, limit: int = 50, after: str | None = None) -> Page[AdminAction]:
    """The admin action log by who acted (``by``: ``cli:alice``, ``tg:123``), target and date."""
    audit.authorize(actor, "read", "admin_log")
    with connection():
        return _page(_admin_log_query(by, target, since, until), AdminAction, limit, after)


# Counts for "N of M", with the lists' filters, each up to COUNT_CAP + 1.

def count_users(*, actor: Actor) -> int:
    """How many users there are: the counter the writes keep (services.dashboard), never a table count."""
    from bananapics.services import dashboard

    audit.authorize(actor, "read", "users")
    return dashboard.users_total()


def count_payments(*, actor: Actor, user: int | None = None, status: str | None = None,
                   since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    audit.authorize(actor, "read", "payments")
    with connection():
        return _capped(_payments_query(Payment.select(Payment.id), user, status, since, until))


def count_transfers(*, actor: Actor, user: int | None = None, kind: str | None = None,
                    since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    audit.authorize(actor, "read", "transfers")
    with connection():
        return _capped(_transfers_query(user, kind, since, until))


def count_jobs(*, actor: Actor, status: str | None = None, model: str | None = None, user: int | None = None) -> int:
    audit.authorize(actor, "read", "jobs")
    with connection():
        return _capped(_jobs_query(Job.select(Job.id), status, model, user))


def count_admin_log(*, actor: Actor, by: str | None = None, target: str | None = None,
                    since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    audit.authorize(actor, "read", "admin_log")
    with connection():
        return _capped(_admin_log_query(by, target, since, until))
