"""The user's own figures: the profile screen (``/profile``, 👤 in the menu) and ``/invite`` for the
referral screen (``screens.referral``)."""

from __future__ import annotations

from typing import Any

from telethon import events

from bananapics import i18n
from bananapics.bot import screens
from bananapics.bot.callbacks import Callback, StaleButton
from bananapics.bot.ui import Screen, button, menu_row
from bananapics.services import profile


def profile_screen(user_id: int) -> Screen:
    p = profile.summary(user_id)
    lang = p.language
    lines = [
        i18n.t(lang, "profile-title"), "",
        i18n.t(lang, "profile-id", tg_id=p.tg_id, language=i18n.language_names()[lang]),
        i18n.t(lang, "profile-balance", balance=p.available, held=p.held),
    ]
    if p.debt:  # owed after a forced refund: generation waits for the next top-up
        lines.append(i18n.t(lang, "balance-debt", debt=p.debt))
    lines += [i18n.t(lang, "profile-generations", jobs=p.generations, count=p.images, total=p.spent),
              i18n.t(lang, "profile-referrals", friends=p.friends, earned=p.earned)]
    text = "\n".join(lines)
    return Screen(text, [
        [button(lang, "btn-balance", "bal", "open"), button(lang, "btn-history", "hist", "page", 0)],
        [button(lang, "btn-invite", "ref", "open"), button(lang, "btn-settings", "set", "open")],
        menu_row(lang),
    ])


def route(user_id: int, cb: Callback, chat_id: int) -> tuple[Screen, str | None]:
    if (cb.screen, cb.action) == ("prof", "open"):
        return profile_screen(user_id), None
    raise StaleButton(f"{cb.screen}:{cb.action} has no screen")


def register(bot) -> None:
    bot.routers["prof"] = route

    @bot.client.on(events.NewMessage(pattern=r"^/(profile|invite)(?:@\w+)?\s*$"))
    async def on_account(event: Any) -> None:
        render = profile_screen if event.pattern_match.group(1) == "profile" else screens.referral
        await bot.reply(event, lambda user: render(user.id))
