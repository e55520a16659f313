"""Ledger invariants (ARCHITECTURE §3, reliability.md §1.5) checked on a live database.

Each check is one aggregate query that returns the rows that break it, so a clean database costs a
handful of scans and a broken one says exactly which user, hold or charge is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from bananapics.db import connection
from bananapics.models import db
from bananapics.models.ledger import SYSTEM_ACCOUNTS

SOURCES = ("stars_in", "bonus", "referral", "debt")  # only ever debited, never credited on balance
SINKS = ("revenue",)

USER_SUMS = """
WITH moves AS (
    SELECT credit_user_id AS uid, credit_account AS acct, amount FROM transfers WHERE credit_user_id IS NOT NULL
    UNION ALL
    SELECT debit_user_id, debit_account, -amount FROM transfers WHERE debit_user_id IS NOT NULL
), sums AS (
    SELECT uid,
           SUM(CASE WHEN acct = 'available' THEN amount ELSE 0 END) AS available,
           SUM(CASE WHEN acct = 'held' THEN amount ELSE 0 END) AS held
    FROM moves GROUP BY uid
)
SELECT u.tg_id, u.available, u.held, COALESCE(s.available, 0), COALESCE(s.held, 0)
FROM users u LEFT JOIN sums s ON s.uid = u.id
WHERE u.available <> COALESCE(s.available, 0) OR u.held <> COALESCE(s.held, 0)
"""

CHECKS: list[tuple[str, str, str]] = [
    ("cache_matches_ledger", USER_SUMS,
     "user {0}: cached available/held {1}/{2} but transfers say {3}/{4}"),
    ("no_negative_balance",
     "SELECT tg_id, available, held, debt FROM users WHERE available < 0 OR held < 0 OR debt < 0",
     "user {0}: negative balance available={1} held={2} debt={3}"),
    ("held_equals_open_holds",
     "SELECT u.tg_id, u.held, COALESCE(h.total, 0) FROM users u LEFT JOIN "
     "(SELECT user_id, SUM(amount) AS total FROM holds WHERE status = 'open' GROUP BY user_id) h ON h.user_id = u.id "
     "WHERE u.held <> COALESCE(h.total, 0)",
     "user {0}: held {1} but open holds sum to {2}"),
    ("one_hold_transfer_per_hold",
     "SELECT h.ref, COUNT(t.id), COALESCE(SUM(t.amount), 0), h.amount FROM holds h LEFT JOIN transfers t "
     "ON t.kind = 'hold' AND t.ref = h.ref AND t.debit_user_id = h.user_id "
     "GROUP BY h.ref, h.amount HAVING COUNT(t.id) <> 1 OR COALESCE(SUM(t.amount), 0) <> h.amount",
     "hold {0}: {1} hold transfer(s) for {2} tokens, expected one for {3}"),
    ("hold_transfer_has_hold",
     "SELECT t.ref FROM transfers t LEFT JOIN holds h ON h.ref = t.ref "
     "WHERE t.kind IN ('hold', 'settle', 'refund') AND h.ref IS NULL",
     "transfer for hold {0} but no such hold"),
    ("hold_outcome_exactly_once",
     "SELECT h.ref, h.status, h.settled, h.refunded, "
     "COALESCE(SUM(CASE WHEN t.kind = 'settle' THEN t.amount END), 0), "
     "COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN t.amount END), 0) "
     "FROM holds h LEFT JOIN transfers t ON t.ref = h.ref AND t.kind IN ('settle', 'refund') "
     "GROUP BY h.ref, h.status, h.settled, h.refunded "
     "HAVING COALESCE(SUM(CASE WHEN t.kind = 'settle' THEN t.amount END), 0) <> h.settled "
     "OR COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN t.amount END), 0) <> h.refunded "
     "OR (h.status = 'closed' AND h.settled + h.refunded <> h.amount)",
     "hold {0} ({1}): recorded settle/refund {2}/{3} but transfers say {4}/{5}"),
    ("charge_credited_once",
     "SELECT p.charge_id, p.tokens, COUNT(t.id), COALESCE(SUM(t.amount), 0) FROM payments p "
     "LEFT JOIN transfers t ON t.kind = 'topup' AND t.ref = p.charge_id AND t.credit_user_id = p.user_id "
     "GROUP BY p.charge_id, p.tokens HAVING COUNT(t.id) <> 1 OR COALESCE(SUM(t.amount), 0) <> p.tokens",
     "charge {0}: {2} top-up transfer(s) for {3} tokens, expected one for {1}"),
    ("topup_has_payment",
     "SELECT t.ref FROM transfers t LEFT JOIN payments p ON p.charge_id = t.ref "
     "WHERE t.kind IN ('topup', 'bonus', 'cashback', 'debt_repay', 'stars_refund', 'bonus_reversal',"
     " 'cashback_reversal', 'cashback_debt') AND p.charge_id IS NULL",
     "top-up transfer for charge {0} without a payment row"),
    ("refund_matches_status",
     "SELECT p.charge_id, p.status, COUNT(t.id) FROM payments p LEFT JOIN transfers t "
     "ON t.kind = 'stars_refund' AND t.ref = p.charge_id GROUP BY p.charge_id, p.status "
     "HAVING (p.status = 'refunded') <> (COUNT(t.id) = 1)",
     "charge {0} is {1} but has {2} refund transfer(s)"),
    ("cashback_to_referrer",
     "SELECT t.ref, t.credit_user_id, u.referrer_id, t.amount, p.tokens FROM transfers t "
     "JOIN payments p ON p.charge_id = t.ref JOIN users u ON u.id = p.user_id "
     "WHERE t.kind = 'cashback' AND (u.referrer_id IS NULL OR t.credit_user_id <> u.referrer_id "
     "OR t.amount > p.tokens)",
     "cashback for charge {0} paid to user #{1}, but the payer's referrer is #{2} (amount {3} of {4})"),
]


# A refund takes back exactly what its charge gave the payer (tokens and bonus) and claws back at
# most the cashback it paid, from the referrer who got it.
CHECKS += [
    ("refund_reverses_charge",
     "SELECT p.charge_id, p.status, p.tokens, p.bonus_tokens, "
     "COALESCE(SUM(CASE WHEN t.kind = 'stars_refund' THEN t.amount END), 0), "
     "COALESCE(SUM(CASE WHEN t.kind = 'bonus_reversal' THEN t.amount END), 0) "
     "FROM payments p LEFT JOIN transfers t ON t.ref = p.charge_id AND t.kind IN ('stars_refund', 'bonus_reversal') "
     "AND t.debit_user_id = p.user_id GROUP BY p.charge_id, p.status, p.tokens, p.bonus_tokens "
     "HAVING (p.status = 'refunded' AND (COALESCE(SUM(CASE WHEN t.kind = 'stars_refund' THEN t.amount END), 0) "
     "<> p.tokens OR COALESCE(SUM(CASE WHEN t.kind = 'bonus_reversal' THEN t.amount END), 0) <> p.bonus_tokens)) "
     "OR (p.status <> 'refunded' AND COUNT(t.id) > 0)",
     "charge {0} ({1}) gave {2}+{3} tokens but its refund took back {4}+{5}"),
    ("clawback_within_cashback",
     "SELECT r.ref, r.amount, r.debit_user_id, COALESCE(c.amount, 0) FROM transfers r LEFT JOIN transfers c "
     "ON c.kind = 'cashback' AND c.ref = r.ref AND c.credit_user_id = r.debit_user_id "
     "WHERE r.kind = 'cashback_reversal' AND (c.id IS NULL OR r.amount > c.amount)",
     "charge {0}: {1} cashback clawed back from user #{2}, who got {3}"),
]


# Debt: a forced refund lends the shortfall (sys debt → user, kind 'debt', ref = the refunded charge)
# and top-ups repay it (user → sys debt, kind 'debt_repay'); users.debt caches what each user owes.
CHECKS += [
    ("debt_matches_ledger",
     "SELECT u.tg_id, u.debt, COALESCE(d.owed, 0) FROM users u LEFT JOIN (SELECT uid, SUM(amount) AS owed FROM ("
     "SELECT credit_user_id AS uid, amount FROM transfers WHERE kind IN ('debt', 'cashback_debt') UNION ALL "
     "SELECT debit_user_id, -amount FROM transfers WHERE kind = 'debt_repay') m GROUP BY uid) d ON d.uid = u.id "
     "WHERE u.debt <> COALESCE(d.owed, 0)",
     "user {0}: owes {1} but debt transfers say {2}"),
    ("debt_matches_refunds",
     "SELECT p.charge_id, p.refund_debt, COALESCE(SUM(t.amount), 0) FROM payments p LEFT JOIN transfers t "
     "ON t.kind = 'debt' AND t.ref = p.charge_id AND t.credit_user_id = p.user_id "
     "GROUP BY p.charge_id, p.refund_debt HAVING p.refund_debt <> COALESCE(SUM(t.amount), 0)",
     "charge {0}: its refund left a debt of {1} but debt transfers say {2}"),
    ("debt_has_refund",
     "SELECT t.ref, t.amount FROM transfers t LEFT JOIN payments p ON p.charge_id = t.ref "
     "AND p.status = 'refunded' AND p.user_id = t.credit_user_id WHERE t.kind = 'debt' AND p.charge_id IS NULL",
     "debt of {1} for charge {0} without a refund of that charge"),
]


# A refund reverses the whole cashback its charge paid: the referrer gives back what they still have
# available, and what they no longer have (spent, or held by a running job) is lent to them first
# (kind 'cashback_debt') and becomes their debt. So for every refunded charge with cashback:
# clawed back from available + referrer debt = the cashback, and the reversal moves all of it.
CHECKS += [
    ("clawback_plus_debt_is_cashback",
     "SELECT p.charge_id, c.amount, COALESCE(r.amount, 0) - COALESCE(d.amount, 0), COALESCE(d.amount, 0) "
     "FROM payments p JOIN transfers c ON c.kind = 'cashback' AND c.ref = p.charge_id "
     "LEFT JOIN transfers r ON r.kind = 'cashback_reversal' AND r.ref = p.charge_id AND r.debit_user_id = c.credit_user_id "
     "LEFT JOIN transfers d ON d.kind = 'cashback_debt' AND d.ref = p.charge_id AND d.credit_user_id = c.credit_user_id "
     "WHERE p.status = 'refunded' AND (COALESCE(r.amount, 0) <> c.amount OR COALESCE(d.amount, 0) > c.amount)",
     "charge {0}: its refund reverses {1} cashback, but {2} was clawed back and {3} left as the referrer's debt"),
    ("cashback_debt_has_refund",
     "SELECT t.ref, t.amount, t.credit_user_id FROM transfers t "
     "LEFT JOIN payments p ON p.charge_id = t.ref AND p.status = 'refunded' "
     "LEFT JOIN transfers c ON c.kind = 'cashback' AND c.ref = t.ref AND c.credit_user_id = t.credit_user_id "
     "WHERE t.kind = 'cashback_debt' AND (p.charge_id IS NULL OR c.id IS NULL)",
     "cashback debt of {1} for charge {0} on user #{2}, who got no cashback of a refunded charge"),
]

CHECKS += [
    ("inflight_matches_jobs",
     "SELECT u.tg_id, u.inflight, COALESCE(j.n, 0) FROM users u LEFT JOIN "
     "(SELECT user_id, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY user_id) j "
     "ON j.user_id = u.id WHERE u.inflight <> COALESCE(j.n, 0)",
     "user {0}: inflight {1} but {2} active job(s)"),
    ("job_hold_matches_status",
     "SELECT j.id, j.status, j.cost, h.amount, h.status FROM jobs j LEFT JOIN holds h ON h.ref = j.id "
     "WHERE (j.cost > 0 AND h.ref IS NULL) OR (j.cost = 0 AND h.ref IS NOT NULL) "
     "OR (h.ref IS NOT NULL AND (h.amount <> j.cost OR h.user_id <> j.user_id "
     "OR (j.status IN ('queued', 'running')) <> (h.status = 'open')))",
     "job {0} ({1}, cost {2}): hold amount {3}, hold status {4}"),
    ("job_charge_matches_delivery",
     "SELECT j.id, j.status, j.delivered, j.count, h.settled, j.cost FROM jobs j JOIN holds h ON h.ref = j.id "
     "WHERE j.status IN ('succeeded', 'partial', 'failed') AND h.settled <> (j.cost * j.delivered) / j.count",
     "job {0} ({1}): delivered {2} of {3} but settled {4} of {5}"),
    ("model_slots_match_running",
     "SELECT s.model, s.running, COALESCE(j.n, 0) FROM model_slots s LEFT JOIN "
     "(SELECT model, COUNT(*) AS n FROM jobs WHERE status = 'running' GROUP BY model) j ON j.model = s.model "
     "WHERE s.running <> COALESCE(j.n, 0)",
     "model {0}: {1} slot(s) taken but {2} running job(s)"),
]


@dataclass(frozen=True)
class Breach:
    check: str
    detail: str


def _system_checks() -> list[Breach]:
    breaches = []
    totals = {name: 0 for name in SYSTEM_ACCOUNTS}
    for side, sign in (("credit", 1), ("debit", -1)):
        for name, amount in db.execute_sql(
            f"SELECT {side}_account, SUM(amount) FROM transfers WHERE {side}_user_id IS NULL GROUP BY {side}_account"
        ):
            if name not in totals:
                breaches.append(Breach("known_system_accounts", f"transfers use unknown system account {name!r}"))
                totals[name] = 0
            totals[name] += sign * int(amount)
    users_total = int(db.execute_sql("SELECT COALESCE(SUM(available + held), 0) FROM users").fetchone()[0])
    if users_total + sum(totals.values()) != 0:
        breaches.append(Breach(
            "sum_is_zero",
            f"user balances {users_total} + system accounts {sum(totals.values())} ≠ 0 ({totals})",
        ))
    owed = int(db.execute_sql("SELECT COALESCE(SUM(debt), 0) FROM users").fetchone()[0])
    if totals.get("debt", 0) != -owed:
        breaches.append(Breach("debt_account_matches_users",
                               f"system account debt is {totals.get('debt', 0)} but users owe {owed}"))
    for name in SOURCES:
        if totals.get(name, 0) > 0:
            breaches.append(Breach("sources_not_positive", f"source account {name} is positive: {totals[name]}"))
    for name in SINKS:
        if totals.get(name, 0) < 0:
            breaches.append(Breach("sinks_not_negative", f"sink account {name} is negative: {totals[name]}"))
    return breaches


def verify(limit_per_check: int = 50) -> list[Breach]:
    """Every invariant; an empty list means the ledger is consistent."""
    breaches: list[Breach] = []
    with connection():
        for name, sql, template in CHECKS:
            cursor = db.execute_sql(sql)
            for row in cursor.fetchmany(limit_per_check):
                breaches.append(Breach(name, template.format(*row)))
        breaches.extend(_system_checks())
    return breaches


CHECK_NAMES = [name for name, _, _ in CHECKS] + [
    "known_system_accounts", "sum_is_zero", "sources_not_positive", "sinks_not_negative", "debt_account_matches_users",
]
