"""👤 Users: the one search box, the paged list, the user card and what an admin or support does
to a user — ban/unban with a reason (the user is told once), role, balance ± with a reason (the user
is told), their generations (retry or refund a stuck one) and payments.

Every action is a form of ``admin_kit`` (typed values, then a confirmation with the exact effect);
each calls one service, which authorises the presser again and writes the admin log.
"""

from __future__ import annotations

from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot import admin_menu, delivery
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.errors import BananaError
from bananapics.services import corrections, jobs, lists, search, stuck_jobs, usercard, users
from bananapics.services.audit import Actor

PAGE_SIZE = 8
ROLES = ("user", "support", "admin")


def _name(lang: str, card: usercard.Card) -> str:
    full = " ".join(p for p in (card.first_name, card.last_name) if p) or "—"
    return excerpt(full, 64)


# ------------------------------------------------------------------ list and search


def _fetch(actor: Actor) -> tuple[Any, Any]:
    # a search is services.search (the same as the CLI's and the TUI's: a Telegram id, @username
    # prefix, name, charge id or referral code, indexed, its total counted up to a cap)
    def fetch(filters: dict[str, Any], after: str | None, limit: int) -> Any:
        if filters.get("q"):
            hits = search.users(actor, filters["q"], limit=limit, after=after)
            return lists.Page(hits.rows, hits.next)
        return lists.users(actor=actor, limit=limit, after=after)

    def count(filters: dict[str, Any]) -> int:
        if filters.get("q"):
            hits = search.users(actor, filters["q"], limit=1)
            return hits.total + hits.total_capped  # past search.COUNT_CAP: one more, shown "1000+"
        return lists.count_users(actor=actor)

    return fetch, count


@kit.section()
def user_list(press: Press, actor: Actor) -> Answer:
    """``adm:users:<page>``: the newest users, or what the last search found."""
    lang = kit.lang(press)
    fetch, count = _fetch(actor)
    view = kit.keyset_page(press, "users", press.args[0], fetch, count, size=PAGE_SIZE)
    query = view.filters.get("q")
    title = i18n.t(lang, "adm-users-found", query=query) if query else i18n.t(lang, "adm-users-newest")
    if not view.items:
        return Screen(f"{title}\n{i18n.t(lang, 'admin-users-none')}", _list_rows(lang, query)), None
    rows = [[button(lang, "btn-adm-user-row", "adm", "user", u.tg_id, status="⛔" if u.banned else "👤",
                    name=excerpt(kit.who(u.tg_id, u.username, u.first_name), 40), balance=u.available)]
            for u in view.items]
    return Screen(f"{title}\n{view.label(lang)}", rows + view.pager(lang, "adm", "users") + _list_rows(lang, query)), None


def _list_rows(lang: str, query: str | None) -> list[list[Any]]:
    rows = [[button(lang, "btn-adm-search", "adm", "find")]]
    if query:
        rows[0].append(button(lang, "btn-adm-all-users", "adm", "sec", "users"))
    return rows + [kit.home_row(lang)]


@kit.section()
def users_home(press: Press, actor: Actor) -> Answer:
    """``adm:sec:users``: the newest users (any search forgotten)."""
    kit.set_filters(press, "users", {})
    return user_list(press.to("adm", "users", 0))


def _search(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    """The typed search becomes the list's filter; the list itself is the screen shown next."""
    kit.set_filters(ctx, "users", {"q": values["q"]})
    return ""


kit.form(kit.Form("users.search", "read", _search, fields=(kit.Field("q", kit.query, "admin-ask-search-all"),)))


@kit.section()
def find(press: Press, actor: Actor) -> Answer:
    """``adm:find``: ask what to search for (the text step); the answer shows the list."""
    return kit.start(press, "users.search", {}, ("adm", "users", 0)), None


# ------------------------------------------------------------------ the user card


def card_screen(ctx: kit.Ctx, actor: Actor, tg_id: int) -> Screen:
    lang = kit.lang(ctx)
    card = usercard.card(tg_id, actor=actor)
    status = i18n.t(lang, "admin-user-banned") if card.banned else i18n.t(lang, "admin-user-active")
    lines = [i18n.t(lang, "adm-card", name=_name(lang, card), username=card.username or "—", tg_id=card.tg_id,
                    role=i18n.t(lang, f"role-{card.role}"), status=status, balance=card.available, held=card.held,
                    debt=card.debt, referrer=kit.who(card.referrer_tg_id, card.referrer_username), friends=card.friends,
                    spent=card.spent, jobs=card.jobs, payments=card.payments, stars=card.stars_paid,
                    date=card.joined.date())]
    if card.banned and card.ban_reason:
        lines.append(i18n.t(lang, "adm-card-ban-reason", reason=excerpt(card.ban_reason, 200)))
    rows: list[list[Any]] = []
    first: list[Any] = []
    if actor.can("users.ban"):
        first.append(button(lang, "btn-admin-unban" if card.banned else "btn-admin-ban", "adm", "uact", tg_id,
                            "unban" if card.banned else "ban"))
    if actor.can("users.role"):
        first.append(button(lang, "btn-admin-role", "adm", "uact", tg_id, "role"))
    if first:
        rows.append(first)
    if actor.can("ledger.adjust"):
        rows.append([button(lang, "btn-admin-grant", "adm", "uact", tg_id, "grant"),
                     button(lang, "btn-admin-deduct", "adm", "uact", tg_id, "deduct")])
    rows.append([button(lang, "btn-admin-user-jobs", "adm", "ujobs", tg_id, 0),
                 button(lang, "btn-admin-user-payments", "adm", "upays", tg_id, 0)])
    rows.append([button(lang, "btn-back", "adm", "users", 0), *kit.home_row(lang)])
    return Screen("\n".join(lines), rows)


@kit.section()
def user_card(press: Press, actor: Actor) -> Answer:
    """``adm:user:<tg_id>``: the card."""
    return card_screen(press, actor, press.args[0]), None


def _target(values: dict[str, Any]) -> str:
    return f"user:{values.get('tg')}"


def _ban_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    user = users.get(values["tg"])
    key = "adm-effect-ban" if values["do"] == "ban" else "adm-effect-unban"
    return i18n.t(lang, key, user=kit.who(user.tg_id, user.username, user.first_name), reason=values["reason"])


def _ban_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    lang = kit.lang(ctx)
    change = users.ban if values["do"] == "ban" else users.unban
    user = change(values["tg"], reason=values["reason"], actor=actor)
    key = "admin-done-ban" if values["do"] == "ban" else "admin-done-unban"
    return i18n.t(lang, key, user=kit.who(user.tg_id, user.username, user.first_name), reason=values["reason"])


kit.form(kit.Form("users.ban", "users.ban", _ban_apply, fields=(kit.Field("reason", kit.reason, "admin-ask-reason"),),
                  effect=_ban_effect, target=_target))


def _adjust_ask(values: dict[str, Any]) -> dict[str, Any]:
    user = users.get(values["tg"])
    return {"user": kit.who(user.tg_id, user.username, user.first_name), "balance": user.available}


def _adjust_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    user = users.get(values["tg"])
    delta = values["sign"] * values["amount"]
    return i18n.t(lang, "adm-effect-adjust", user=kit.who(user.tg_id, user.username, user.first_name),
                  delta=f"{delta:+d}", before=user.available, after=user.available + delta, reason=values["reason"])


def _adjust_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    done = corrections.adjust_balance(values["tg"], values["sign"] * values["amount"], reason=values["reason"],
                                      actor=actor, key=nonce or None)
    user = users.get(values["tg"])
    return i18n.t(kit.lang(ctx), "admin-done-adjust", user=kit.who(user.tg_id, user.username, user.first_name),
                  delta=f"{done.delta:+d}", balance=done.after, reason=done.reason)


kit.form(kit.Form("users.adjust", "ledger.adjust", _adjust_apply,
                  fields=(kit.Field("amount", kit.amount, "adm-ask-adjust", _adjust_ask),
                          kit.Field("reason", kit.reason, "admin-ask-reason")),
                  effect=_adjust_effect, target=_target))


def _role_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    user = users.get(values["tg"])
    return i18n.t(lang, "adm-effect-role", user=kit.who(user.tg_id, user.username, user.first_name),
                  old=i18n.t(lang, f"role-{user.role}"), new=i18n.t(lang, f"role-{values['role']}"))


def _role_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    user = users.set_role(values["tg"], values["role"], actor=actor, reason="admin panel")
    admin_menu.after_role_change(ctx.bot, user.tg_id)
    return i18n.t(kit.lang(ctx), "admin-done-role", user=kit.who(user.tg_id, user.username, user.first_name),
                  role=i18n.t(kit.lang(ctx), f"role-{user.role}"))


kit.form(kit.Form("users.role", "users.role", _role_apply, effect=_role_effect, target=_target))


@kit.section()
def user_action(press: Press, actor: Actor) -> Answer:
    """``adm:uact:<tg_id>:<action>``: start the action's form (or the role picker)."""
    tg_id, action = press.args
    back = ("adm", "user", tg_id)
    if action in ("ban", "unban"):
        return kit.start(press, "users.ban", {"tg": tg_id, "do": action}, back), None
    if action in ("grant", "deduct"):
        return kit.start(press, "users.adjust", {"tg": tg_id, "sign": 1 if action == "grant" else -1}, back), None
    if action == "jobs":
        return user_jobs(press.to("adm", "ujobs", tg_id, 0))
    if action == "pays":
        return user_payments(press.to("adm", "upays", tg_id, 0))
    lang = kit.lang(press)  # role: the picker
    kit.staff(press, "users.role", f"user:{tg_id}")
    user = users.get(tg_id)
    rows = [[button(lang, f"btn-adm-role-{role}", "adm", "role", tg_id, role) for role in ROLES if role != user.role],
            [button(lang, "btn-back", *back)]]
    return Screen(i18n.t(lang, "adm-role-pick", user=kit.who(user.tg_id, user.username, user.first_name),
                         role=i18n.t(lang, f"role-{user.role}")), rows), None


@kit.section("users.role")
def pick_role(press: Press, actor: Actor) -> Answer:
    """``adm:role:<tg_id>:<role>``: confirm the new role."""
    tg_id, role = press.args
    return kit.start(press, "users.role", {"tg": tg_id, "role": role}, ("adm", "user", tg_id)), None


# ------------------------------------------------------------------ their generations and payments


@kit.section()
def user_jobs(press: Press, actor: Actor) -> Answer:
    """``adm:ujobs:<tg_id>:<page>``: the user's generations, newest first."""
    tg_id, page = press.args
    lang = kit.lang(press)
    view = kit.keyset_page(
        press, f"ujobs:{tg_id}", page,
        lambda f, after, limit: lists.jobs(actor=actor, user=tg_id, limit=limit, after=after),
        lambda f: lists.count_jobs(actor=actor, user=tg_id), size=PAGE_SIZE, filters={"tg": tg_id} if page == 0 else None)
    rows = [[button(lang, "btn-adm-job-row", "adm", "job", j.id, status=_job_icon(j.status),
                    date=j.created_at.strftime("%m-%d %H:%M"), model=j.model, cost=j.cost)] for j in view.items]
    return kit.page_screen(lang, i18n.t(lang, "adm-user-jobs", user=str(tg_id)), view, rows, ("adm", "ujobs", tg_id),
                           ("adm", "user", tg_id)), None


@kit.section()
def user_payments(press: Press, actor: Actor) -> Answer:
    """``adm:upays:<tg_id>:<page>``: the user's payments, newest first."""
    tg_id, page = press.args
    lang = kit.lang(press)
    view = kit.keyset_page(
        press, f"upays:{tg_id}", page,
        lambda f, after, limit: lists.payments(actor=actor, user=tg_id, limit=limit, after=after),
        lambda f: lists.count_payments(actor=actor, user=tg_id), size=PAGE_SIZE,
        filters={"tg": tg_id} if page == 0 else None)
    rows = [[button(lang, "btn-adm-pay-row", "adm", "tx", p.id, status="↩️" if p.status == "refunded" else "⭐",
                    date=p.created_at.strftime("%m-%d %H:%M"), stars=p.stars, tokens=p.tokens + p.bonus_tokens)]
            for p in view.items]
    return kit.page_screen(lang, i18n.t(lang, "adm-user-payments", user=str(tg_id)), view, rows,
                           ("adm", "upays", tg_id), ("adm", "user", tg_id)), None


def _job_icon(status: str) -> str:
    return {"queued": "⏳", "running": "⚙️", "succeeded": "✅", "partial": "◐", "failed": "❌"}.get(status, "•")


@kit.section()
def job_card(press: Press, actor: Actor) -> Answer:
    """``adm:job:<id>``: one generation; a queued or running one can be retried or refunded."""
    lang = kit.lang(press)
    job = jobs.get(press.args[0])
    owner = users.get_by_id(job.user_id)
    text = i18n.t(lang, "adm-job", status=f"{_job_icon(job.status)} {job.status}", model=job.model, cost=job.cost,
                  user=kit.who(owner.tg_id, owner.username, owner.first_name), date=job.created_at.date(),
                  attempts=job.attempts, max=job.max_attempts, prompt=excerpt(job.prompt, 300),
                  error=job.error_kind or "—")
    rows: list[list[Any]] = []
    if job.status in ("queued", "running") and actor.can("jobs.retry"):
        rows.append([button(lang, "btn-adm-job-retry", "adm", "jretry", job.id),
                     button(lang, "btn-adm-job-refund", "adm", "jrefund", job.id)])
    rows.append([button(lang, "btn-back", "adm", "ujobs", owner.tg_id, 0), *kit.home_row(lang)])
    return Screen(text, rows), None


@kit.section("jobs.retry")
def job_retry(press: Press, actor: Actor) -> Answer:
    """``adm:jretry:<id>``: back in the queue now (``jobs.requeue``, logged), enqueued after commit."""
    lang = kit.lang(press)
    try:
        job = jobs.requeue(press.args[0], actor=actor, reason="admin panel")
        press.bot.tasks.enqueue(job.id)
        note = i18n.t(lang, "adm-done-retry")
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, ("adm", "job", press.args[0]), note), None


def _job_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    job = jobs.get(values["job"])
    owner = users.get_by_id(job.user_id)
    return i18n.t(lang, "adm-effect-job-refund", user=kit.who(owner.tg_id, owner.username, owner.first_name),
                  tokens=job.cost, reason=values["reason"])


def _job_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    job = stuck_jobs.refund(values["job"], reason=values["reason"], actor=actor)
    return i18n.t(kit.lang(ctx), "adm-done-job-refund", tokens=job.cost)


kit.form(kit.Form("jobs.refund", "jobs.retry", _job_apply, fields=(kit.Field("reason", kit.reason, "admin-ask-reason"),),
                  effect=_job_effect, target=lambda v: f"job:{v.get('job')}"))


@kit.section("jobs.retry")
def job_refund(press: Press, actor: Actor) -> Answer:
    """``adm:jrefund:<id>``: ask a reason, confirm with the tokens returned, refund."""
    return kit.start(press, "jobs.refund", {"job": press.args[0]}, ("adm", "job", press.args[0])), None


# ------------------------------------------------------------------ what the user is told


def notice_parts(row: Any, user: Any) -> list[delivery.Part]:
    """A ban, an unban or a balance correction, in the user's language (the delivery loop's thread)."""
    data = row.data
    lang = user.language
    if row.kind == users.NOTICE_BANNED:
        text = i18n.t(lang, "adm-notice-banned", reason=data.get("reason", ""))
    elif row.kind == users.NOTICE_UNBANNED:
        text = i18n.t(lang, "adm-notice-unbanned")
    else:
        text = i18n.t(lang, "adm-notice-adjusted", delta=f"{int(data['delta']):+d}", balance=int(data["balance"]),
                      reason=data.get("reason", ""))
    return [delivery.Part(text)]


ACTIONS = {("adm", "users"): user_list, ("adm", "find"): find, ("adm", "user"): user_card,
           ("adm", "uact"): user_action, ("adm", "role"): pick_role, ("adm", "ujobs"): user_jobs,
           ("adm", "upays"): user_payments, ("adm", "job"): job_card, ("adm", "jretry"): job_retry,
           ("adm", "jrefund"): job_refund}
SECTIONS = {"users": users_home}


def register(bot: Any) -> None:
    for kind in (users.NOTICE_BANNED, users.NOTICE_UNBANNED, corrections.NOTICE_ADJUSTED):
        delivery.PARTS[kind] = notice_parts
