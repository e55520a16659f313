"""The inline admin panel's entry: ``/admin``, its home (today at a glance and the section buttons),
the ``/admin`` command menu entry of each admin and support user, and the registration of every
section module.

``ACTIONS`` serves the panel's routes; each handler first asks ``services.access`` for the presser's
role as the database holds it, so a user pressing a forged ``adm:`` button gets the same "this
button is outdated" answer as any stale button (``PermissionDenied`` is refused like
``StaleButton``) and learns nothing. ``adm:*`` routes not in the table are outdated buttons too.
Sections are built with ``bananapics.bot.admin_kit`` (text steps, confirmations, paging) and add
their entry route to :data:`SECTIONS` (``adm:sec:<section>`` opens it).

``/admin`` from anyone below support is answered like any unknown command: the panel is never
revealed. Admins and support see ``/admin`` in their command menu through a per-user command scope
(``BotCommandScopePeer``), set at bot start, right after a role change made in the panel, and by a
refresh every few seconds (``bananapics.bot.admin_menu``) (a role changed from the CLI or TUI).
"""

from __future__ import annotations

import re
from typing import Any

from telethon import events

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot import admin_log, admin_menu, admin_tx, admin_users, viewer, wizard
from bananapics.bot import admin_packages, admin_pricing, admin_referrals, admin_system, admin_templates
from bananapics.bot import admin_broadcast
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, menu_row
from bananapics.errors import PermissionDenied
from bananapics.services import access, glance, system
from bananapics.services.audit import Actor

ADMIN = re.compile(r"^/admin(?:@\w+)?\s*$")
# the home's section buttons, in rows: (section, label key); a section opens its registered route
LAYOUT = ((("users", "btn-admin-users"), ("pricing", "btn-admin-pricing"), ("referrals", "btn-admin-referrals")),
          (("templates", "btn-admin-templates"), ("transactions", "btn-admin-transactions"),
           ("system", "btn-admin-system")),
          (("log", "btn-admin-log"),),
          (("broadcast", "btn-admin-broadcast"),))
# section → the handler of its first screen (``handler(press) -> Answer``); each section module
# declares ``SECTIONS`` and ``register`` adds them
SECTIONS: dict[str, Any] = {}


def _glance_text(lang: str, actor: Actor, config: Any) -> str:
    g = glance.today(actor=actor, keys=system.provider_keys(config) if config is not None else None)
    lines = [i18n.t(lang, "admin-title"),
             i18n.t(lang, "adm-glance", users=g.new_users, ok=g.generations_ok, failed=g.generations_failed,
                    stars=g.stars_in, tokens=g.tokens_sold, queued=g.queue_depth, running=g.running)]
    if g.providers_up or g.providers_down:
        lines.append(i18n.t(lang, "adm-glance-providers", up=", ".join(g.providers_up) or "—",
                            down=", ".join(g.providers_down) or "—"))
    return "\n".join(lines)


def home_screen(user_id: int, config: Any = None, note: str | None = None) -> Screen:
    actor = access.staff(user_id)
    lang = viewer.lang(user_id)
    rows = [[button(lang, key, "adm", "sec", name) for name, key in row] for row in LAYOUT]
    text = _glance_text(lang, actor, config)
    return Screen(f"{note}\n\n{text}" if note else text, rows + [menu_row(lang)])


def home(press: Press) -> Answer:
    """The panel's first screen: today at a glance and the sections."""
    return home_screen(press.user_id, press.bot.config), None


@kit.section()
def open_section(press: Press, actor: Actor) -> Answer:
    """``adm:sec:<section>``: the section's own first screen (one not built yet says so)."""
    handler = SECTIONS.get(press.args[0])
    if handler is None:
        return home_screen(press.user_id, press.bot.config, i18n.t(viewer.lang(press.user_id), "adm-section-soon")), None
    return handler(press)


ACTIONS = {("adm", "home"): home, ("adm", "sec"): open_section}
_SECTION_MODULES = (kit, admin_users, admin_tx, admin_log)
_SECTION_MODULES += (admin_pricing, admin_packages, admin_referrals, admin_templates, admin_system)
_SECTION_MODULES += (admin_broadcast,)


def register(bot: Any) -> None:
    bot.add_actions(ACTIONS)
    for module in _SECTION_MODULES:
        bot.add_actions(module.ACTIONS)
        bot.add_text_steps(getattr(module, "TEXT_STEPS", {}))
        SECTIONS.update(getattr(module, "SECTIONS", {}))
        if hasattr(module, "register"):
            module.register(bot)
    bot.admin_scopes = admin_menu.Scopes()
    bot.on_start.append(lambda b: b.admin_scopes.sync(b))
    bot.loops.append(admin_menu.refresh_scopes)

    @bot.client.on(events.NewMessage(pattern=ADMIN))
    async def on_admin(event: Any) -> None:
        """/admin: the panel for admins and support; anyone else the unknown-command answer."""
        def render(user: Any) -> Screen:
            if user.role in access.STAFF_ROLES:
                try:
                    return home_screen(user.id, bot.config)
                except PermissionDenied:  # demoted a moment ago
                    pass
            return wizard.resume(user.id, i18n.t(user.language, "error-unknown-command"))

        await bot.reply(event, render)
