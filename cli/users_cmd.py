"""``bananapics users …``: add, show, search, ban, unban, role, forget."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, JsonOpt, config, database, operator, out, print_json, print_page, table, group, fields
from bananapics.services import lists, users

app = group("Users: list, lookup, search, bans, roles and erasure (forget).")

TgId = Annotated[int, typer.Argument(help="Telegram user id.")]
Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the admin log).")]


def _show(user, as_json: bool) -> None:
    data = users.as_dict(user)
    if as_json:
        print_json(data)
        return
    fields(data)


@app.command("list")
def list_(role: Annotated[str | None, typer.Option(help="user, support or admin.")] = None,
          banned: Annotated[bool | None, typer.Option("--banned/--not-banned", help="Only banned or only not banned users.")] = None,
          search: Annotated[str | None, typer.Option(help="Telegram id, @username prefix or part of a name.")] = None,
          limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
          after: Annotated[str | None, typer.Option(help="Page cursor: the `next` of the previous page.")] = None,
          as_json: JsonOpt = False) -> None:
    """Users, newest first, filtered by role, ban state and a search; paged.

    --json prints {"items": [{tg_id, username, first_name, last_name, language, role, banned, ban_reason,
    available, held, debt, referral_code, referrer_id, created_at}], "next": cursor or null}.

    Example: bananapics users list --role support --json
    """
    database()
    page = lists.users(actor=operator(None), role=role, banned=banned, search=search, limit=limit, after=after)
    if as_json:
        print_page([users.as_dict(u) for u in page.items], page.next)
        return
    _table(page.items)
    if page.next:
        out.print(f"more: --after '{page.next}'")


def _table(found) -> None:
    if not found:
        out.print("no users match")
        return
    table(None, ["tg_id", "username", "name", "role", "banned", "available", "held", "debt"],
          [[u.tg_id, f"@{u.username}" if u.username else "", u.display_name, u.role,
            "yes" if u.banned else "", u.available, u.held, u.debt or ""] for u in found])


@app.command()
def add(tg_id: TgId,
        username: Annotated[str | None, typer.Option(help="Telegram @username.")] = None,
        role: Annotated[str, typer.Option(help="user, support or admin.")] = "user",
        as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Create a user by Telegram id (for example an admin who has not written to the bot yet).

    Example: bananapics users add 123456789 --username ann --role support
    """
    database()
    _show(users.add(tg_id, username=username, role=role, actor=operator(as_)), as_json)


@app.command()
def show(tg_id: TgId, as_json: JsonOpt = False) -> None:
    """One user: role, ban state, balances (debt included), referral code.

    Example: bananapics users show 123456789 --json
    """
    database()
    _show(users.get(tg_id), as_json)


@app.command()
def search(query: Annotated[str, typer.Argument(help="Telegram id, @username prefix, part of a name, a payment's "
                                                     "charge id or a referral code.")],
           limit: Annotated[int, typer.Option(min=1, max=200)] = 20, as_json: JsonOpt = False) -> None:
    """Find users by Telegram id, @username prefix, any part of their names, a payment's charge id
    or a referral code (the same search as the panel's and the TUI's).

    Example: bananapics users search @ann --json
    """
    from bananapics.services import search as search_service

    database()
    found = search_service.users(operator(None), query, limit=limit).rows
    if as_json:
        print_json([users.as_dict(u) for u in found])
        return
    _table(found)


@app.command()
def ban(tg_id: TgId, reason: Reason, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Ban a user: the bot answers them with one short message and nothing else.

    Example: bananapics users ban 123456789 --reason "spam"
    """
    database()
    _show(users.ban(tg_id, reason=reason, actor=operator(as_)), as_json)


@app.command()
def unban(tg_id: TgId, reason: Reason, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Lift a ban.

    Example: bananapics users unban 123456789 --reason "appeal accepted"
    """
    database()
    _show(users.unban(tg_id, reason=reason, actor=operator(as_)), as_json)


@app.command()
def role(tg_id: TgId, role: Annotated[str, typer.Argument(help="user, support or admin.")],
         reason: Annotated[str | None, typer.Option("--reason", "-r")] = None,
         as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change a user's role.

    Example: bananapics users role 123456789 support --reason "new hire"
    """
    database()
    _show(users.set_role(tg_id, role, actor=operator(as_), reason=reason), as_json)


@app.command()
def forget(tg_id: TgId, reason: Reason,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
           as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Erase a user's personal data: names, prompts, images, Telegram file ids (the money records stay, anonymous).

    Example: bananapics users forget 123456789 --reason "erasure request" --yes
    """
    actor = operator(as_)
    database()
    if not yes:
        typer.confirm(f"Erase every name, prompt and image of user {tg_id}? This cannot be undone", abort=True)
    from bananapics.services import privacy
    from bananapics.storage import make_storage

    done = privacy.forget(tg_id, actor=actor, reason=reason, storage=make_storage(config().storage))
    if as_json:
        print_json({"tg_id": done.tg_id, "anonymous_id": -done.user_id, "jobs": done.jobs,
                    "files_deleted": done.files_deleted, "replayed": done.replayed})
        return
    out.print(f"user {tg_id} is forgotten: {done.jobs} generation(s) erased, {done.files_deleted} stored file(s) "
              f"deleted; the money records stay under the anonymous id {-done.user_id}"
              + (" (already forgotten: only leftover files were deleted)" if done.replayed else ""))
