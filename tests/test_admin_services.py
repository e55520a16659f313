"""The admin service layer on SQLite and Postgres: catalog, switch-off with refunds, packages,
toggles, maintenance mode, the system snapshot and keyset pagination."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from bananapics import i18n
from bananapics.errors import FeatureOff, InvalidInput, NotFound
from bananapics.models import AdminAction, AiModel, Job, Outbox, Package, Payment, Setting, Transfer, WorkerHeartbeat, db, utcnow
from bananapics.providers.base import ImageOut
from bananapics.services import (catalog, drafts, invoices, jobs, lists, maintenance, packages, payments, pricing,
                                 referrals, settings, system, templates, toggles, users)
from bananapics.services.audit import Actor
from bananapics.storage import LocalStorage
from bananapics.worker import Heartbeat, Runtime, run_job
from tests.helpers import assert_ledger_clean, new_user

ADMIN = Actor.operator("ops")


class Images:
    name = "images"

    def generate(self, request):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
        return [ImageOut(out.getvalue(), "image/png", 8, 8) for _ in range(request.count)]


def runtime(tmp_path) -> Runtime:
    return Runtime(storage=LocalStorage(tmp_path / "media", fsync=False), provider_for=lambda name: Images(),
                   timing=jobs.Timing(), name="test")


def ok_log(action: str) -> list[AdminAction]:
    return list(AdminAction.select().where((AdminAction.action == action) & (AdminAction.outcome == "ok"))
                .order_by(AdminAction.id))


# ---------------------------------------------------------------- catalog

@pytest.mark.parametrize("bad", [-1, 10**12, 1.5, "abc", True, "1e3"])
def test_catalog_refuses_bad_numbers_and_changes_nothing(database, bad):
    before = AiModel.get_by_id("nano-banana")
    for kwargs in ({"base_price": bad}, {"extras": {"resolution": {"4K": bad}}}, {"extras": {"per_reference": bad}},
                   {"max_refs": bad}, {"max_count": bad}):
        with pytest.raises(InvalidInput):
            catalog.edit("nano-banana", actor=ADMIN, **kwargs)
    after = AiModel.get_by_id("nano-banana")
    assert (after.base_price, after.pricing, after.limits) == (before.base_price, before.pricing, before.limits)
    assert ok_log("catalog.edit") == []


def test_catalog_edit_validates_options_and_caps(database):
    with pytest.raises(InvalidInput, match="no resolution '8K'"):
        catalog.edit("nano-banana", extras={"resolution": {"8K": 5}}, actor=ADMIN)
    with pytest.raises(InvalidInput, match="no quality"):  # Nano Banana has no quality setting
        catalog.edit("nano-banana", extras={"quality": {"high": 5}}, actor=ADMIN)
    with pytest.raises(InvalidInput, match="between 1 and 10"):
        catalog.edit("nano-banana", max_count=11, actor=ADMIN)
    with pytest.raises(NotFound):
        catalog.edit("nope", base_price=1, actor=ADMIN)


def test_catalog_edit_prices_limits_and_preview(database):
    quote = catalog.preview("nano-banana", {"resolution": "4K", "count": 2, "refs": 2}, actor=ADMIN)
    assert quote.total == pricing.cost("nano-banana", {"resolution": "4K", "count": 2, "refs": 2}).total
    what_if = catalog.preview("nano-banana", {"resolution": "4K", "count": 2}, base_price=10,
                              extras={"resolution": {"4K": 40}}, actor=ADMIN)
    assert what_if.total == (10 + 40) * 2
    assert AiModel.get_by_id("nano-banana").base_price != 10  # a preview saves nothing

    edited = catalog.edit("nano-banana", base_price="10", extras={"resolution": {"4K": 40}, "per_reference": 0},
                          max_refs=2, max_count=3, actor=ADMIN, reason="new prices")
    assert edited.base_price == 10 and edited.max_refs == 2 and edited.limits_dict["max_count"] == 3
    # the running processes read the catalogue afresh: the next price is the new one
    assert pricing.cost("nano-banana", {"resolution": "4K", "count": 3, "refs": 2}).total == 150
    with pytest.raises(InvalidInput):
        pricing.cost("nano-banana", {"count": 4})
    log = ok_log("catalog.edit")
    assert len(log) == 1 and log[0].reason == "new prices" and '"base_price": 10' in log[0].after
    assert catalog.edit("nano-banana", base_price=10, actor=ADMIN).base_price == 10  # no change, no row
    assert len(ok_log("catalog.edit")) == 1


def test_default_model_must_be_on(database):
    catalog.set_default("seedream-4", actor=ADMIN)
    assert [m.id for m in AiModel.select().where(AiModel.is_default == True)] == ["seedream-4"]  # noqa: E712
    assert drafts.default_model().id == "seedream-4"
    catalog.set_enabled("gpt-image", False, actor=ADMIN)
    with pytest.raises(InvalidInput, match="switched off"):
        catalog.set_default("gpt-image", actor=ADMIN)


def test_switching_a_model_off_keeps_submitted_jobs_running(database, tmp_path):
    ann = new_user(100)
    drafts.choose_model(ann.id, "nano-banana")
    drafts.set_prompt(ann.id, "a cat")
    queued = drafts.confirm(ann.id, chat_id=ann.tg_id)
    drafts.go(ann.id, "confirm")
    done = catalog.set_enabled("nano-banana", False, actor=ADMIN, reason="provider trouble")
    assert done.refunded == [] and not done.model.enabled
    # new drafts cannot pick it; a confirm screen on it answers "switched off"
    with pytest.raises(InvalidInput) as picked:
        drafts.choose_model(ann.id, "nano-banana")
    assert picked.value.title == "model_disabled"
    with pytest.raises(InvalidInput) as confirmed:
        drafts.confirm(ann.id, chat_id=ann.tg_id)
    assert confirmed.value.title == "model_disabled"
    assert "nano-banana" not in [m.id for m in drafts.enabled_models()]
    # the job submitted before still runs and is charged
    assert run_job(queued.id, runtime(tmp_path)).status == "succeeded"
    assert jobs.get(queued.id).status == "succeeded"
    assert_ledger_clean()


def test_switch_off_and_refund_queued_jobs_once_and_tell_the_users(database, tmp_path):
    settings.set_value("limits.user_parallel_jobs", 20, actor=ADMIN)
    ann, bob = new_user(100), new_user(100)
    a1 = jobs.submit(ann.id, "nano-banana", "one", chat_id=ann.tg_id)
    b1 = jobs.submit(bob.id, "nano-banana", "two", chat_id=bob.tg_id)
    running = jobs.submit(ann.id, "nano-banana", "three", chat_id=ann.tg_id)
    other = jobs.submit(bob.id, "seedream-4", "four", chat_id=bob.tg_id)
    assert jobs.claim(running.id, "w1") is not None  # a worker already took this one
    done = catalog.set_enabled("nano-banana", False, refund_queued=True, actor=ADMIN)
    assert sorted(done.refunded) == sorted([a1.id, b1.id])
    for job, user in ((a1, ann), (b1, bob)):
        row = jobs.get(job.id)
        assert (row.status, row.error_kind) == ("failed", "model_disabled")
        assert Transfer.select().where((Transfer.kind == "refund") & (Transfer.ref == job.id)).count() == 1
        told = Outbox.get((Outbox.job == job.id) & (Outbox.kind == "job_failed"))
        assert told.chat_id == user.tg_id and told.data["reason"] == "model_disabled"
        assert told.data["refunded"] == job.cost
    assert jobs.get(running.id).status == "running" and jobs.get(other.id).status == "queued"
    assert users.get(ann.tg_id).available == 100 - running.cost and users.get(ann.tg_id).inflight == 1
    # a replay (the admin presses again, a redelivered task) refunds nothing twice
    again = catalog.set_enabled("nano-banana", False, refund_queued=True, actor=ADMIN)
    assert again.refunded == []
    assert jobs.cancel_queued(a1.id, "model_disabled", "again") is None
    assert run_job(a1.id, runtime(tmp_path)).status == "skipped"
    assert Transfer.select().where(Transfer.kind == "refund").count() == 2
    assert Outbox.select().where(Outbox.kind == "job_failed").count() == 2
    assert len(ok_log("catalog.disable")) == 1
    assert_ledger_clean()
    with pytest.raises(InvalidInput):
        catalog.set_enabled("nano-banana", True, refund_queued=True, actor=ADMIN)


# ---------------------------------------------------------------- packages

def test_an_invoice_sent_before_an_edit_credits_the_old_terms(database):
    ann = new_user()
    package = Package.get(Package.stars == 250)
    intent = invoices.create_intent(ann.id, package.id)
    old = (intent.stars, intent.tokens, intent.bonus_tokens)
    packages.edit(package.id, tokens=10, bonus_pct=0, actor=ADMIN, reason="cheaper")
    assert invoices.precheckout(ann.tg_id, intent.payload, "XTR", intent.stars).ok
    credit = payments.credit_charge(ann.tg_id, intent.payload, "ch-old", currency="XTR", amount=intent.stars)
    assert (intent.stars, credit.tokens, credit.bonus) == old
    fresh = invoices.create_intent(ann.id, package.id)
    assert (fresh.tokens, fresh.bonus_tokens) == (10, 0)
    log = ok_log("packages.edit")
    assert len(log) == 1 and '"tokens": 10' in log[0].after and log[0].reason == "cheaper"
    assert_ledger_clean()


def test_packages_create_deactivate_reorder_and_validate(database):
    made = packages.create(stars=75, tokens=160, bonus_pct=5, actor=ADMIN)
    assert invoices.packages()[-1].id == made.id and made.bonus_tokens == 8
    packages.set_active(made.id, False, actor=ADMIN)
    assert made.id not in [p.id for p in invoices.packages()]
    order = [p.id for p in packages.all_packages(actor=ADMIN)][::-1]
    packages.reorder(order, actor=ADMIN)
    assert [p.id for p in packages.all_packages(actor=ADMIN)] == order
    for bad in ({"stars": 0}, {"tokens": -1}, {"bonus_pct": 10**12}, {"stars": "x"}):
        with pytest.raises(InvalidInput):
            packages.edit(made.id, actor=ADMIN, **bad)
    with pytest.raises(InvalidInput, match="every package"):
        packages.reorder(order[1:], actor=ADMIN)
    with pytest.raises(NotFound):
        packages.edit(10**6, stars=5, actor=ADMIN)


# ---------------------------------------------------------------- toggles and maintenance

def test_topups_off_refuses_new_invoices_but_one_sent_before_still_credits(database):
    ann = new_user()
    package = Package.get(Package.stars == 50)
    sent = invoices.create_intent(ann.id, package.id)
    toggles.set_feature("topups", False, actor=ADMIN)
    with pytest.raises(FeatureOff) as off:
        invoices.create_intent(ann.id, package.id)
    assert off.value.feature == "topups" and off.value.title == "feature_off"
    assert i18n.t("ru", i18n.error_key(off.value)) == "Эта функция сейчас отключена."  # what a front end shows
    assert invoices.precheckout(ann.tg_id, sent.payload, "XTR", sent.stars).ok
    assert payments.credit_charge(ann.tg_id, sent.payload, "ch-late", currency="XTR", amount=sent.stars).tokens == 100
    toggles.set_feature("topups", True, actor=ADMIN)
    invoices.create_intent(ann.id, package.id)
    assert [a.action for a in AdminAction.select().order_by(AdminAction.id)] == ["toggles.set", "toggles.set"]


def test_referrals_off_binds_nobody_and_pays_no_cashback(database):
    inviter, friend, late = new_user(), new_user(), new_user()
    referrals.attach(friend.id, inviter.referral_code)
    toggles.set_feature("referrals", False, actor=ADMIN)
    with pytest.raises(FeatureOff):
        referrals.attach(late.id, inviter.referral_code)
    credit = payments.credit(friend.id, "ch-1", stars=50, tokens=100)
    assert credit.cashback == 0 and users.get(inviter.tg_id).available == 0
    toggles.set_feature("referrals", True, actor=ADMIN)
    assert payments.credit(friend.id, "ch-2", stars=50, tokens=100).cashback == 10
    assert_ledger_clean()


def test_templates_off_refuses_using_a_template(database):
    ann = new_user()
    template = templates.admin_list()[0][0]
    toggles.set_feature("templates", False, actor=ADMIN)
    with pytest.raises(FeatureOff):
        drafts.from_template(ann.id, template, "en")
    toggles.set_feature("templates", True, actor=ADMIN)
    assert drafts.from_template(ann.id, template, "en").template_id == template.id


def test_a_toggle_reaches_another_process_at_its_next_read(database):
    assert toggles.is_on("templates")  # this process has the settings cached now
    # another process switches it off (a raw write with the version bump set_value makes)
    with db.connection_context():
        db.execute_sql("UPDATE settings SET value = 'false', version = version + 1 WHERE key = 'features.templates'") \
            if Setting.get_or_none(Setting.key == "features.templates") else \
            Setting.insert(key="features.templates", type="bool", value="false").execute()
    assert not toggles.is_on("templates")
    assert toggles.current() == {"templates": False, "referrals": True, "topups": True}
    with pytest.raises(InvalidInput):
        toggles.set_feature("lottery", True, actor=ADMIN)


def test_maintenance_mode_blocks_users_lets_staff_pass_and_credits_payments(database):
    ann, helper, boss = new_user(), new_user(), new_user()
    users.set_role(helper.tg_id, "support", actor=ADMIN)
    users.set_role(boss.tg_id, "admin", actor=ADMIN)
    sent = invoices.create_intent(ann.id, Package.get(Package.stars == 50).id)
    assert not maintenance.blocks(users.get(ann.tg_id))
    maintenance.set_mode(True, messages={"ru": "Скоро вернёмся", "en": "Back at 15:00"}, actor=ADMIN, reason="db move")
    assert maintenance.blocks(users.get(ann.tg_id)) and maintenance.blocks(None)
    assert not maintenance.blocks(users.get(helper.tg_id)) and not maintenance.blocks(users.get(boss.tg_id))
    assert maintenance.message("en") == "Back at 15:00" and maintenance.message("ru-RU") == "Скоро вернёмся"
    assert "texnik" in maintenance.message("uz")  # no Uzbek text given: the built-in one
    # a payment already in flight still goes through
    assert invoices.precheckout(ann.tg_id, sent.payload, "XTR", sent.stars).ok
    assert payments.credit_charge(ann.tg_id, sent.payload, "ch-m", currency="XTR", amount=sent.stars).tokens == 100
    maintenance.set_mode(False, actor=ADMIN)
    assert not maintenance.blocks(users.get(ann.tg_id))
    with pytest.raises(InvalidInput):
        maintenance.set_mode(True, messages={"de": "Wartung"}, actor=ADMIN)
    assert not maintenance.enabled()
    assert len(ok_log("toggles.set")) == 4  # two messages and on, then off


# ---------------------------------------------------------------- system snapshot

def test_system_snapshot(database, tmp_path):
    settings.set_value("limits.user_parallel_jobs", 20, actor=ADMIN)
    now = utcnow()
    ann = new_user(500)
    payments.credit(ann.id, "ch-today", stars=50, tokens=100, bonus=10)
    good = [jobs.submit(ann.id, "nano-banana", f"ok {i}") for i in range(3)]
    for job, seconds in zip(good, (2, 4, 30)):
        jobs.claim(job.id, "w")
        jobs.succeed(job.id, [f"jobs/{job.id}/0.png"])
        Job.update(started_at=now - dt.timedelta(seconds=seconds), finished_at=now).where(Job.id == job.id).execute()
    bad = jobs.submit(ann.id, "gpt-image", "fails")
    jobs.claim(bad.id, "w")
    jobs.fail(bad.id, "moderation", "refused")
    jobs.submit(ann.id, "seedream-4", "waits")
    system.beat("host-a:1", "0.1.0", now=now)
    system.beat("host-b:2", "0.1.0", now=now - dt.timedelta(minutes=5))

    snap = system.snapshot(actor=ADMIN, keys={"gemini": True, "openai": False}, now=now + dt.timedelta(seconds=1))
    assert snap.queue_depth == 1 and snap.running == 0
    assert snap.last_hour == {"submitted": 5, "succeeded": 3, "failed": 1}
    assert [(w.id, w.alive) for w in snap.workers] == [("host-a:1", True), ("host-b:2", False)]
    by_name = {p.name: p for p in snap.providers}
    gemini = by_name["gemini"]  # nano-banana runs on Gemini
    assert gemini.key == "configured" and gemini.p50_latency_s == 4.0 and gemini.last_success is not None
    assert by_name["openai"].key == "missing" and by_name["openai"].last_error == "moderation"
    assert by_name["local"].key == "not needed"
    assert snap.users_today == 1 and snap.users_total == 1
    assert (snap.stars_today, snap.tokens_today) == (50, 110)
    assert "key" not in str(snap.as_dict()).replace("'key'", "")  # booleans only, never a key
    assert system.provider_keys(type("C", (), {"providers": type("P", (), {"gemini_api_key": "x", "openai_api_key": None,
                                                                          "ark_api_key": None, "fal_api_key": None})})()) \
        == {"gemini": True, "openai": False, "ark": False, "fal": False}


def test_heartbeat_row_per_process(database):
    beat = Heartbeat.ensure_started(every_s=3600)
    try:
        assert Heartbeat.ensure_started() is beat
        row = WorkerHeartbeat.get_by_id(beat.worker_id)
        assert row.version and ":" in row.id
        system.beat(beat.worker_id, "0.2.0")
        assert WorkerHeartbeat.select().count() == 1 and WorkerHeartbeat.get_by_id(beat.worker_id).version == "0.2.0"
    finally:
        Heartbeat.shutdown()
    assert WorkerHeartbeat.select().count() == 0


def test_every_consumer_starts_the_heartbeat(database, tmp_path):
    from huey import MemoryHuey

    from bananapics.tasks.generation import register

    huey = MemoryHuey("hb", immediate=False)
    register(huey, lambda: runtime(tmp_path))
    huey._startup["bananapics.heartbeat"]()  # what each consumer worker runs when it starts
    try:
        assert WorkerHeartbeat.select().count() == 1
    finally:
        huey._shutdown["bananapics.heartbeat"]()
    assert WorkerHeartbeat.select().count() == 0


# ---------------------------------------------------------------- keyset pagination

def _all_pages(fetch, limit: int, between=None) -> list:
    seen, cursor = [], None
    while True:
        page = fetch(limit=limit, after=cursor)
        seen += page.items
        if between is not None:
            between()
        if page.next is None:
            return seen
        cursor = page.next


def test_keyset_pages_are_stable_across_inserts(database):
    settings.set_value("limits.user_parallel_jobs", 20, actor=ADMIN)
    first = [new_user() for _ in range(7)]
    extra = iter(range(8_100_000, 8_100_100))
    pages = _all_pages(lambda **kw: lists.users(actor=ADMIN, **kw), 3,
                       between=lambda: users.register(next(extra)))  # a new user joins after every page
    assert [u.id for u in pages] == [u.id for u in reversed(first)]  # newest first, none twice, none skipped

    ann = first[0]
    for i in range(5):
        payments.credit(ann.id, f"ch-{i}", stars=50, tokens=100)
    paid = _all_pages(lambda **kw: lists.payments(actor=ADMIN, user=ann.tg_id, **kw), 2,
                      between=lambda: payments.credit(ann.id, f"ch-x{Payment.select().count()}", stars=50, tokens=100))
    assert [p.charge_id for p in paid] == [f"ch-{i}" for i in range(4, -1, -1)]

    made = [jobs.submit(ann.id, "nano-banana", f"p{i}") for i in range(4)]
    got = _all_pages(lambda **kw: lists.jobs(actor=ADMIN, user=ann.tg_id, status="queued", **kw), 3)
    assert [j.id for j in got] == [j.id for j in reversed(made)] and got[0].user.tg_id == ann.tg_id

    tops = _all_pages(lambda **kw: lists.transfers(actor=ADMIN, user=ann.tg_id, kind="topup", **kw), 4)
    assert len(tops) == Transfer.select().where(Transfer.kind == "topup").count()
    users.ban(ann.tg_id, reason="x", actor=ADMIN)
    logged = lists.admin_log(actor=ADMIN, by="cli:ops", target=f"user:{ann.tg_id}")
    assert [a.action for a in logged.items] == ["users.ban"] and logged.next is None
    assert [u.id for u in lists.users(actor=ADMIN, banned=True).items] == [ann.id]


def test_bad_page_arguments_are_one_clear_error(database):
    for bad in ("nonsense", "2026-01-01T00:00:00|x", "|5"):
        with pytest.raises(InvalidInput, match="page cursor"):
            lists.users(actor=ADMIN, after=bad)
    with pytest.raises(InvalidInput):
        lists.users(actor=ADMIN, limit=0)
    with pytest.raises(InvalidInput):
        lists.jobs(actor=ADMIN, status="lost")
    with pytest.raises(NotFound):
        lists.payments(actor=ADMIN, user=999)
    assert settings.get("features.topups") is True


def test_a_user_whose_queued_job_is_refunded_is_told_in_their_language(database):
    from bananapics.bot.delivery import deliver_once
    from bananapics.simtg import SimUser
    from tests.helpers import scenario

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        user = users.get(ann.id)
        job = jobs.submit(user.id, "nano-banana", "two ripe bananas", chat_id=ann.id)  # not enqueued: waiting
        catalog.set_enabled("nano-banana", False, refund_queued=True, actor=ADMIN)
        tg.clock.advance(5)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        await tg.settle()
        assert "switched off before your request started" in ann.last.text
        assert users.get(ann.id).available == 50 and jobs.get(job.id).status == "failed"
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0  # told once
        assert_ledger_clean()

    scenario(database, body)
