"""Ledger audit (F3): transfers filtered by user, kind and dates with running totals; the ``verify()``
invariants with each breach linked to its transfers; payments with refund.

Filters are typed in the row on top and applied with enter. Selecting a breach (enter) shows the
transfers it concerns: the user's, or the event's (a hold, a charge, a job) by its reference.
"""

from __future__ import annotations

import datetime as dt

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal

from textual.widgets import DataTable, Input, Label, TabbedContent, TabPane

from bananapics.tui import data
from bananapics.tui.dialogs import ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.base import AdminScreen
from bananapics.tui.widgets.cells import cell, cells
from bananapics.tui.widgets.inputs import text_input


def _day(text: str, field: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{field}: a date like 2025-01-31") from None


def _tg(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("user: a Telegram id (digits)") from None


@register("ledger", "Ledger audit", "f3", "Transfers with running totals, invariant checks, payments and refunds")
class LedgerScreen(AdminScreen):
    BINDINGS = [
        Binding("v", "verify", "Verify"),
        Binding("f", "refund", "Refund"),
        Binding("n", "next_page", "Next"),
        Binding("t", "show_tab('transfers')", "Transfers"),
        Binding("y", "show_tab('payments')", "Payments"),
    ]
    PALETTE = [
        ("Verify the ledger", "Run every invariant check and list the breaches", "verify"),
        ("Refund the selected payment", "Telegram returns the Stars, the ledger takes the tokens back", "refund"),
        ("Show transfers", "Transfers with filters and running totals", "show_tab('transfers')"),
        ("Show payments", "Stars payments, newest first", "show_tab('payments')"),
        ("Next page", "Keyset paging of the current list", "next_page"),
    ]
    DEFAULT_CSS = """
    LedgerScreen .filters { height: 3; }
    LedgerScreen .filters Input { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.transfer_page: data.TransferPage | None = None
        self.payment_page: data.PaymentPage | None = None
        self.breaches: list[data.BreachRow] = []
        self.filters: dict = {}
        self.ref: str | None = None

    def body(self) -> ComposeResult:
        with TabbedContent(id="ledger-tabs", initial="transfers"):
            with TabPane("Transfers", id="transfers"):
                with Horizontal(classes="filters"):
                    yield text_input(self.app, placeholder="user tg id", id="f-user")
                    yield text_input(self.app, placeholder="kind (topup, adjust…)", id="f-kind")
                    yield text_input(self.app, placeholder="since YYYY-MM-DD", id="f-since")
                    yield text_input(self.app, placeholder="until YYYY-MM-DD", id="f-until")
                yield Label("", id="transfers-status", classes="status")
                yield DataTable(id="transfers-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Verify", id="verify"):
                yield Label("v runs every invariant check.", id="verify-status", classes="status")
                yield DataTable(id="breaches", cursor_type="row", zebra_stripes=True)
            with TabPane("Payments", id="payments"):
                with Horizontal(classes="filters"):
                    yield text_input(self.app, placeholder="user tg id", id="p-user")
                    yield text_input(self.app, placeholder="status: paid or refunded", id="p-status")
                yield Label("", id="payments-status", classes="status")
                yield DataTable(id="payments-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#transfers-table", DataTable).add_columns(
            "when", "kind", "ref", "amount", "running", "debit", "credit", "actor", "reason")
        self.query_one("#breaches", DataTable).add_columns("check", "detail", "linked rows")
        self.query_one("#payments-table", DataTable).add_columns(
            "when", "user", "stars", "tokens", "bonus", "status", "charge id")
        self.load_transfers()
        self.load_payments()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_reload(self) -> None:
        self.load_transfers(self.ref)
        self.load_payments()

    # ---------------------------------------------------------------- transfers

    @on(Input.Submitted, ".filters Input")
    def _apply(self, event: Input.Submitted) -> None:
        if event.input.id.startswith("p-"):
            self.load_payments()
        else:
            self.load_transfers()

    def _transfer_filters(self) -> dict | None:
        value = lambda name: self.query_one(f"#f-{name}", Input).value  # noqa: E731
        try:
            return {"user": _tg(value("user")), "kind": value("kind").strip() or None,
                    "since": _day(value("since"), "since"), "until": _day(value("until"), "until")}
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None

    @work(exclusive=True, group="transfers")
    async def load_transfers(self, ref: str | None = None, after: str | None = None) -> None:
        filters = self.filters if after else self._transfer_filters()
        if filters is None:
            return
        self.filters, self.ref = filters, ref
        if ref:
            outcome = await self.call(data.transfers, self.actor, ref=ref)
        else:
            outcome = await self.call(data.transfers, self.actor, after=after, **filters)
        if outcome.ok:
            self.show_transfers(outcome.value, ref)

    def show_transfers(self, page: data.TransferPage, ref: str | None) -> None:
        self.transfer_page = page
        table = self.query_one("#transfers-table", DataTable)
        table.clear()
        for r in page.rows:
            table.add_row(*cells(f"{r['created_at']:%Y-%m-%d %H:%M}", r["kind"], r["ref"], f"{r['signed']:+,}" if page.user
                          else f"{r['amount']:,}", f"{r['running']:,}", r["debit"], r["credit"], r["actor"], r["reason"]))
        scope = f"ref {ref}" if ref else (f"user {page.user}" if page.user else "all users")
        total = "net for the user" if page.user else "sum of amounts"
        last = page.rows[-1]["running"] if page.rows else 0
        self.query_one("#transfers-status", Label).update(
            f"{len(page.rows)} transfers · {scope} · {total} {last:+,}" + (" · n: next page" if page.next else ""))

    def action_next_page(self) -> None:
        if self.query_one(TabbedContent).active == "payments":
            if self.payment_page and self.payment_page.next:
                self.load_payments(self.payment_page.next)
        elif self.transfer_page and self.transfer_page.next:
            self.load_transfers(after=self.transfer_page.next)

    # ---------------------------------------------------------------- verify

    def action_verify(self) -> None:
        self.action_show_tab("verify")
        self.query_one("#verify-status", Label).update("checking every invariant…")
        self.run_verify()

    @work(exclusive=True, group="verify")
    async def run_verify(self) -> None:
        outcome = await self.call(data.verify_ledger, self.actor)
        if not outcome.ok:
            return
        self.breaches = outcome.value
        table = self.query_one("#breaches", DataTable)
        table.clear()
        for i, b in enumerate(self.breaches):
            link = f"{b.link[0]} {b.link[1]}" if b.link else ""
            table.add_row(cell(b.check, "bold red"), cell(b.detail), cell(link), key=str(i))
        self.query_one("#verify-status", Label).update(
            f"[b red]{len(self.breaches)} breach(es)[/] · enter shows the linked transfers" if self.breaches
            else "[b green]ledger OK: every invariant holds[/]")

    @on(DataTable.RowSelected, "#breaches")
    def _breach(self, event: DataTable.RowSelected) -> None:
        link = self.breaches[int(event.row_key.value)].link
        if link is None:
            self.notify("This check concerns the system accounts as a whole, not particular rows.")
            return
        kind, value = link
        for name in ("user", "kind", "since", "until"):
            self.query_one(f"#f-{name}", Input).value = value if (kind, name) == ("user", "user") else ""
        self.action_show_tab("transfers")
        self.load_transfers(ref=value if kind == "ref" else None)

    # ---------------------------------------------------------------- payments

    @work(exclusive=True, group="payments")
    async def load_payments(self, after: str | None = None) -> None:
        try:
            user = _tg(self.query_one("#p-user", Input).value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        status = self.query_one("#p-status", Input).value.strip() or None
        outcome = await self.call(data.payments_page, self.actor, user=user, status=status, after=after)
        if not outcome.ok:
            return
        self.payment_page = outcome.value
        table = self.query_one("#payments-table", DataTable)
        table.clear()
        for i, p in enumerate(outcome.value.rows):
            status = p["status"] + (f" (debt {p['refund_debt']})" if p["refund_debt"] else "")
            table.add_row(*cells(f"{p['created_at']:%Y-%m-%d %H:%M}", p["user"], p["stars"], p["tokens"], p["bonus"], status,
                          p["charge_id"]), key=str(i))
        self.query_one("#payments-status", Label).update(
            f"{len(outcome.value.rows)} payments · f refunds the selected one" + (" · n: next page" if outcome.value.next else ""))

    def action_refund(self) -> None:
        table = self.query_one("#payments-table", DataTable)
        if self.payment_page is None or not self.payment_page.rows:
            self.notify("No payment to refund.", severity="warning")
            return
        self.action_show_tab("payments")
        self.refund_flow(self.payment_page.rows[table.cursor_row]["charge_id"])

    @work(exclusive=True, group="action")
    async def refund_flow(self, charge_id: str) -> None:
        effect = await self.call(data.refund_effect, self.actor, charge_id)
        if not effect.ok:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(f"Refund charge {charge_id}", effect.value.text,
                                                               confirm="Refund", danger=True))
        if reason is None:
            return
        outcome = await self.call(data.refund, self.actor, charge_id, reason, self.app.telegram,
                                  force=effect.value.force)
        if outcome.ok:
            self.notify(outcome.value, title="Done", markup=False)
            self.load_payments()
            self.load_transfers(self.ref)
