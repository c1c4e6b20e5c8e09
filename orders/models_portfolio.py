"""The ledger's own books: positions and holdings computed from fills, funding and adjustments.

Written only by `orders.portfolio` (the fold), in the transaction that records the fill or the funding payment;
read through `orders.selectors_pnl`. Everything here can be rebuilt from Fill, FundingPayment and
PortfolioAdjustment (`manage.py portfolio_rebuild`), which are the history; these rows are its running sums.
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import MONEY, Account, Market

# An average price as the fold computes it: a quotient kept to the 28 significant digits of Python's decimal context,
# exactly as the venue's engine keeps it, so the realized PnL it gives rounds as the venue's does (18 places would
# round some averages and, now and then, a realized figure's last decimal).
AVERAGE = {"max_digits": 50, "decimal_places": 30}


class PortfolioPosition(models.Model):
    """A USD-M one-way position of one account and symbol as the fold of its fills, funding and adjustments."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    symbol = models.CharField(max_length=32)  # exchange-native, e.g. BTCUSDT
    amount = models.DecimalField(**MONEY, default=0, help_text="signed size: long positive, short negative")
    entry_price = models.DecimalField(**AVERAGE, default=0, help_text="average entry; 0 when flat")
    realized_pnl = models.DecimalField(**MONEY, default=0, help_text="quote, before fees and funding")
    fees = models.DecimalField(**MONEY, default=0, help_text="quote; fees in base converted at the fill's price")
    other_fees = models.JSONField(default=dict, blank=True, help_text="asset -> amount, fees in any other asset")
    funding = models.DecimalField(**MONEY, default=0, help_text="quote, received positive")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "symbol"]
        constraints = [models.UniqueConstraint(fields=["account", "symbol"], name="uniq_portfolio_position")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.symbol} {self.amount}@{self.entry_price}"


class PortfolioHolding(models.Model):
    """A spot holding of one account and asset as the fold of its fills and adjustments: quantity and average cost
    in `quote_asset` (the quote of the first pair it was traded in; the quote asset itself costs 1)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    asset = models.CharField(max_length=16)
    quote_asset = models.CharField(max_length=16)
    quantity = models.DecimalField(**MONEY, default=0, help_text="signed: sold beyond what the fills bought is negative")
    average_cost = models.DecimalField(**AVERAGE, default=0)
    realized_pnl = models.DecimalField(**MONEY, default=0)
    fees = models.DecimalField(**MONEY, default=0)
    other_fees = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "asset"]
        constraints = [models.UniqueConstraint(fields=["account", "asset"], name="uniq_portfolio_holding")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.asset} {self.quantity}@{self.average_cost}"


class FillPnl(models.Model):
    """What the fold made of one fill: its realized PnL, fee and notional. Its existence is the record that the
    fill was folded (folding it again changes nothing); the PnL report sums these rows by time."""

    fill = models.OneToOneField("orders.Fill", on_delete=models.PROTECT, primary_key=True, related_name="pnl")
    # Indexed by the (account, executed_at) index below, which leads with it.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    market = models.CharField(max_length=16, choices=Market.choices)
    symbol = models.CharField(max_length=32)
    executed_at = models.DateTimeField()
    realized_pnl = models.DecimalField(**MONEY, default=0)
    fee = models.DecimalField(**MONEY, default=0, help_text="in quote (a fee in base at the fill's price)")
    other_fee = models.DecimalField(**MONEY, default=0, help_text="a fee in any other asset, as charged")
    other_fee_asset = models.CharField(max_length=16, blank=True, default="")
    notional = models.DecimalField(**MONEY, default=0, help_text="price x quantity, in quote")
    # USD-M: the position's books right after this fill, where a fill that arrives late resumes the fold from
    # (spot: null).
    amount_after = models.DecimalField(**MONEY, null=True, blank=True)
    entry_after = models.DecimalField(**AVERAGE, null=True, blank=True)
    realized_after = models.DecimalField(**MONEY, null=True, blank=True)
    fees_after = models.DecimalField(**MONEY, null=True, blank=True)
    other_fees_after = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            # The PnL report reads a time range of some accounts from this index alone (an index-only scan).
            models.Index(fields=["account", "executed_at"], name="fillpnl_account_time",
                         include=["symbol", "realized_pnl", "fee", "notional", "other_fee", "other_fee_asset"]),
            models.Index(fields=["account", "market", "symbol", "executed_at"], name="fillpnl_position_time"),
        ]

    def __str__(self) -> str:
        return f"fill {self.fill_id} realized {self.realized_pnl} fee {self.fee}"


class PortfolioAdjustment(models.Model):
    """A correction the fold includes, recorded when the venue disagrees with the computed books and someone (or
    `reconcile --fix`) decides the venue is right. History is never rewritten: the difference is booked here,
    with both numbers and why, and stays visible."""

    class Field(models.TextChoices):
        SIZE = "size", "Position size (signed)"
        ENTRY_PRICE = "entry_price", "Average entry price"
        QUANTITY = "quantity", "Holding quantity"
        AVERAGE_COST = "average_cost", "Holding average cost"
        REALIZED_PNL = "realized_pnl", "Realized PnL"
        FEES = "fees", "Fees"
        FUNDING = "funding", "Funding"
        WALLET = "wallet", "Futures wallet (an opening balance, a transfer)"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    market = models.CharField(max_length=16, choices=Market.choices)
    symbol = models.CharField(max_length=32, blank=True, default="", help_text="futures: the position's symbol")
    asset = models.CharField(max_length=16, blank=True, default="", help_text="spot: the holding's asset")
    field = models.CharField(max_length=16, choices=Field.choices)
    ledger_value = models.DecimalField(**AVERAGE)
    venue_value = models.DecimalField(**AVERAGE)
    delta = models.DecimalField(**AVERAGE, help_text="venue - ledger, what the fold adds")
    price = models.DecimalField(**AVERAGE, null=True, blank=True,
                                help_text="size/quantity: the price an increase enters at (else the average)")
    reason = models.TextField()
    source = models.CharField(max_length=16, default="reconcile")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "market", "at"], name="adjustment_account_time")]

    def __str__(self) -> str:
        return f"adjust {self.symbol or self.asset} {self.field} {self.delta:+}"
