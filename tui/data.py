"""Every database call the admin TUI makes, and the one wrapper screens run them through.

Screens never call a service on the UI thread: a worker runs ``load(fn, ...)`` in a thread and gets
an :class:`Outcome` back, which never raises. A refusal or bad input (any
:class:`~bananapics.errors.BananaError`) becomes ``Outcome.error`` (a notification); a lost database
connection becomes ``Outcome.lost`` (the app shows a banner, drops the dead pooled connections and
pings until the server answers again, see :func:`ping`).

The functions below are thin adapters over services, shaped for what a screen shows: a search is
``services.search.users`` (indexed, a page of at most ``PAGE`` rows with a capped total), the
dashboard ``services.dashboard.snapshot``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import peewee as pw

from bananapics import db as dbm
from bananapics.errors import BananaError
from bananapics.models import db as proxy
from bananapics.services import audit, ledger, lists, payments, search, system, users
from bananapics.services import broadcast, catalog, jobs, packages, settings, stuck_jobs, templates, templates_io
from bananapics.errors import InvalidInput
from bananapics.services import dashboard as dashboard_service
from bananapics.services.audit import Actor
from bananapics.services.stars import StarsApi
from bananapics.services.verify import verify as run_verify

T = TypeVar("T")
PAGE = 200  # rows a search shows at most (Textual's DataTable slows down with very many rows)
DETAIL_ROWS = 20  # ledger, jobs and payments rows in a user's detail pane


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: str | None = None  # one line for the operator (a refusal, bad input, a database error)
    lost: bool = False  # the database connection failed: show the banner, reconnect

    @property
    def ok(self) -> bool:
        return self.error is None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def load(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Outcome[T]:
    """Run ``fn`` (in a worker thread) and turn every failure into an Outcome."""
    try:
        return Outcome(fn(*args, **kwargs))
    except BananaError as exc:
        return Outcome(error=exc.msg)
    except (pw.OperationalError, pw.InterfaceError) as exc:
        drop_connections()
        return Outcome(error=f"database connection lost: {_first_line(exc)}", lost=True)
    except pw.DatabaseError as exc:
        return Outcome(error=f"database error: {_first_line(exc)}")


def drop_connections() -> None:
    """Close every pooled connection, so the next call opens a fresh one instead of a dead one."""
    try:
        if proxy.obj is not None:
            dbm.close(proxy.obj)
    except Exception:  # noqa: BLE001 - closing a dead connection may fail too; the next connect decides
        pass


def ping() -> bool:
    """Whether the database answers now (the banner's reconnect loop)."""
    try:
        dbm.check_connection(proxy.obj)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        drop_connections()
        return False


# ---------------------------------------------------------------- users

@dataclass(frozen=True)
class UserRow:
    tg_id: int
    username: str | None
    name: str
    role: str
    banned: bool
    available: int
    held: int
    debt: int


@dataclass(frozen=True)
class Hits:
    rows: list[UserRow]
    total: int
    total_capped: bool  # there are more than ``total`` (counting all of them would scan the table)
    next: str | None  # keyset cursor of the next page
    counted: bool = True  # False: more pages match and ``total`` is not known yet (count_users tells)

    @property
    def label(self) -> str:
        if not self.counted:
            return f"{len(self.rows)} of …"
        return f"{len(self.rows)} of {self.total}{'+' if self.total_capped else ''}"


# The columns the Users screen shows (a search loads only these: on SQLite converting all 25, six of
# them datetimes, took as long as finding the rows).
ROW_FIELDS = ("tg_id", "username", "first_name", "last_name", "role", "banned", "available", "held", "debt")


def _row(u: Any) -> UserRow:
    name = " ".join(part for part in (u.first_name, u.last_name) if part)
    return UserRow(u.tg_id, u.username, name, u.role, bool(u.banned), u.available, u.held, u.debt)


def search_users(actor: Actor, query: str, *, limit: int | None = None, after: str | None = None) -> Hits:
    """A page of users matching ``query`` (Telegram id, ``@username`` prefix, any part of a name);
    an empty query lists the newest users. When more pages match, the total is left to
    :func:`count_users` (``Hits.counted`` is False): the screen shows the rows first."""
    query, limit = query.strip(), limit or PAGE
    if query:
        hits = search.users(actor, query, limit=limit, after=after, count=False, fields=ROW_FIELDS)
        return Hits([_row(u) for u in hits.rows], hits.total, hits.total_capped, hits.next, hits.counted)
    page = lists.users(actor=actor, limit=limit, after=after)
    rows = [_row(u) for u in page.items]
    if page.next is None and after is None:
        return Hits(rows, len(rows), False, None)
    return Hits(rows, len(rows), True, page.next, counted=False)


def count_users(actor: Actor, query: str) -> tuple[int, bool]:
    """(total, more than that) for ``query``: what :func:`search_users` leaves uncounted. A search
    counts up to ``services.search.COUNT_CAP``; every user (an empty query) is the users counter."""
    query = query.strip()
    if query:
        return search.total(actor, query)
    return lists.count_users(actor=actor), False


@dataclass(frozen=True)
class UserDetail:
    user: UserRow
    language: str
    ban_reason: str | None
    referral_code: str
    referrer: int | None  # the referrer's Telegram id
    created_at: dt.datetime
    transfers: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    payments: list[dict[str, Any]]


def _account(user_id: int | None, name: str, tg_ids: dict[int, int]) -> str:
    return f"user:{tg_ids.get(user_id, user_id)}:{name}" if user_id is not None else f"sys:{name}"


def transfer_dict(t: Any, tg_ids: dict[int, int]) -> dict[str, Any]:
    return {"id": t.id, "created_at": t.created_at, "kind": t.kind, "ref": t.ref, "amount": t.amount,
            "debit": _account(t.debit_user_id, t.debit_account, tg_ids),
            "credit": _account(t.credit_user_id, t.credit_account, tg_ids),
            "debit_user": tg_ids.get(t.debit_user_id), "credit_user": tg_ids.get(t.credit_user_id),
            "actor": t.actor, "reason": t.reason or ""}


def payment_dict(p: Any, tg_id: int) -> dict[str, Any]:
    return {"charge_id": p.charge_id, "user": tg_id, "created_at": p.created_at, "stars": p.stars,
            "tokens": p.tokens, "bonus": p.bonus_tokens, "status": p.status, "refund_debt": p.refund_debt}


def user_detail(actor: Actor, tg_id: int) -> UserDetail:
    """Everything the detail pane shows for one user, read through the services."""
    audit.authorize(actor, "read", f"user:{tg_id}")
    u = users.get(tg_id)
    referrer = users.get_by_id(u.referrer_id).tg_id if u.referrer_id else None
    moves = lists.transfers(actor=actor, user=tg_id, limit=DETAIL_ROWS).items
    tg_ids = lists.tg_ids_of(moves)
    jobs = [{"id": j.id, "created_at": j.created_at, "model": j.model, "status": j.status, "cost": j.cost,
             "delivered": f"{j.delivered}/{j.count}"}
            for j in lists.jobs(actor=actor, user=tg_id, limit=DETAIL_ROWS).items]
    paid = [payment_dict(p, tg_id) for p in lists.payments(actor=actor, user=tg_id, limit=DETAIL_ROWS).items]
    return UserDetail(_row(u), u.language, u.ban_reason, u.referral_code, referrer, u.created_at,
                      [transfer_dict(t, tg_ids) for t in moves], jobs, paid)


def ban(actor: Actor, tg_id: int, reason: str) -> UserRow:
    return _row(users.ban(tg_id, reason=reason, actor=actor))


def unban(actor: Actor, tg_id: int, reason: str) -> UserRow:
    return _row(users.unban(tg_id, reason=reason, actor=actor))


def set_role(actor: Actor, tg_id: int, role: str, reason: str) -> UserRow:
    return _row(users.set_role(tg_id, role, actor=actor, reason=reason))


def adjust(actor: Actor, tg_id: int, amount: int, reason: str) -> int:
    """Add (or remove, when negative) tokens; returns the available balance after."""
    user = users.get(tg_id)
    ledger.adjust(user.id, amount, reason=reason, actor=actor)
    return ledger.balance(user.id)[0]


def refund(actor: Actor, charge_id: str, reason: str, telegram: Callable[[], StarsApi], *, force: bool) -> str:
    """Return a payment's Stars through Telegram and reverse it in the ledger; a one-line summary."""
    api = telegram()
    try:
        done = payments.refund(charge_id, actor=actor, reason=reason, telegram=api, force=force)
    finally:
        close = getattr(api, "close", None)
        if close is not None:
            close()
    debt = f", debt added {done.debt}" if done.debt else ""
    return f"charge {charge_id} refunded{debt}"


# ---------------------------------------------------------------- ledger audit

@dataclass(frozen=True)
class TransferPage:
    rows: list[dict[str, Any]]  # each with "running": the running total down the page
    next: str | None
    user: int | None


def _signed(row: dict[str, Any], user: int | None) -> int:
    """A transfer's amount as the filtered user sees it (credit +, debit −, 0 between their own
    accounts); unsigned without a user filter."""
    if user is None:
        return row["amount"]
    if row["credit_user"] == row["debit_user"]:
        return 0  # between the user's own accounts (a hold, a settle): their total does not move
    return row["amount"] if row["credit_user"] == user else -row["amount"]


def transfers(actor: Actor, *, user: int | None = None, kind: str | None = None, ref: str | None = None,
              since: dt.datetime | None = None, until: dt.datetime | None = None,
              limit: int = PAGE, after: str | None = None) -> TransferPage:
    """A page of transfers, newest first, with a running total (a ``ref`` shows that event's transfers)."""
    if ref:
        audit.authorize(actor, "read", f"ref:{ref}")
        found, cursor = ledger.transfers_for_ref(ref)[::-1][:limit], None
    else:
        page = lists.transfers(actor=actor, user=user, kind=kind or None, since=since, until=until,
                               limit=limit, after=after)
        found, cursor = page.items, page.next
    tg_ids = lists.tg_ids_of(found)
    rows, running = [], 0
    for t in found:
        row = transfer_dict(t, tg_ids)
        running += _signed(row, user)
        rows.append({**row, "signed": _signed(row, user), "running": running})
    return TransferPage(rows, cursor, user)


@dataclass(frozen=True)
class BreachRow:
    check: str
    detail: str
    link: tuple[str, str] | None  # ("user", tg_id) or ("ref", hold/charge/job id): the rows it concerns


_LINKS = (
    (re.compile(r"^user (\d+):"), "user"),
    (re.compile(r"^(?:hold|charge|job) (\S+?)[: ]"), "ref"),
    (re.compile(r"^(?:transfer for hold|top-up transfer for charge|cashback for charge) (\S+)"), "ref"),
)


def breach_link(detail: str) -> tuple[str, str] | None:
    for pattern, kind in _LINKS:
        found = pattern.search(detail)
        if found:
            return kind, found.group(1)
    return None


def verify_ledger(actor: Actor) -> list[BreachRow]:
    """Every ledger invariant; each breach linked to the user or event whose transfers it concerns."""
    audit.authorize(actor, "read", "ledger")
    return [BreachRow(b.check, b.detail, breach_link(b.detail)) for b in run_verify()]


@dataclass(frozen=True)
class PaymentPage:
    rows: list[dict[str, Any]]
    next: str | None


def payments_page(actor: Actor, *, user: int | None = None, status: str | None = None,
                  limit: int = PAGE, after: str | None = None) -> PaymentPage:
    page = lists.payments(actor=actor, user=user, status=status or None, limit=limit, after=after)
    return PaymentPage([payment_dict(p, p.user.tg_id) for p in page.items], page.next)


@dataclass(frozen=True)
class RefundEffect:
    text: str  # what the refund does, in words, shown before the operator confirms
    force: bool  # the payer spent tokens: the refund needs force and leaves a debt


def refund_effect(actor: Actor, charge_id: str) -> RefundEffect:
    """What refunding this charge would do, read fresh before the operator confirms."""
    audit.authorize(actor, "read", f"charge:{charge_id}")
    p = payments.get(charge_id)
    u = users.get_by_id(p.user_id)
    return describe_refund(payment_dict(p, u.tg_id), u.available)


def describe_refund(p: dict[str, Any], available: int) -> RefundEffect:
    need = p["tokens"] + p["bonus"]
    bonus = f" + {p['bonus']} bonus" if p["bonus"] else ""
    text = (f"Telegram returns {p['stars']} ⭐ to user {p['user']}; the ledger takes back {p['tokens']} tokens"
            f"{bonus} (available {available} → {max(available - need, 0)})")
    if available < need:
        text += (f".\nThey have spent tokens: confirming FORCES the refund and leaves a debt of "
                 f"{need - available} tokens, which blocks generation until their next top-up")
    return RefundEffect(text, available < need)


# ---------------------------------------------------------------- dashboard

@dataclass(frozen=True)
class DashboardView:
    at: dt.datetime
    users_today: int
    users_total: int
    queued: int
    running: int
    failed: int  # failed in the last hour (or today, from services.dashboard)
    stars_today: int
    tokens_today: int
    providers: list[tuple[str, str]] = field(default_factory=list)  # (name, status line)
    workers: list[tuple[str, bool, dt.datetime]] = field(default_factory=list)  # (id, alive, last seen)
    jobs_per_minute: list[int] = field(default_factory=list)  # oldest first, last 60 minutes
    stars_per_day: list[int] = field(default_factory=list)  # oldest first, last 14 days


def _provider_line(p: Any) -> str:
    if p.last_error and (p.last_success is None or (p.last_error_at and p.last_error_at > p.last_success)):
        return f"key {p.key}, last error {p.last_error}"
    if p.last_success is not None:
        return f"key {p.key}, ok" + (f", p50 {p.p50_latency_s:.1f}s" if p.p50_latency_s is not None else "")
    return f"key {p.key}, idle"


def dashboard(actor: Actor, *, keys: dict[str, bool] | None = None, now: dt.datetime | None = None) -> DashboardView:
    """The dashboard's counters and series in one call (``services.dashboard``: counters kept by
    triggers and indexed ranges, never a scan of the ledger)."""
    s = dashboard_service.snapshot(actor=actor, keys=keys, now=now)
    return DashboardView(
        s.at, s.users_today, s.users_total, s.jobs_queued, s.jobs_running, s.jobs_failed_today, s.stars_today,
        s.tokens_today, [(p.name, _provider_line(p)) for p in s.providers],
        [(w.id, w.alive, w.last_seen) for w in s.workers],
        list(s.jobs_per_minute), [stars for _day, stars in s.stars_per_day])

# ---------------------------------------------------------------- pricing and models, packages

@dataclass(frozen=True)
class ModelRow:
    id: str
    name: str
    enabled: bool
    is_default: bool
    base_price: int
    extras: dict[str, Any]  # {"resolution": {"4K": 20}, "quality": {...}, "per_reference": 1}
    options: dict[str, list[str]]  # the settings a price extra can be set for: {"resolution": ["1K", "4K"]}
    example: str  # what the cheapest request costs, explained ("base 10 = 10")


def models(actor: Actor) -> list[ModelRow]:
    """Every model with its prices and the cost of its cheapest request (services.catalog.preview)."""
    rows = []
    for m in catalog.models(actor=actor):
        snap = catalog.snapshot(m)
        options = {kind: list(snap["limits"].get(key) or []) for kind, key in catalog.EXTRA_KINDS.items()}
        quote = catalog.preview(m.id, actor=actor)
        rows.append(ModelRow(m.id, m.name, snap["enabled"], snap["is_default"], m.base_price, snap["pricing"],
                             {k: v for k, v in options.items() if v}, quote.explain()))
    return rows


def price_preview(actor: Actor, model_id: str, *, base_price: int | None = None,
                  extras: dict[str, Any] | None = None, choices: dict[str, Any] | None = None) -> str:
    """An example cost today → with the unsaved change (the dialog shows it before confirming)."""
    now = catalog.preview(model_id, choices, actor=actor)
    then = catalog.preview(model_id, choices, actor=actor, base_price=base_price, extras=extras)
    return f"example request {now.settings}: {now.explain()} → {then.explain()} tokens"


def packages_list(actor: Actor) -> list[dict[str, Any]]:
    return [packages.snapshot(p) for p in packages.all_packages(actor=actor)]


# ---------------------------------------------------------------- templates

def templates_list(actor: Actor) -> list[dict[str, Any]]:
    """Every template (hidden too) with its total uses, in display order."""
    audit.authorize(actor, "read", "templates")
    return [{**templates.snapshot(t), "uses": n} for t, n in templates.admin_list()]


def import_templates(actor: Actor, path: str, reason: str | None = None, *, dry_run: bool) -> dict[str, Any]:
    """Read a catalogue file (.json or .toml) and import it whole through services.templates_io."""
    fmt = "toml" if path.lower().endswith(".toml") else "json"
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    document = templates_io.loads(text, fmt)
    return templates_io.import_catalogue(document, actor=actor, reason=reason, dry_run=dry_run).as_dict()


# ---------------------------------------------------------------- settings: referral, toggles, maintenance, limits

@dataclass(frozen=True)
class SettingRow:
    key: str
    type: str
    value: Any
    help: str


def settings_list(actor: Actor) -> list[SettingRow]:
    audit.authorize(actor, "read", "settings")
    return [SettingRow(k, settings.REGISTRY[k].type, v, settings.REGISTRY[k].help)
            for k, v in settings.all_settings().items()]


# ---------------------------------------------------------------- jobs

def jobs_page(actor: Actor, status: str | None = None, after: str | None = None, *,
              limit: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
    page = lists.jobs(actor=actor, status=status or None, limit=limit or PAGE, after=after)
    rows = [{"id": j.id, "user": j.user.tg_id, "created_at": j.created_at, "model": j.model, "status": j.status,
             "attempts": f"{j.attempts}/{j.max_attempts}", "cost": j.cost, "error": j.error_kind or ""}
            for j in page.items]
    return rows, page.next


def retry_job(actor: Actor, job_id: str, reason: str, *, extra_attempt: bool = False,
              enqueue: Callable[[str], Any] | None = None) -> str:
    """Re-queue a stuck job; ``enqueue`` hands it to the workers now (without it the sweeper does)."""
    job = jobs.requeue(job_id, actor=actor, extra_attempt=extra_attempt, reason=reason)
    if enqueue is not None:
        enqueue(job.id)
    return job.status


def refund_job(actor: Actor, job_id: str, reason: str) -> str:
    return stuck_jobs.refund(job_id, reason=reason, actor=actor).status


# ---------------------------------------------------------------- admin log

def admin_log_page(actor: Actor, by: str | None = None, target: str | None = None, after: str | None = None, *,
                   limit: int | None = None) -> tuple[list[dict[str, Any]], int | str, str | None]:
    """A page of the admin log, its total ("1000+" past the count's cap) and the next cursor."""
    page = lists.admin_log(actor=actor, by=by or None, target=target or None, limit=limit or PAGE, after=after)
    total = lists.count_admin_log(actor=actor, by=by or None, target=target or None)
    shown = f"{lists.COUNT_CAP}+" if total > lists.COUNT_CAP else total
    return [audit.as_dict(a) for a in page.items], shown, page.next


# ---------------------------------------------------------------- broadcasts

def broadcasts(actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """The newest broadcasts with live counts (services.broadcast.recent)."""
    return [p.as_dict() for p in broadcast.recent(actor=actor, limit=limit)]
