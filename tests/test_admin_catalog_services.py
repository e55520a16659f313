"""The services the catalog sections of the admin panel added: template move, referral cashback
summary, per-model health, setting bounds."""

from __future__ import annotations

import json

from bananapics.models import AdminAction, Template
from bananapics.services import jobs, referral_stats, settings, system, templates, users
from bananapics.services.audit import Actor

OPS = Actor.operator("tests")


def test_move_swaps_neighbours_in_a_category_logs_the_order_and_stops_at_the_ends(database):
    first = templates.admin_list()[0][0]
    ids = [t.id for t in Template.select().where(Template.category == first.category_id).order_by(Template.sort, Template.id)]
    templates.move(ids[0], 1, actor=OPS)
    after = [t.id for t in Template.select().where(Template.category == first.category_id).order_by(Template.sort, Template.id)]
    assert after[:2] == [ids[1], ids[0]] and after[2:] == ids[2:]
    [row] = AdminAction.select().where(AdminAction.action == "templates.reorder")
    assert json.loads(row.before) == {"order": ids} and json.loads(row.after) == {"order": after}
    templates.move(after[0], -1, actor=OPS)  # already first: nothing changes, nothing logged
    assert AdminAction.select().where(AdminAction.action == "templates.reorder").count() == 1


def test_referral_summary_counts_cashback_net_of_refunds_per_window(database):
    from tests.helpers import new_user
    from bananapics.services import payments, referrals

    bob = new_user()
    ann = new_user()
    referrals.attach(ann.id, bob.referral_code)
    payments.credit(ann.id, "ch-1", stars=50, tokens=100)
    payments.credit(ann.id, "ch-2", stars=50, tokens=100)
    summary = referral_stats.summary(actor=OPS)
    assert summary.paid == {7: 20, 30: 20}
    [top] = summary.top
    assert top.tg_id == bob.tg_id and top.friends == 1 and top.cashback == {7: 10 * 2, 30: 20}
    payments.mark_refunded("ch-2", actor=OPS, reason="test")  # the refund takes its cashback back
    assert referral_stats.summary(actor=OPS).paid == {7: 10, 30: 10}


def test_models_health_lists_every_model_with_its_queue(database):
    from tests.helpers import new_user

    ann = new_user(100)
    jobs.submit(ann.id, "nano-banana", "a queued banana", chat_id=ann.tg_id)
    health = {h.id: h for h in system.models_health(actor=OPS)}
    assert health["nano-banana"].queued == 1 and health["nano-banana"].breaker == "closed"
    assert health["seedream-4"].queued == 0 and health["seedream-4"].enabled
    assert users.get(ann.tg_id).held > 0


def test_setting_bounds_follow_the_registry():
    assert settings.bounds("limits.user_parallel_jobs") == (1, 20)
    assert settings.bounds("trending.days") == (1, 365)
    assert settings.bounds("maintenance.enabled") is None
