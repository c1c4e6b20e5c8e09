"""What reconciliation found: one run per account and pass, and each difference between ledger and venue.

Read-only records (admin shows them); `execution.reconcile` writes them. Nothing here changes an order:
repairs go through `orders.services` and leave OrderEvents with source "reconcile".
"""
from __future__ import annotations

from django.db import models

from accounts.models import Account, Market


class ReconciliationRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running"
        AGREE = "agree", "Ledger and venue agree"
        DRIFT = "drift", "Drift remains"
        FIXED = "fixed", "Drift found and repaired"
        ERROR = "error"

    class Trigger(models.TextChoices):
        COMMAND = "command"
        SCHEDULE = "schedule"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reconciliation_runs")
    market = models.CharField(max_length=16, choices=Market.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.COMMAND)
    fix = models.BooleanField(default=False, help_text="venue truth applied to the ledger")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    drift_count = models.PositiveIntegerField(default=0)
    fixed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["account", "-started_at"], name="recon_run_account")]

    def __str__(self) -> str:
        return f"reconcile {self.account_id} {self.market} {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class Drift(models.Model):
    class Kind(models.TextChoices):
        ORDER_UNKNOWN = "order_unknown", "Open on the venue, missing from the ledger"
        ORDER_CLOSED = "order_closed", "Open in the ledger, closed on the venue"
        ORDER_NOT_ON_VENUE = "order_not_on_venue", "Open in the ledger, unknown to the venue"
        ORDER_MISMATCH = "order_mismatch", "Status, filled quantity or average price differ"
        FILL_MISSING = "fill_missing", "Venue trade missing from the ledger"
        BALANCE = "balance", "Balance differs"
        POSITION = "position", "Position differs"
        FUNDING_MISSING = "funding_missing", "Venue funding payment missing from the ledger"
        LEDGER_POSITION = "ledger_position", "Position computed from fills differs from the venue's"
        LEDGER_HOLDING = "ledger_holding", "Holding computed from fills differs from the venue's balance"
        LEDGER_WALLET = "ledger_wallet", "Futures wallet computed from fills, fees and funding differs from the venue's"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="drifts")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    symbol = models.CharField(max_length=32, blank=True, default="")
    reference = models.CharField(max_length=64, blank=True, default="",
                                 help_text="client order id, venue trade id or asset")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ledger = models.JSONField(default=dict, blank=True)
    venue = models.JSONField(default=dict, blank=True)
    fixed = models.BooleanField(default=False)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.symbol} {self.reference}"
