"""The permission matrix: every admin service function × {user, support, admin}.

An admin service function is any public function in ``bananapics.services`` with an ``actor: Actor``
parameter; :data:`CASES` must hold at least one row for each (a new admin function without a row
fails :func:`test_every_admin_function_has_a_row`). Each row says which roles may call it. For a
role that may, the call succeeds; for one that may not, it raises PermissionDenied, every table but
the admin log is exactly as before, and the admin log has exactly one new row: outcome ``denied``,
the actor's name, the permission.

Actors are built the way the Telegram panel builds them: ``Actor.for_user`` on a real user row with
that role (the role is read from the database, not taken from the caller).
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

import bananapics.services as services_pkg
from bananapics.db import atomic, connection
from bananapics.errors import PermissionDenied
from bananapics.models import AdminAction, Job, Package, User, db
from bananapics.services import (catalog, jobs, ledger, lists, maintenance, packages, payments, privacy, reconcile,
                                 referrals, settings, corrections, glance, refund_preview, stuck_jobs, usercard,
                                 system, templates, toggles, users)
from bananapics.services.audit import PERMISSIONS, Actor
from bananapics.services import console, dashboard, export, search, templates_io  # noqa: E402 - console data services (issue 12)
from bananapics.storage import LocalStorage

ALL = frozenset({"user", "support", "admin"})
STAFF = frozenset({"support", "admin"})  # read everything, ban/unban, retry jobs, refund
ADMIN = frozenset({"admin"})
LANGS3 = {"uz": "Tog‘", "ru": "Горы", "en": "Mountains"}
PROMPTS3 = {"uz": "Tog‘lar ustida tong", "ru": "Рассвет над горами", "en": "Dawn over the mountains"}


class Stars:
    """The Telegram side of a refund: it just returns the Stars; its history is empty."""

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        pass

    def transactions(self, *, max_pages: int = 50):
        return [], True


@dataclass
class World:
    """What the calls act on, made fresh for every test."""

    target: User  # a plain user the admin functions act on
    quiet: User  # a user with no generation running (one that can be forgotten)
    charge: str  # a small paid Stars charge of the target
    big_charge: str  # a charge above admin.support_refund_limit
    job_id: str  # a queued job of the target
    spent_job_id: str  # a queued job that has used all its attempts
    template_id: int
    package_ids: list[int]
    storage: LocalStorage


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 40)).save(out, "PNG")
    return out.getvalue()


Call = Callable[[Actor, World], Any]

# (function, case, roles allowed, call)
CASES: list[tuple[str, str, frozenset[str], Call]] = [
    ("users.add", "", ADMIN, lambda a, w: users.add(7_000_001, actor=a)),
    ("users.ban", "", STAFF, lambda a, w: users.ban(w.target.tg_id, reason="spam", actor=a)),
    ("users.unban", "", STAFF, lambda a, w: users.unban(w.target.tg_id, reason="appeal", actor=a)),
    ("users.set_role", "", ADMIN, lambda a, w: users.set_role(w.target.tg_id, "support", actor=a)),
    ("ledger.adjust", "", ADMIN, lambda a, w: ledger.adjust(w.target.id, 5, reason="goodwill", actor=a)),
    ("payments.mark_refunded", "", ADMIN, lambda a, w: payments.mark_refunded(w.charge, reason="asked", actor=a)),
    ("payments.refund", "", STAFF,
     lambda a, w: payments.refund(w.charge, reason="asked", actor=a, telegram=Stars())),
    ("payments.refund", "over the support limit", ADMIN,
     lambda a, w: payments.refund(w.big_charge, reason="asked", actor=a, telegram=Stars())),
    ("payments.refund", "force", ADMIN,
     lambda a, w: payments.refund(w.charge, reason="asked", actor=a, telegram=Stars(), force=True)),
    ("jobs.requeue", "", STAFF, lambda a, w: jobs.requeue(w.job_id, actor=a)),
    ("jobs.submit", "on a user's balance", ADMIN,
     lambda a, w: jobs.submit(w.target.id, "nano-banana", "an operator's banana", actor=a)),
    ("jobs.sweep", "", ADMIN, lambda a, w: jobs.sweep(actor=a)),
    ("privacy.forget", "", ADMIN, lambda a, w: privacy.forget(w.quiet.tg_id, reason="asked", actor=a, storage=w.storage)),
    ("privacy.apply_retention", "", ADMIN, lambda a, w: privacy.apply_retention(w.storage, 30, actor=a)),
    ("reconcile.reconcile", "", ADMIN, lambda a, w: reconcile.reconcile(Stars(), actor=a)),
    ("jobs.requeue", "extra attempt", ADMIN, lambda a, w: jobs.requeue(w.spent_job_id, extra_attempt=True, actor=a)),
    ("settings.set_value", "", ADMIN, lambda a, w: settings.set_value("trending.days", 9, actor=a)),
    ("settings.set_value", "toggle key", ADMIN,
     lambda a, w: settings.set_value("features.topups", False, actor=a)),
    ("referrals.set_rules", "", ADMIN, lambda a, w: referrals.set_rules(percent=5, actor=a)),
    ("templates.create", "", ADMIN,
     lambda a, w: templates.create(actor=a, category="art", titles=LANGS3, prompts=PROMPTS3)),
    ("templates.update", "", ADMIN, lambda a, w: templates.update(w.template_id, sort=77, actor=a)),
    ("templates.toggle", "", ADMIN, lambda a, w: templates.toggle(w.template_id, actor=a)),
    ("templates.pin", "", ADMIN, lambda a, w: templates.pin(w.template_id, actor=a)),
    ("templates.delete", "", ADMIN, lambda a, w: templates.delete(w.template_id, reason="dup", actor=a)),
    ("templates.store_preview", "", ADMIN,
     lambda a, w: templates.store_preview(w.storage, w.template_id, png(), actor=a)),
    ("templates.save_category", "", ADMIN,
     lambda a, w: templates.save_category("matrix", names=LANGS3, actor=a)),
    ("catalog.models", "", STAFF, lambda a, w: catalog.models(actor=a)),
    ("catalog.set_enabled", "", ADMIN, lambda a, w: catalog.set_enabled("gpt-image", False, actor=a)),
    ("catalog.set_enabled", "refund queued", ADMIN,
     lambda a, w: catalog.set_enabled("nano-banana", False, refund_queued=True, actor=a)),
    ("catalog.set_default", "", ADMIN, lambda a, w: catalog.set_default("seedream-4", actor=a)),
    ("catalog.edit", "", ADMIN,
     lambda a, w: catalog.edit("nano-banana", base_price=11, extras={"resolution": {"4K": 30}}, max_refs=3, actor=a)),
    ("catalog.preview", "", STAFF,
     lambda a, w: catalog.preview("nano-banana", {"resolution": "4K", "count": 2}, actor=a)),
    ("packages.all_packages", "", STAFF, lambda a, w: packages.all_packages(actor=a)),
    ("packages.create", "", ADMIN, lambda a, w: packages.create(stars=75, tokens=160, bonus_pct=5, actor=a)),
    ("packages.edit", "", ADMIN, lambda a, w: packages.edit(w.package_ids[0], tokens=111, actor=a)),
    ("packages.set_active", "", ADMIN, lambda a, w: packages.set_active(w.package_ids[0], False, actor=a)),
    ("packages.reorder", "", ADMIN, lambda a, w: packages.reorder(w.package_ids[::-1], actor=a)),
    ("toggles.set_feature", "", ADMIN, lambda a, w: toggles.set_feature("referrals", False, actor=a)),
    ("maintenance.set_mode", "", ADMIN,
     lambda a, w: maintenance.set_mode(True, messages={"en": "Back soon"}, actor=a)),
    ("system.snapshot", "", STAFF, lambda a, w: system.snapshot(actor=a, keys={"gemini": True})),
    ("system.totals", "", STAFF, lambda a, w: system.totals(actor=a)),
    ("lists.users", "", STAFF, lambda a, w: lists.users(actor=a, role="user", banned=False, search="Matrix")),
    ("lists.payments", "", STAFF, lambda a, w: lists.payments(actor=a, user=w.target.tg_id, status="paid")),
    ("lists.transfers", "", STAFF, lambda a, w: lists.transfers(actor=a, user=w.target.tg_id, kind="topup")),
    ("lists.jobs", "", STAFF, lambda a, w: lists.jobs(actor=a, status="queued", model="nano-banana")),
    ("lists.admin_log", "", STAFF, lambda a, w: lists.admin_log(actor=a, target=f"user:{w.target.tg_id}")),
    ("lists.count_users", "", STAFF, lambda a, w: lists.count_users(actor=a)),
    ("lists.count_payments", "", STAFF, lambda a, w: lists.count_payments(actor=a, user=w.target.tg_id)),
    ("lists.count_transfers", "", STAFF, lambda a, w: lists.count_transfers(actor=a)),
    ("lists.count_jobs", "", STAFF, lambda a, w: lists.count_jobs(actor=a, status="queued", user=w.target.tg_id)),
    ("lists.count_admin_log", "", STAFF, lambda a, w: lists.count_admin_log(actor=a, by="cli:x")),
    ("usercard.card", "", STAFF, lambda a, w: usercard.card(w.target.tg_id, actor=a)),
    ("search.users", "charge id", STAFF, lambda a, w: search.users(a, w.charge)),
    ("glance.today", "", STAFF, lambda a, w: glance.today(actor=a, keys={"gemini": True})),
    ("refund_preview.preview", "", STAFF, lambda a, w: refund_preview.preview(payments.get(w.charge).id, actor=a)),
    ("refund_preview.payment", "", STAFF, lambda a, w: refund_preview.payment(payments.get(w.charge).id, actor=a)),
    ("corrections.adjust_balance", "", ADMIN,
     lambda a, w: corrections.adjust_balance(w.target.tg_id, 5, reason="goodwill", actor=a)),
    ("stuck_jobs.refund", "", STAFF, lambda a, w: stuck_jobs.refund(w.job_id, reason="stuck", actor=a)),
    ("catalog.set_concurrency", "", ADMIN, lambda a, w: catalog.set_concurrency("nano-banana", 3, actor=a)),
    ("referral_stats.summary", "", STAFF, lambda a, w: referral_stats.summary(actor=a)),
    ("system.models_health", "", STAFF, lambda a, w: system.models_health(actor=a)),
    ("templates.move", "", ADMIN, lambda a, w: templates.move(w.template_id, 1, actor=a)),
    ("console.template_categories", "", STAFF, lambda a, w: console.template_categories(actor=a)),
    ("console.referral_view", "", STAFF, lambda a, w: console.referral_view(actor=a)),
    ("console.set_referral", "", ADMIN, lambda a, w: console.set_referral(percent=7, actor=a)),
    ("console.toggles_view", "", STAFF, lambda a, w: console.toggles_view(actor=a)),
    ("console.template_rows", "", STAFF, lambda a, w: console.template_rows(actor=a)),
    ("console.template", "", STAFF, lambda a, w: console.template(w.template_id, actor=a)),
    ("templates_io.export_catalogue", "", STAFF, lambda a, w: templates_io.export_catalogue(actor=a)),
    ("templates_io.import_catalogue", "", ADMIN,
     lambda a, w: templates_io.import_catalogue(templates_io.export_catalogue(actor=Actor.system()), actor=a)),
    ("search.users", "", STAFF, lambda a, w: search.users(a, "@" + (w.target.username or "x"))),
    ("search.total", "", STAFF, lambda a, w: search.total(a, "@" + (w.target.username or "x"))),
    ("dashboard.snapshot", "", STAFF, lambda a, w: dashboard.snapshot(actor=a)),
    ("export.write", "", STAFF, lambda a, w: export.write("transfers", io.BytesIO(), actor=a, fmt="jsonl")),
]
from bananapics.services import referral_stats  # noqa: E402  (the catalog panel's reads)

def _bc(actor: Actor, status: str = "draft") -> int:
    """A broadcast in ``status`` for an allowed actor; for a refused one any id (refused before any read)."""
    from bananapics.services import broadcast

    if not actor.can(broadcast.PERMISSION):
        return 1
    system = Actor.system()
    b = broadcast.create("Hello everyone", actor=system)
    if status != "draft":
        broadcast.start(b.id, actor=system)
    if status == "paused":
        broadcast.pause(b.id, actor=system)
    return b.id


def _broadcast_cases() -> list[tuple[str, str, frozenset[str], Call]]:
    from bananapics.services import broadcast as bc

    return [
        ("broadcast.audience_count", "", ADMIN, lambda a, w: bc.audience_count(bc.Segment(lang="en"), actor=a)),
        ("broadcast.get", "", ADMIN, lambda a, w: bc.get(_bc(a), actor=a)),
        ("broadcast.create", "", ADMIN, lambda a, w: bc.create("Sale!", actor=a)),
        ("broadcast.edit", "", ADMIN, lambda a, w: bc.edit(_bc(a), text="Changed", actor=a)),
        ("broadcast.store_photo", "", ADMIN, lambda a, w: bc.store_photo(w.storage, _bc(a), png(), actor=a)),
        ("broadcast.test_send", "", ADMIN, lambda a, w: bc.test_send(_bc(a), actor=a)),
        ("broadcast.start", "", ADMIN, lambda a, w: bc.start(_bc(a), actor=a)),
        ("broadcast.pause", "", ADMIN, lambda a, w: bc.pause(_bc(a, "running"), actor=a)),
        ("broadcast.resume", "", ADMIN, lambda a, w: bc.resume(_bc(a, "paused"), actor=a)),
        ("broadcast.cancel", "", ADMIN, lambda a, w: bc.cancel(_bc(a, "running"), actor=a)),
        ("broadcast.progress", "", ADMIN, lambda a, w: bc.progress(_bc(a, "running"), actor=a)),
        ("broadcast.recent", "", ADMIN, lambda a, w: bc.recent(actor=a)),
    ]


CASES += _broadcast_cases()


# audit.authorize and audit.record are the machinery the rows above go through, not admin actions.
NOT_ADMIN_FUNCTIONS = {"audit.authorize", "audit.record"}


def admin_functions() -> set[str]:
    """Every public ``bananapics.services`` function that takes an ``actor: Actor``."""
    found = set()
    for info in pkgutil.iter_modules(services_pkg.__path__):
        module = importlib.import_module(f"{services_pkg.__name__}.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            param = inspect.signature(fn).parameters.get("actor")
            if param is not None and param.annotation in ("Actor", Actor, "Actor | None"):
                found.add(f"{info.name}.{name}")
    return found - NOT_ADMIN_FUNCTIONS


def test_every_admin_function_has_a_row():
    assert admin_functions() == {name for name, *_ in CASES}


def test_the_table_matches_the_issue():
    assert PERMISSIONS["user"] == frozenset()
    assert PERMISSIONS["support"] == {"read", "users.ban", "jobs.retry", "payments.refund"}
    assert PERMISSIONS["support"] < PERMISSIONS["admin"]


def make_world(tmp_path) -> World:
    settings.set_value("limits.user_parallel_jobs", 5, actor=Actor.system())  # room for an operator's job too
    target = users.register(7_000_100, first_name="Matrix", start_balance=100).user
    credit = payments.credit(target.id, "ch-matrix", stars=10, tokens=20)
    big = payments.credit(target.id, "ch-matrix-big", stars=payments.support_refund_limit() + 100, tokens=20)
    job = jobs.submit(target.id, "nano-banana", "a banana on the moon", chat_id=target.tg_id)
    spent = jobs.submit(target.id, "nano-banana", "a tired banana", chat_id=target.tg_id)
    with atomic():
        Job.update(attempts=Job.max_attempts).where(Job.id == spent.id).execute()
    with connection():
        package_ids = [p.id for p in Package.select().order_by(Package.sort, Package.id)]
        template_id = templates.admin_list()[0][0].id
    quiet = users.register(7_000_101, first_name="Quiet").user
    return World(users.get(target.tg_id), quiet, credit.charge_id, big.charge_id, job.id, spent.id, template_id, package_ids,
                 LocalStorage(tmp_path / "media", fsync=False))


def actor_with(role: str, tg_id: int) -> Actor:
    user = users.register(tg_id, first_name=role.title()).user
    if role != "user":
        users.set_role(tg_id, role, actor=Actor.system())
    return Actor.for_user(user)


def state() -> dict[str, list]:
    """Every row of every table but the admin log (and the migrations bookkeeping)."""
    with connection():
        tables = sorted(set(db.get_tables()) - {"admin_actions", "schema_migrations"})
        return {t: sorted(map(repr, db.execute_sql(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


def log_rows() -> list[tuple]:
    with connection():
        return [(a.actor, a.action, a.outcome) for a in AdminAction.select().order_by(AdminAction.id)]


@pytest.mark.parametrize("role", ["user", "support", "admin"])
@pytest.mark.parametrize("name,case,allowed,call", CASES,
                         ids=[f"{name}{'[' + case + ']' if case else ''}" for name, case, _, _ in CASES])
def test_permission_matrix(database, tmp_path, role, name, case, allowed, call):
    world = make_world(tmp_path)
    actor = actor_with(role, 7_000_200)
    before, log_before = state(), log_rows()
    if role in allowed:
        call(actor, world)
        return
    with pytest.raises(PermissionDenied):
        call(actor, world)
    assert state() == before, f"a refused {name} changed something"
    new_rows = log_rows()[len(log_before):]
    assert len(new_rows) == 1
    who, action, outcome = new_rows[0]
    assert (who, outcome) == (actor.name, "denied") and action in PERMISSIONS["admin"]


def test_the_role_is_read_from_the_database_on_every_call(database, tmp_path):
    world = make_world(tmp_path)
    actor = actor_with("support", 7_000_300)
    assert users.ban(world.target.tg_id, reason="spam", actor=actor).banned
    users.set_role(7_000_300, "user", actor=Actor.system())  # demoted: the same actor object is refused now
    with pytest.raises(PermissionDenied, match="user role"):
        users.unban(world.target.tg_id, reason="appeal", actor=actor)
    assert users.get(world.target.tg_id).banned


def test_a_denial_row_survives_the_callers_rollback(database, tmp_path):
    make_world(tmp_path)
    plain = actor_with("user", 7_000_400)

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        with atomic():
            with pytest.raises(PermissionDenied):
                settings.set_value("trending.days", 3, actor=plain)
            raise Undo()
    assert log_rows()[-1] == (plain.name, "settings.set", "denied")
    assert settings.get("trending.days") == 7


def test_operators_are_admins_named_by_channel(database):
    assert Actor.operator("alice") == Actor("cli:alice", "admin")
    assert Actor.operator("bob", channel="tui").name == "tui:bob"
    assert Actor.operator("bob", channel="tui").can("settings.set")
