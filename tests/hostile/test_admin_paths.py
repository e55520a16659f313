"""Every inline admin route (``adm:*`` in ``bot/callbacks.py`` ROUTES) pressed by a plain user, the
admin-only ones by support, and an admin's pending confirmation pressed by someone else.

The data is well formed (the codec accepts it), so only the role check stands between the press and
the action: the answer is "this button is outdated" (a plain user learns nothing of the panel), no
admin screen is shown, nothing changes, and the admin log holds only ``denied`` rows.
"""

from __future__ import annotations

import pytest

from bananapics.bot.callbacks import ROUTES, encode
from bananapics.models import AdminAction, Conversation
from bananapics.services import users
from tests.hostile.harness import Case, hostile, outdated

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# A value of each argument kind; ``id`` is the target user's Telegram id (filled in per case) and the
# choices are the most dangerous ones (a grant, promotion to admin).
SAMPLE = {"page": 0, "hex": "0123456789abcdef", "slug": "gpt-image", "section": "users", "uaction": "grant",
          "role": "admin", "mfield": "base", "pfield": "stars", "mode": "every", "period": "all", "jview": "failed",
          "offmode": "refund", "move": "up", "tfield": "prompt", "feature": "topups", "onoff": "on",
          "quality": "high", "res": "4K", "bcpart": "text", "bcseg": "lang", "tkind": "adjust"}
ADMIN_ROUTES = sorted(key for key in ROUTES if key[0] == "adm")
LANG_OF = ("uz", "ru", "en")


def data_for(route: tuple[str, str], target: int) -> bytes:
    args = [target if kind.name == "id" else SAMPLE[kind.name] for kind in ROUTES[route].args]
    return encode(*route, *args)


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[f"{s}:{a}" for s, a in ADMIN_ROUTES])
def test_a_plain_user_on_every_admin_route(database, caplog, route):
    lang = LANG_OF[ADMIN_ROUTES.index(route) % 3]

    async def body(case: Case) -> None:
        ann = await case.user("Ann")
        bob = await case.user("Bob", "en")
        case.freeze()
        answer = await ann.press_data(data_for(route, bob.id))
        assert answer.answered and answer.message == outdated(lang)
        assert ann.panel.text.startswith("🍌 BananaPics")  # the main menu, no admin screen
        assert not any(b.data and b.data.startswith(b"adm:") for row in ann.panel.button_rows for b in row)
        assert users.get(ann.id).role == "user"
        assert not Conversation.select().join_from(Conversation, users.User).where(users.User.tg_id == ann.id).exists()
        assert {a.outcome for a in AdminAction.select()} <= {"denied"}

    hostile(database, caplog, body, lang=lang)


# Routes an admin may press and support may not (the role and money changes).
SUPPORT_REFUSED = [("adm", "role"), ("adm", "mtog"), ("adm", "mdef"), ("adm", "ptog"), ("adm", "tdel"),
                   ("adm", "refmode")]


@pytest.mark.parametrize("route", SUPPORT_REFUSED, ids=[f"{s}:{a}" for s, a in SUPPORT_REFUSED])
def test_support_on_admin_only_routes(database, caplog, route):
    async def body(case: Case) -> None:
        helper = await case.staff("Helper", "support")
        bob = await case.user("Bob")
        await helper.send("/admin")
        case.freeze()
        answer = await helper.press_data(data_for(route, bob.id))
        assert answer.answered
        shown = (answer.message or "") + helper.panel.text
        assert case.t("admin-forbidden") in shown or answer.message == outdated("en"), shown
        assert users.get(helper.id).role == "support" and users.get(bob.id).role == "user"

    hostile(database, caplog, body)


def test_an_admins_pending_yes_pressed_by_a_plain_user(database, caplog):
    """The admin's grant waits on its confirmation; Ann copies the Yes button's data (nonce and all)."""
    async def body(case: Case) -> None:
        ann = await case.user("Ann", username="annie")
        boss = await case.staff()
        await boss.send("/admin")
        await boss.press_data(encode("adm", "uact", ann.id, "grant"))
        await boss.send("500")
        await boss.send("a gift")
        yes = boss.panel.button("✅ Yes").data
        case.freeze()
        answer = await ann.press_data(yes)
        assert answer.message == outdated("en")
        assert users.get(ann.id).available == 50
        # and the admin's own confirmation still stands, untouched by the attempt
        assert "Please confirm" in boss.panel.text

    hostile(database, caplog, body)
