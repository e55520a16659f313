"""The user's own figures: the profile screen (``/profile``, 👤 in the menu), ``/invite`` for the
referral screen (``screens.referral``) and the inviter's "your friend joined" notice."""

from __future__ import annotations

from typing import Any

from telethon import events

from bananapics import i18n
from bananapics.bot import delivery, screens
from bananapics.bot.ui import Screen, button, menu_row
from bananapics.models import Outbox, User
from bananapics.services import onboarding, profile


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


def friend_joined(row: Outbox, user: User) -> list[delivery.Part]:
    """The outbox row ``services.onboarding`` writes when someone joins by the user's link."""
    return [delivery.Part(i18n.t(user.language, "ref-friend-joined", name=row.data.get("name") or "🙂"))]


ACTIONS = {("prof", "open"): lambda press: (profile_screen(press.user_id), None)}


def register(bot) -> None:
    bot.add_actions(ACTIONS)
    delivery.PARTS[onboarding.NOTICE_FRIEND_JOINED] = friend_joined

    @bot.client.on(events.NewMessage(pattern=r"^/(profile|invite)(?:@\w+)?\s*$"))
    async def on_account(event: Any) -> None:
        render = profile_screen if event.pattern_match.group(1) == "profile" else screens.referral
        await bot.reply(event, lambda user: render(user.id))
