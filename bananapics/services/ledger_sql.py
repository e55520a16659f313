"""The ledger's hand-written, engine-specific statements (private to :mod:`bananapics.services.ledger`).

The hot movements run as prebuilt SQL: building them through the query builder cost more CPU than
the database spent running them. Postgres runs a hold or a close as one statement (data-modifying
CTEs: one round trip); SQLite has no DML in CTEs and no network round trips to save, so it runs the
same steps as separate statements. Every function here runs inside the caller's transaction and
returns raw rows: the ledger decides what they mean (replay, insufficient tokens, …).
"""

from __future__ import annotations

import datetime as dt

from bananapics.models import db


def insert_transfer(kind: str, ref: str, amount: int, debit: tuple[int | None, str], credit: tuple[int | None, str],
                    actor: str, reason: str | None, now: dt.datetime) -> int | None:
    """Insert one transfer row; ``None`` when ``(kind, ref)`` already exists (a replay)."""
    p = db.obj.param
    cursor = db.execute_sql(
        "INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id,"
        f" credit_account, actor, reason, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
        " ON CONFLICT (kind, ref) DO NOTHING RETURNING id",
        (kind, ref, amount, debit[0], debit[1], credit[0], credit[1], actor, reason, now),
    )
    row = cursor.fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------- hold: available → held, open the hold

def hold_balances(user_id: int, amount: int, now: dt.datetime) -> int:
    """Move ``amount`` from the user's available to held if they have it; the number of rows moved."""
    p = db.obj.param
    return db.execute_sql(
        f"UPDATE users SET available = available - {p}, held = held + {p}, updated_at = {p}"
        f" WHERE id = {p} AND available >= {p}",
        (amount, amount, now, user_id, amount),
    ).rowcount


def open_hold(ref: str, user_id: int, amount: int, now: dt.datetime) -> None:
    p = db.obj.param
    db.execute_sql(
        "INSERT INTO holds (ref, user_id, amount, status, settled, refunded, created_at)"
        f" VALUES ({p}, {p}, {p}, 'open', 0, 0, {p})",
        (ref, user_id, amount, now),
    )


HOLD_PG = """
WITH t AS (
    INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id, credit_account,
                           actor, created_at)
    VALUES ('hold', %(ref)s, %(amount)s, %(user)s, 'available', %(user)s, 'held', %(actor)s, %(now)s)
    ON CONFLICT (kind, ref) DO NOTHING RETURNING id
), u AS (
    UPDATE users SET available = available - %(amount)s, held = held + %(amount)s, updated_at = %(now)s
    WHERE id = %(user)s AND available >= %(amount)s AND EXISTS (SELECT 1 FROM t) RETURNING id
), h AS (
    INSERT INTO holds (ref, user_id, amount, status, settled, refunded, created_at)
    SELECT %(ref)s, id, %(amount)s, 'open', 0, 0, %(now)s FROM u RETURNING ref
)
SELECT (SELECT id FROM t), (SELECT COUNT(*) FROM h)
"""


def hold_postgres(user_id: int, amount: int, ref: str, actor: str, now: dt.datetime) -> tuple[int | None, int]:
    """The whole hold in one statement: (the new transfer id or None on a replay, holds opened)."""
    return db.execute_sql(HOLD_PG, {"ref": ref, "amount": amount, "user": user_id, "actor": actor,
                                    "now": now}).fetchone()


# ---------------------------------------------------------------- close: settle and/or refund a hold once

def close_hold(ref: str, share: tuple[int, int] | None, fixed: int | None,
               now: dt.datetime) -> tuple[int, int, int, int] | None:
    """Claim the open hold ``ref`` (one guarded UPDATE … RETURNING), settling ``amount·K/N``
    (``share``) or exactly ``fixed``; (user, amount, settled, refunded), or None when nothing was claimed."""
    p = db.obj.param
    if fixed is not None:
        sql = (f"UPDATE holds SET status = 'closed', settled = {p}, refunded = amount - {p}, closed_at = {p}"
               f" WHERE ref = {p} AND status = 'open' AND amount >= {p} RETURNING user_id, amount, settled, refunded")
        params: tuple = (fixed, fixed, now, ref, fixed)
    else:
        k, n = share or (1, 1)
        sql = (f"UPDATE holds SET status = 'closed', settled = (amount * {p}) / {p},"
               f" refunded = amount - (amount * {p}) / {p}, closed_at = {p}"
               f" WHERE ref = {p} AND status = 'open' RETURNING user_id, amount, settled, refunded")
        params = (k, n, k, n, now, ref)
    row = db.execute_sql(sql, params).fetchone()
    return None if row is None else tuple(int(v) for v in row)  # type: ignore[return-value]


def release_balances(user_id: int, amount: int, refund: int, now: dt.datetime) -> int:
    """A closed hold leaves held; its refunded part returns to available. The number of rows moved."""
    p = db.obj.param
    return db.execute_sql(
        f"UPDATE users SET held = held - {p}, available = available + {p}, updated_at = {p}"
        f" WHERE id = {p} AND held >= {p}",
        (amount, refund, now, user_id, amount),
    ).rowcount


FINISH_PG = """
WITH h AS (
    UPDATE holds SET status = 'closed', settled = {settled}, refunded = amount - {settled}, closed_at = %(now)s
    WHERE ref = %(ref)s AND status = 'open' {guard}
    RETURNING user_id, amount, settled, refunded
), moved AS (
    INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id, credit_account,
                           actor, created_at)
    SELECT 'settle', %(ref)s, settled, user_id, 'held', NULL, 'revenue', %(actor)s, %(now)s FROM h WHERE settled > 0
    UNION ALL
    SELECT 'refund', %(ref)s, refunded, user_id, 'held', user_id, 'available', %(actor)s, %(now)s
    FROM h WHERE refunded > 0
    RETURNING id
), u AS (
    UPDATE users SET held = held - h.amount, available = available + h.refunded, updated_at = %(now)s
    FROM h WHERE users.id = h.user_id AND users.held >= h.amount RETURNING users.id
)
SELECT user_id, amount, settled, refunded, (SELECT COUNT(*) FROM u), (SELECT COUNT(*) FROM moved) FROM h
"""
FINISH_PG_SHARE = FINISH_PG.format(settled="(amount * %(k)s) / %(n)s", guard="")
FINISH_PG_FIXED = FINISH_PG.format(settled="%(fixed)s", guard="AND amount >= %(fixed)s")


def finish_postgres(ref: str, share: tuple[int, int] | None, fixed: int | None, actor: str,
                    now: dt.datetime) -> tuple[int, int, int, int, int] | None:
    """The whole close in one statement: (user, amount, settled, refunded, users moved), or None
    when nothing was claimed."""
    k, n = share or (1, 1)
    sql = FINISH_PG_FIXED if fixed is not None else FINISH_PG_SHARE
    row = db.execute_sql(sql, {"ref": ref, "now": now, "actor": actor, "k": k, "n": n, "fixed": fixed}).fetchone()
    return None if row is None else tuple(int(v) for v in row[:5])  # type: ignore[return-value]


# ---------------------------------------------------------------- reads

def system_sums(side: str) -> list[tuple[str, int]]:
    """Σ amount per system account on one side (``credit`` or ``debit``) of all transfers."""
    if side not in ("credit", "debit"):
        raise ValueError(side)
    return [(name, int(amount)) for name, amount in db.execute_sql(
        f"SELECT {side}_account, SUM(amount) FROM transfers WHERE {side}_user_id IS NULL GROUP BY {side}_account")]
