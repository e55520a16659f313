"""Users service: registration, search, roles, bans, bootstrap admins, audit rows."""

from __future__ import annotations

import pytest

from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Transfer, User
from bananapics.services import lists, users
from bananapics.services.audit import Actor
from tests.helpers import assert_ledger_clean

ADMIN = Actor.operator("alice")


def test_register_creates_once_refreshes_names_and_grants_welcome_once(database):
    first = users.register(42, username="fox", first_name="Ali", language_code="ru-RU", start_balance=30)
    assert first.created and first.user.language == "ru" and first.user.available == 30
    again = users.register(42, username="fox2", first_name="Ali", last_name="V", language_code="en", start_balance=30)
    assert not again.created
    assert (again.user.username, again.user.last_name, again.user.available) == ("fox2", "V", 30)
    assert again.user.language == "ru"  # a user's chosen language is not overwritten
    assert Transfer.select().where(Transfer.kind == "grant").count() == 1
    assert len(first.user.referral_code) == 8
    assert_ledger_clean()


def test_language_pick_and_default():
    assert users.pick_language("uz") == "uz"
    assert users.pick_language("en-GB") == "en"
    assert users.pick_language("de", default="ru") == "ru"
    assert users.pick_language(None) == "uz"


def test_register_rejects_bad_ids_and_strips_control_characters(database):
    for bad in (0, -5, 2**60, "12"):
        with pytest.raises(InvalidInput):
            users.register(bad)
    user = users.register(77, first_name="A\x00li\n", username="x" * 100).user
    assert user.first_name == "Ali" and len(user.username) == 64


def test_bootstrap_admins_from_config(database):
    assert users.register(5, bootstrap_admins=[5]).user.role == "admin"
    users.register(6)
    assert users.bootstrap_admins([6, 404]) == [6]
    assert users.get(6).role == "admin"
    assert users.bootstrap_admins([6]) == []
    assert AdminAction.get(AdminAction.target == "user:6").actor == "system"


def test_add_show_and_duplicates(database):
    user = users.add(1001, username="@Boss", role="admin", actor=ADMIN)
    assert (user.username, user.role) == ("Boss", "admin")
    assert users.get(1001).id == user.id
    with pytest.raises(InvalidInput, match="already exists"):
        users.add(1001, actor=ADMIN)
    with pytest.raises(InvalidInput, match="unknown role"):
        users.add(1002, role="king", actor=ADMIN)
    with pytest.raises(NotFound):
        users.get(31337)
    assert AdminAction.select().where(AdminAction.action == "users.add").count() == 1


def test_search_by_id_username_prefix_and_name_part(database):
    users.register(2001, username="banana_fan", first_name="Dilnoza", last_name="Karimova")
    users.register(2002, username="bananas", first_name="Ivan")
    users.register(2003, username=None, first_name="100%", last_name="Real")
    found = lambda q: sorted(u.tg_id for u in lists.users(actor=ADMIN, search=q).items)  # noqa: E731
    assert found("2001") == [2001]
    assert found("@BANANA") == [2001, 2002]
    assert found("@banana_") == [2001]  # _ is literal, not a wildcard
    assert found("karim") == [2001]
    assert found("dilnoza kar") == [2001]
    assert found("100%") == [2003]
    assert found("0%r") == []
    assert found("@nobody") == []
    assert found("²") == [] and found("99999999999999999999999") == []  # not an id: no crash, no overflow
    with pytest.raises(InvalidInput):
        lists.users(actor=ADMIN, search="   ")


def test_ban_unban_role_need_admin_and_reason_and_are_logged(database):
    users.register(3001)
    plain = Actor("tg:9", "user")
    with pytest.raises(PermissionDenied):
        users.ban(3001, reason="spam", actor=plain)
    with pytest.raises(PermissionDenied):  # support may ban, not change roles
        users.set_role(3001, "admin", actor=Actor("tg:8", "support"))
    with pytest.raises(InvalidInput, match="reason"):
        users.ban(3001, reason="", actor=ADMIN)
    banned = users.ban(3001, reason="spam", actor=ADMIN)
    assert banned.banned and banned.ban_reason == "spam"
    users.ban(3001, reason="spam", actor=ADMIN)  # no change, no second log row
    assert users.unban(3001, reason="appeal", actor=ADMIN).banned is False
    assert users.set_role(3001, "support", actor=ADMIN).role == "support"
    with pytest.raises(InvalidInput):
        users.set_role(3001, "god", actor=ADMIN)
    with pytest.raises(NotFound):
        users.ban(404, reason="x", actor=ADMIN)
    actions = [(a.action, a.reason) for a in AdminAction.select().where(AdminAction.outcome == "ok")
               .order_by(AdminAction.id)]
    assert actions == [("users.ban", "spam"), ("users.unban", "appeal"), ("users.role", None)]
    assert User.get(User.tg_id == 3001).role == "support"


def test_changing_the_welcome_amount_never_touches_existing_users(database):
    users.register(4001, start_balance=50)
    again = users.register(4001, start_balance=100)  # the operator raised the welcome balance
    assert again.user.available == 50
    assert Transfer.select().where(Transfer.kind == "grant").count() == 1
    assert users.register(4002, start_balance=100).user.available == 100
    assert_ledger_clean()
