"""The Users screen's detail pane: one user's balances, role, ban, referrer, and their latest
ledger transfers, jobs and payments in tabs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from bananapics.tui.data import UserDetail
from bananapics.tui.widgets.cells import cells


class UserDetailPane(Vertical):
    DEFAULT_CSS = """
    UserDetailPane { width: 1fr; border-left: vkey $primary-darken-2; padding: 0 1; }
    UserDetailPane #summary { height: auto; }
    UserDetailPane TabbedContent { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Select a user (enter) to see their details.", id="summary", markup=False)
        with TabbedContent(id="detail-tabs"):
            with TabPane("Ledger", id="tab-ledger"):
                yield DataTable(id="detail-ledger", cursor_type="row", zebra_stripes=True)
            with TabPane("Jobs", id="tab-jobs"):
                yield DataTable(id="detail-jobs", cursor_type="row", zebra_stripes=True)
            with TabPane("Payments", id="tab-payments"):
                yield DataTable(id="detail-payments", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#detail-ledger", DataTable).add_columns("when", "kind", "amount", "debit", "credit", "reason")
        self.query_one("#detail-jobs", DataTable).add_columns("when", "model", "status", "cost", "delivered", "id")
        self.query_one("#detail-payments", DataTable).add_columns("when", "stars", "tokens", "bonus", "status", "charge")

    def show(self, d: UserDetail) -> None:
        u = d.user
        handle = f"@{u.username}" if u.username else "(no username)"
        lines = [
            f"{u.tg_id}  {handle}  {u.name}",
            f"balance {u.available:,}   held {u.held:,}   debt {u.debt:,}",
            f"role {u.role}   language {d.language}   since {d.created_at:%Y-%m-%d}",
            f"BANNED: {d.ban_reason or 'no reason given'}" if u.banned else "not banned",
            f"referrer {d.referrer if d.referrer else '—'}   code {d.referral_code}",
        ]
        self.query_one("#summary", Static).update("\n".join(lines))
        ledger = self.query_one("#detail-ledger", DataTable)
        ledger.clear()
        for t in d.transfers:
            own = t["credit_user"] == t["debit_user"]
            sign = "" if own else "+" if t["credit_user"] == u.tg_id else "-"
            ledger.add_row(*cells(f"{t['created_at']:%m-%d %H:%M}", t["kind"], f"{sign}{t['amount']:,}", t["debit"], t["credit"],
                           t["reason"]))
        jobs = self.query_one("#detail-jobs", DataTable)
        jobs.clear()
        for j in d.jobs:
            jobs.add_row(*cells(f"{j['created_at']:%m-%d %H:%M}", j["model"], j["status"], j["cost"], j["delivered"], j["id"]))
        pays = self.query_one("#detail-payments", DataTable)
        pays.clear()
        for p in d.payments:
            status = p["status"] + (f" (debt {p['refund_debt']})" if p["refund_debt"] else "")
            pays.add_row(*cells(f"{p['created_at']:%m-%d %H:%M}", p["stars"], p["tokens"], p["bonus"], status, p["charge_id"]))
