"""🧾 Transactions: recent payments (all, last 24 h, last 7 days, or one user's), a payment with every
transfer it caused, its Stars refund (a reason, then a confirmation with the exact effect: "Refund
⭐250 to @ann: −550 tokens, −55 cashback from @bob"), ledger transfers by period, and queued,
running and failed generations with retry/refund (``admin_users`` serves the job card).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.stars import TelethonStars
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.services import lists, payments, refund_preview, users
from bananapics.services.audit import Actor

PAGE_SIZE = 8
ICONS = {"queued": "⏳", "running": "⚙️", "failed": "❌"}
TRANSFER_KINDS = ("all", "topup", "bonus", "hold", "settle", "refund", "adjust", "grant", "cashback",
                  "stars_refund")  # the ledger's kinds an admin filters by (callbacks.TKIND)
PERIODS = {"all": None, "day": dt.timedelta(days=1), "week": dt.timedelta(days=7)}


def _since(period: str | None) -> dt.datetime | None:
    span = PERIODS.get(period or "all")
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - span if span is not None else None


@kit.section()
def payments_list(press: Press, actor: Actor) -> Answer:
    """``adm:txs:<page>``: payments with the chosen filters (period, user), newest first."""
    lang = kit.lang(press)

    def fetch(f: dict[str, Any], after: str | None, limit: int) -> Any:
        return lists.payments(actor=actor, user=f.get("tg"), since=_since(f.get("period")), limit=limit, after=after)

    def count(f: dict[str, Any]) -> int:
        return lists.count_payments(actor=actor, user=f.get("tg"), since=_since(f.get("period")))

    view = kit.keyset_page(press, "txs", press.args[0], fetch, count, size=PAGE_SIZE)
    period = view.filters.get("period", "all")
    title = i18n.t(lang, "adm-payments-title", period=i18n.t(lang, f"adm-period-{period}"))
    if view.filters.get("tg"):
        title += "\n" + i18n.t(lang, "adm-filter-user", user=str(view.filters["tg"]))
    rows = [[button(lang, "btn-adm-pay-row", "adm", "tx", p.id, status="↩️" if p.status == "refunded" else "⭐",
                    date=p.created_at.strftime("%m-%d %H:%M"), stars=p.stars, tokens=p.tokens + p.bonus_tokens)]
            for p in view.items]
    text = f"{title}\n{view.label(lang) if view.items else i18n.t(lang, 'admin-empty')}"
    rows += view.pager(lang, "adm", "txs")
    rows.append([button(lang, f"btn-adm-period-{p}", "adm", "txp", p) for p in PERIODS])
    rows.append([button(lang, "btn-adm-filter-user", "adm", "txu"), button(lang, "btn-adm-transfers", "adm", "trs", "day", "all", 0)])
    rows.append([button(lang, "btn-adm-jobs-queued", "adm", "jobs", "queued", 0),
                 button(lang, "btn-adm-jobs-running", "adm", "jobs", "running", 0),
                 button(lang, "btn-adm-jobs-failed", "adm", "jobs", "failed", 0)])
    rows.append(kit.home_row(lang))
    return Screen(text, rows), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    """``adm:sec:transactions``: all payments, newest first."""
    kit.set_filters(press, "txs", {"period": "all"})
    return payments_list(press.to("adm", "txs", 0))


@kit.section()
def by_period(press: Press, actor: Actor) -> Answer:
    """``adm:txp:<period>``: the payments of the last 24 h, 7 days, or all (the user filter stays)."""
    kept = kit.filters_of(press, "txs")
    kit.set_filters(press, "txs", {**kept, "period": press.args[0]})
    return payments_list(press.to("adm", "txs", 0))


def _by_user(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    users.get(values["tg"])  # an unknown user: NotFound, said as the result line
    kit.set_filters(ctx, "txs", {**kit.filters_of(ctx, "txs"), "tg": values["tg"]})
    return ""


def _tg_id(text: str) -> int:
    return kit.integer(text, lo=1, hi=2**53 - 1)


kit.form(kit.Form("tx.user", "read", _by_user, fields=(kit.Field("tg", _tg_id, "adm-ask-tg-id"),)))


@kit.section()
def by_user(press: Press, actor: Actor) -> Answer:
    """``adm:txu``: ask for a Telegram id; the list shows that user's payments."""
    return kit.start(press, "tx.user", {}, ("adm", "txs", 0)), None


@kit.section()
def payment_detail(press: Press, actor: Actor) -> Answer:
    """``adm:tx:<id>``: the payment and every transfer it caused; [↩️ Refund] while it is paid."""
    lang = kit.lang(press)
    payment, moves = refund_preview.payment(press.args[0], actor=actor)
    payer = payment.user
    lines = [i18n.t(lang, "adm-payment", stars=payment.stars, tokens=payment.tokens, bonus=payment.bonus_tokens,
                    user=kit.who(payer.tg_id, payer.username, payer.first_name),
                    date=payment.created_at.strftime("%Y-%m-%d %H:%M"),
                    status=i18n.t(lang, f"adm-payment-{payment.status}"), charge=excerpt(payment.charge_id, 80))]
    if payment.status == "refunded":
        lines.append(i18n.t(lang, "adm-payment-refund-info", actor=payment.refunded_by or "—",
                            reason=excerpt(payment.refund_reason or "—", 200), debt=payment.refund_debt))
    lines.append(i18n.t(lang, "adm-transfers-title"))
    lines += [_transfer_line(t) for t in moves[:20]]
    rows: list[list[Any]] = []
    if payment.status == "paid" and actor.can("payments.refund"):
        rows.append([button(lang, "btn-adm-refund", "adm", "refund", payment.id)])
    rows.append([button(lang, "btn-back", "adm", "txs", 0), *kit.home_row(lang)])
    return Screen("\n".join(lines)[:4000], rows, code=(payment.charge_id,) if len(payment.charge_id) <= 80 else ()), None


def _side(user_id: int | None, account: str) -> str:
    return f"#{user_id}.{account}" if user_id is not None else account


def _transfer_line(t: Any) -> str:
    return (f"• {t.created_at:%m-%d %H:%M} {t.kind} {t.amount}: "
            f"{_side(t.debit_user_id, t.debit_account)} → {_side(t.credit_user_id, t.credit_account)}")


def _refund_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    p = refund_preview.preview(values["pid"], actor=actor)
    text = i18n.t(lang, "adm-effect-refund", stars=p.stars, user=kit.who(p.payer_tg_id, p.payer_username),
                  tokens=p.tokens, reason=values["reason"])
    if p.cashback:
        text += "\n" + i18n.t(lang, "adm-effect-refund-cashback", tokens=p.cashback,
                              user=kit.who(p.referrer_tg_id, p.referrer_username))
    if p.shortfall:
        text += "\n" + i18n.t(lang, "adm-effect-refund-debt", debt=p.shortfall)
    return text


def _refund_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    p = refund_preview.preview(values["pid"], actor=actor)
    force = p.shortfall > 0 and actor.can("payments.refund_force")  # support: RefundBlocked says why
    telegram = TelethonStars(ctx.bot.client, ctx.bot.loop)
    done = payments.refund(p.charge_id, actor=actor, reason=values["reason"], telegram=telegram, force=force)
    return i18n.t(kit.lang(ctx), "adm-done-refund", stars=done.stars, user=kit.who(p.payer_tg_id, p.payer_username),
                  tokens=done.tokens, cashback=done.clawed + done.referrer_debt, debt=done.debt)


kit.form(kit.Form("tx.refund", "payments.refund", _refund_apply,
                  fields=(kit.Field("reason", kit.reason, "admin-ask-reason"),), effect=_refund_effect,
                  target=lambda v: f"payment:{v.get('pid')}"))


@kit.section("payments.refund")
def refund(press: Press, actor: Actor) -> Answer:
    """``adm:refund:<id>``: ask a reason, show the exact effect, refund on yes."""
    return kit.start(press, "tx.refund", {"pid": press.args[0]}, ("adm", "tx", press.args[0])), None


@kit.section()
def transfers(press: Press, actor: Actor) -> Answer:
    """``adm:trs:<period>:<kind>:<page>``: ledger transfers of the period (all, or of one kind), newest first."""
    period, kind, page = press.args
    lang = kit.lang(press)
    only = None if kind == "all" else kind
    view = kit.keyset_page(
        press, f"trs:{period}:{kind}", page,
        lambda f, after, limit: lists.transfers(actor=actor, since=_since(period), kind=only, limit=limit, after=after),
        lambda f: lists.count_transfers(actor=actor, since=_since(period), kind=only), size=12,
        filters={"period": period, "kind": kind} if page == 0 else None)
    lines = [i18n.t(lang, "adm-transfers-list", period=i18n.t(lang, f"adm-period-{period}")),
             i18n.t(lang, "adm-transfers-kind", kind=kind),
             view.label(lang) if view.items else i18n.t(lang, "admin-empty")]
    lines += [_transfer_line(t) for t in view.items]
    rows = view.pager(lang, "adm", "trs", period, kind)
    rows.append([button(lang, f"btn-adm-period-{p}", "adm", "trs", p, kind, 0) for p in PERIODS])
    kinds = [button(lang, "btn-adm-tkind", "adm", "trs", period, k, 0, mark="• " if k == kind else "", kind=k)
             for k in TRANSFER_KINDS]
    rows += [kinds[i:i + 4] for i in range(0, len(kinds), 4)]
    rows.append([button(lang, "btn-back", "adm", "txs", 0), *kit.home_row(lang)])
    return Screen("\n".join(lines)[:4000], rows), None


@kit.section()
def job_list(press: Press, actor: Actor) -> Answer:
    """``adm:jobs:<view>:<page>``: queued, running or failed generations; each opens its card."""
    status, page = press.args
    lang = kit.lang(press)
    view = kit.keyset_page(
        press, f"jobs:{status}", page,
        lambda f, after, limit: lists.jobs(actor=actor, status=status, limit=limit, after=after),
        lambda f: lists.count_jobs(actor=actor, status=status), size=PAGE_SIZE,
        filters={"status": status} if page == 0 else None)
    rows = [[button(lang, "btn-adm-job-row", "adm", "job", j.id, status=ICONS[status], date=j.created_at.strftime("%m-%d %H:%M"),
                    model=j.model, cost=j.cost)] for j in view.items]
    return kit.page_screen(lang, i18n.t(lang, f"adm-jobs-{status}"), view, rows, ("adm", "jobs", status),
                           ("adm", "txs", 0)), None


ACTIONS = {("adm", "txs"): payments_list, ("adm", "txp"): by_period, ("adm", "txu"): by_user,
           ("adm", "tx"): payment_detail, ("adm", "refund"): refund, ("adm", "trs"): transfers,
           ("adm", "jobs"): job_list}
SECTIONS = {"transactions": section_home}
