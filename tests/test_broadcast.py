"""Broadcast service (SQLite and Postgres) and the `bananapics broadcast` CLI through its entry point:
segments, validation, the frozen recipient list (chunked, idempotent after an interrupted start),
claim priority and pause/resume/cancel, progress counts, permissions and the admin log."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image

from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Broadcast, Outbox, Panel, User, utcnow
from bananapics.services import broadcast, outbox, referrals, users
from bananapics.services.audit import Actor
from tests.helpers import new_user
from tests.test_cli_admin import cli, one_line  # noqa: F401 - the CLI fixture

OPERATOR = Actor.operator("tests")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 40)).save(out, "PNG")
    return out.getvalue()


def people(n: int, **kwargs) -> list[User]:
    return [new_user(**kwargs) for _ in range(n)]


def test_segments_choose_the_audience(database):
    ru = people(3, language_code="ru")
    en = people(2, language_code="en", start=10)
    banned, blocked = new_user(), new_user()
    users.ban(banned.tg_id, reason="spam", actor=OPERATOR)
    users.set_blocked_bot(blocked.tg_id, True)
    referrals.attach(en[0].id, ru[0].referral_code)
    User.update(first_topup_at=utcnow()).where(User.id == ru[1].id).execute()
    User.update(created_at=utcnow() - dt.timedelta(days=60)).execute()
    Panel.insert(user=ru[2].id, chat_id=ru[2].tg_id, message_id=1, updated_at=utcnow()).execute()
    count = lambda seg: broadcast.audience_count(seg, actor=OPERATOR)  # noqa: E731
    assert count(broadcast.Segment()) == 5  # never the banned one nor the one who blocked the bot
    assert count(broadcast.Segment(lang="ru")) == 3
    assert count(broadcast.Segment(balance=True)) == 2
    assert count(broadcast.Segment(referred=True)) == 1
    assert count(broadcast.Segment(paid=True)) == 1
    assert count(broadcast.Segment(active_days=7)) == 1
    assert count(broadcast.Segment(lang="en", balance=True, referred=True)) == 1
    assert broadcast.Segment.parse(["lang=ru", "active=7", "paid"]).describe() == "lang=ru, active 7 d, paid"
    for bad in (["lang=de"], ["active=x"], ["active=0"], ["vip"], ["paid=1"]):
        with pytest.raises(InvalidInput):
            broadcast.Segment.parse(bad)


def test_text_button_and_photo_are_checked(database, tmp_path):
    from bananapics.storage import LocalStorage

    storage = LocalStorage(tmp_path)
    for text, title in (("", "broadcast_text_empty"), ("   ", "broadcast_text_empty"),
                        ("x" * 4097, "broadcast_text_long")):
        with pytest.raises(InvalidInput) as refused:
            broadcast.create(text, actor=OPERATOR)
        assert refused.value.title == title
    for typed in ("no bar", "| https://a.org", "x" * 65 + "|https://a.org", "A | javascript:alert(1)",
                  "A | https://", "A | https://user:pw@a.org", "A | https://a.org/x y", "A | " + "h" * 600):
        with pytest.raises(InvalidInput):
            broadcast.parse_button(typed)
    assert broadcast.parse_button(" Open  it | https://t.me/x?start=a ") == ("Open it", "https://t.me/x?start=a")
    b = broadcast.create("y" * 2000, actor=OPERATOR)
    with pytest.raises(InvalidInput) as refused:  # too long for a caption: the photo is refused
        broadcast.store_photo(storage, b.id, png(), actor=OPERATOR)
    assert refused.value.title == "broadcast_caption_long" and storage.list("broadcasts/") == []
    broadcast.edit(b.id, actor=OPERATOR, text="short")
    with pytest.raises(InvalidInput):
        broadcast.store_photo(storage, b.id, b"not an image", actor=OPERATOR)
    b = broadcast.store_photo(storage, b.id, png(), actor=OPERATOR)
    assert b.photo_key.startswith("broadcasts/") and storage.exists(b.photo_key)
    with pytest.raises(InvalidInput):
        broadcast.edit(b.id, actor=OPERATOR, text="z" * 1100)
    assert broadcast.message(b.id).photo_key == b.photo_key


def test_start_freezes_the_list_in_chunks_and_claim_sends_it_after_user_rows(database, monkeypatch):
    monkeypatch.setattr(broadcast, "CHUNK", 7)
    crowd = people(30)
    b = broadcast.create("Hello", actor=OPERATOR)
    broadcast.start(b.id, actor=OPERATOR)
    b = Broadcast.get_by_id(b.id)
    assert (b.status, b.total) == ("running", 30)
    rows = list(Outbox.select().where(Outbox.broadcast_id == b.id))
    assert sorted(r.user_id for r in rows) == sorted(u.id for u in crowd)
    assert {r.dedupe_key for r in rows} == {f"bc:{b.id}:{u.id}" for u in crowd}
    # a start cut short (a crash while freezing) is finished once, no user twice
    Broadcast.update(status="starting").where(Broadcast.id == b.id).execute()
    Outbox.delete().where((Outbox.broadcast_id == b.id) & (Outbox.user.in_([u.id for u in crowd[10:]]))).execute()
    assert broadcast.resume_freezing() == 1
    assert Outbox.select().where(Outbox.broadcast_id == b.id).count() == 30
    assert Broadcast.get_by_id(b.id).status == "running"
    # user-facing rows go first, even when queued later
    outbox.enqueue(user_id=crowd[0].id, chat_id=crowd[0].tg_id, kind="notice", payload={"text": "hi"},
                   dedupe_key="notice:x")
    claimed = outbox.claim(3)
    assert sorted(r.kind for r in claimed) == ["broadcast", "broadcast", "notice"]
    # paused: only other rows are claimed; resumed: the rest
    broadcast.pause(b.id, actor=OPERATOR)
    assert outbox.claim(50) == []
    broadcast.resume(b.id, actor=OPERATOR)
    more = outbox.claim(50)
    assert len(more) == 28
    for row in (*claimed, *more)[:20]:
        outbox.mark_sent(row.id)
    outbox.give_up_blocked(more[-1].id, "UserIsBlockedError")
    outbox.retry(more[-2].id, "boom")
    Outbox.update(attempts=outbox.MAX_ATTEMPTS, status="sending").where(Outbox.id == more[-2].id).execute()
    outbox.retry(more[-2].id, "boom")  # out of attempts: failed
    p = broadcast.progress(b.id, actor=OPERATOR, per_second=2)
    assert (p.total, p.sent, p.blocked, p.failed) == (30, 19, 1, 1)
    assert p.queued == 9 and p.eta_s == 5 and p.status == "running"
    broadcast.cancel(b.id, actor=OPERATOR, reason="typo")
    p = broadcast.progress(b.id, actor=OPERATOR)
    assert (p.status, p.sent + p.blocked + p.failed + p.cancelled + p.queued) == ("cancelled", 30)
    assert p.cancelled == Outbox.select().where((Outbox.broadcast_id == b.id) & (Outbox.last_error == "cancelled")).count()
    with pytest.raises(InvalidInput):
        broadcast.resume(b.id, actor=OPERATOR)
    actions = [a.action for a in AdminAction.select().where(AdminAction.target == f"broadcast:{b.id}")
               .order_by(AdminAction.id)]
    assert actions == ["broadcast.create", "broadcast.start", "broadcast.pause", "broadcast.resume",
                       "broadcast.cancel"]


def test_done_when_nothing_is_left_and_blocked_rows_are_not_revived(database):
    ann, bob = people(2)
    b = broadcast.create("Hi", actor=OPERATOR)
    broadcast.start(b.id, actor=OPERATOR)
    first, second = outbox.claim(10)
    outbox.mark_sent(first.id)
    outbox.give_up_blocked(second.id, "UserIsBlockedError")
    assert outbox.revive_blocked(second.user_id) == 0  # a missed broadcast is not sent a week late
    p = broadcast.progress(b.id, actor=OPERATOR)
    assert (p.status, p.sent, p.blocked) == ("done", 1, 1) and Broadcast.get_by_id(b.id).finished_at


def test_only_admins_may_broadcast(database):
    helper = new_user()
    users.set_role(helper.tg_id, "support", actor=OPERATOR)
    b = broadcast.create("Hi", actor=OPERATOR)
    support = Actor.for_user(helper.id)
    for call in (lambda: broadcast.create("x", actor=support), lambda: broadcast.start(b.id, actor=support),
                 lambda: broadcast.progress(b.id, actor=support), lambda: broadcast.cancel(b.id, actor=support),
                 lambda: broadcast.audience_count(broadcast.Segment(), actor=support)):
        with pytest.raises(PermissionDenied):
            call()
    assert AdminAction.select().where((AdminAction.outcome == "denied")
                                      & (AdminAction.action == "broadcast.send")).count() == 5
    assert Broadcast.get_by_id(b.id).status == "draft"
    with pytest.raises(NotFound):
        broadcast.start(999, actor=OPERATOR)
    with pytest.raises(InvalidInput):
        broadcast.test_send(b.id, actor=OPERATOR)  # an operator has no chat to test in
    broadcast.start(b.id, actor=OPERATOR)
    with pytest.raises(InvalidInput):
        broadcast.start(b.id, actor=OPERATOR)  # twice: refused
    with pytest.raises(InvalidInput):
        broadcast.edit(b.id, actor=OPERATOR, text="changed")  # started: no more edits


# ---------------------------------------------------------------- CLI


def test_cli_create_status_pause_resume_cancel(cli, tmp_path):  # noqa: F811
    people(4, language_code="ru")
    people(2, language_code="en")
    message = tmp_path / "news.txt"
    message.write_text("📣 Привет!\n", encoding="utf-8")
    code, out, err = cli("broadcast", "create", str(message), "--segment", "lang=ru", input="n\n")
    assert code == 1 and "to 4 users (lang=ru)" in out and Broadcast.select().count() == 0
    code, out, err = cli("broadcast", "create", str(message), "--segment", "lang=ru", "--button",
                         "Open | https://t.me/BananaPicsBot", "--yes", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["status"], data["total"], data["queued"], data["button"]) == (
        "running", 4, 4, ["Open", "https://t.me/BananaPicsBot"])
    assert data["text"] == "📣 Привет!" and data["segment"] == {"lang": "ru"}
    bid = data["id"]
    code, out, _ = cli("broadcast", "status", "--json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [bid]
    code, out, _ = cli("broadcast", "pause", str(bid))
    assert code == 0 and "paused" in out
    code, out, _ = cli("broadcast", "resume", str(bid), "--json")
    assert code == 0 and json.loads(out)["status"] == "running"
    code, out, _ = cli("broadcast", "cancel", str(bid), "--reason", "wrong day", "--yes")
    assert code == 0 and "4 not sent" in out
    code, out, _ = cli("broadcast", "status", str(bid), "--json")
    assert json.loads(out)["cancelled"] == 4 and json.loads(out)["status"] == "cancelled"
    rows = AdminAction.select().where(AdminAction.target == f"broadcast:{bid}").order_by(AdminAction.id)
    assert [(a.actor, a.action) for a in rows] == [("cli:tester", f"broadcast.{x}") for x in
                                                   ("create", "start", "pause", "resume", "cancel")]
    assert rows[-1].reason == "wrong day"


def test_cli_bad_input_and_forbidden(cli, tmp_path):  # noqa: F811
    people(2)
    helper = new_user()
    users.set_role(helper.tg_id, "support", actor=OPERATOR)
    message = tmp_path / "m.txt"
    message.write_text("hello", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text("x" * 1500, encoding="utf-8")
    photo = tmp_path / "p.png"
    photo.write_bytes(png())
    cases = [
        (("create", str(tmp_path / "missing.txt"), "--yes"), 2, "cannot read"),
        (("create", str(empty), "--yes"), 1, "empty"),
        (("create", str(message), "--segment", "vip", "--yes"), 1, "unknown segment"),
        (("create", str(message), "--button", "Open https://x.org", "--yes"), 1, "Label | https://"),
        (("create", str(message), "--button", "Open | ftp://x.org", "--yes"), 1, "not a web link"),
        (("create", str(long), "--photo", str(photo), "--yes"), 1, "1024"),
        (("create", str(message), "--segment", "lang=en", "--segment", "paid", "--yes"), 1, "nobody"),
        (("status", "77"), 3, "not found"),
        (("pause", "77"), 3, "not found"),
        (("pause", "x"), 2, ""),
    ]
    for args, code, says in cases:
        got, out, err = cli("broadcast", *args)
        assert got == code, (args, got, out, err)
        assert says in err, (args, err)
        if code != 2:
            assert one_line(err), err
    assert Broadcast.select().count() == 0
    got, _, err = cli("--as-user", str(helper.tg_id), "broadcast", "create", str(message), "--yes")
    assert got == 4 and one_line(err)
    got, out, err = cli("broadcast", "create", str(message), "--photo", str(photo), "--draft", "--json")
    assert got == 0, err
    data = json.loads(out)
    assert data["status"] == "draft" and data["photo"] is True and Outbox.select().count() == 0
    got, _, err = cli("broadcast", "resume", str(data["id"]))
    assert got == 1 and "only when paused" in err
