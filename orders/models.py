"""The order ledger. Only `orders.services` writes these rows; Fill and OrderEvent are append-only."""
from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import MONEY, Account, Market


class Side(models.TextChoices):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(models.TextChoices):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    # Conditional: armed at the venue until the last price reaches `stop_price`, then a MARKET or LIMIT order
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"


CONDITIONAL_TYPES = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_MARKET,
                     OrderType.TAKE_PROFIT_LIMIT)
PRICED_TYPES = (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)  # those that take a limit price


class TimeInForce(models.TextChoices):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Status(models.TextChoices):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


# "OPEN" is a filter, not a status: every order still working (or possibly working) on the venue.
OPEN_STATUSES = (Status.PENDING_NEW, Status.NEW, Status.PARTIALLY_FILLED, Status.PENDING_CANCEL)
TERMINAL_STATUSES = (Status.FILLED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED)
# Not settled by the venue yet: sent (or about to be) and unanswered, or a cancel unanswered.
PENDING_STATUSES = (Status.PENDING_NEW, Status.PENDING_CANCEL)


def new_order_id() -> str:
    """Time-ordered 32-char id: 12 hex of ms since epoch + 20 random hex.

    It doubles as the venue's client order id, so it fits Binance's 36 chars of [.A-Z:/a-z0-9_-].
    """
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


class Order(models.Model):
    id = models.CharField(primary_key=True, max_length=36, default=new_order_id, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    client_order_id = models.CharField(max_length=64, null=True, blank=True,
                                       help_text="caller's idempotency key, unique per account")
    exchange_order_id = models.CharField(max_length=64, blank=True, default="")
    exchange = models.CharField(max_length=32)
    market = models.CharField(max_length=16, choices=Market.choices, default=Market.SPOT)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=24, choices=OrderType.choices, default=OrderType.LIMIT)
    time_in_force = models.CharField(max_length=4, choices=TimeInForce.choices, blank=True, default="")
    reduce_only = models.BooleanField(default=False)
    post_only = models.BooleanField(default=False)
    leverage = models.PositiveIntegerField(null=True, blank=True)
    quantity = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    stop_price = models.DecimalField(**MONEY, null=True, blank=True, help_text="conditional types: the trigger price")
    triggered_at = models.DateTimeField(null=True, blank=True,
                                        help_text="conditional types: when the venue reported the trigger")
    filled_quantity = models.DecimalField(**MONEY, default=0)
    average_price = models.DecimalField(**MONEY, null=True, blank=True)
    cumulative_quote = models.DecimalField(**MONEY, default=0)
    cumulative_fee = models.DecimalField(**MONEY, default=0)
    fee_asset = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_NEW)
    reason = models.TextField(blank=True, default="", help_text="why it was rejected, cancelled or expired")
    version = models.PositiveIntegerField(default=0, help_text="bumped on every change; equals the last event's sequence")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="when the worker first sent it to the venue")
    next_sync_at = models.DateTimeField(null=True, blank=True, help_text="when the poller looks at it next")
    amend_request = models.JSONField(null=True, blank=True, help_text="the amend on its way to the venue: new and old "
                                     "price and quantity, and when it was sent (orders.amends)")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "client_order_id"], condition=Q(client_order_id__isnull=False),
                                    name="uniq_order_client_id"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(filled_quantity__gte=0) & Q(filled_quantity__lte=F("quantity")),
                                   name="order_filled_within_quantity"),
        ]
        indexes = [
            models.Index(fields=["account", "status", "-created_at"], name="order_account_status"),
            models.Index(fields=["account", "symbol", "-created_at"], name="order_account_symbol"),
            models.Index(fields=["-created_at"], name="order_created"),
            # A status across accounts by symbol ("cancelled BTCUSDT"), newest first, read in order up to the page.
            models.Index(fields=["symbol", "status", "-created_at", "-id"], name="order_symbol_status"),
            models.Index(fields=["exchange_order_id"], name="order_exchange_id"),
            models.Index(fields=["client_order_id"], name="order_client_id"),
            models.Index(fields=["next_sync_at"], condition=Q(status__in=OPEN_STATUSES), name="order_open_sync"),
            # "Open orders of this account and symbol", newest first: a few percent of the pair's orders, read in
            # order up to the page instead of filtering every order of the pair.
            models.Index(fields=["account", "symbol", "-created_at", "-id"], condition=Q(status__in=OPEN_STATUSES),
                         name="order_open_account_symbol"),
            # Orders the venue has not settled yet: a handful among millions, found without reading the rest (the
            # admin's "pending longer than" list and overview).
            models.Index(fields=["-created_at"], condition=Q(status__in=PENDING_STATUSES), name="order_pending"),
            # The admin's order list by type or market alone, newest first (a rare value is not a scan of the ledger).
            models.Index(fields=["order_type", "-created_at", "-id"], name="order_type_created"),
            models.Index(fields=["market", "-created_at", "-id"], name="order_market_created"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.side} {self.quantity} {self.symbol} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining_quantity(self):
        return self.quantity - self.filled_quantity


class Fill(models.Model):
    """One venue trade. Unique per (account, market, symbol, venue trade id), since venues number trades per
    symbol (Binance does): ingesting it twice is a no-op, and two symbols' trades with one id are both kept."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fills")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    market = models.CharField(max_length=16, choices=Market.choices)
    symbol = models.CharField(max_length=32)  # the order's, kept here because it is part of the trade's identity
    trade_id = models.CharField(max_length=64)
    price = models.DecimalField(**MONEY)
    quantity = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=0)
    fee_asset = models.CharField(max_length=16, blank=True, default="")
    is_maker = models.BooleanField(default=False)
    executed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["executed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "market", "symbol", "trade_id"], name="uniq_fill_symbol_trade"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "-executed_at"], name="fill_account_time"),
            # The admin's fill list, newest first, read in order up to the page; and a venue trade id looked up alone.
            models.Index(fields=["-executed_at", "-id"], name="fill_time"),
            models.Index(fields=["trade_id"], name="fill_trade_id"),
            models.Index(fields=["market", "-executed_at", "-id"], name="fill_market_time"),
        ]

    def __str__(self) -> str:
        return f"fill {self.trade_id} {self.quantity}@{self.price}"


class FundingPayment(models.Model):
    """One USD-M funding payment as the venue booked it (Binance: an income row of type FUNDING_FEE): what the
    account paid (negative) or received (positive) for its position in `symbol` at `paid_at`. Unique per (account,
    venue id): recording it again, from a re-sync, a replayed stream event or reconciliation, is a no-op.
    Append-only; only `orders.services.funding_record` writes it."""

    class Source(models.TextChoices):
        SYNC = "sync"
        STREAM = "stream"
        RECONCILE = "reconcile"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    symbol = models.CharField(max_length=32)  # exchange-native, e.g. BTCUSDT
    venue_id = models.CharField(max_length=64, help_text="the venue's id of the payment (Binance: tranId)")
    asset = models.CharField(max_length=16)
    amount = models.DecimalField(**MONEY, help_text="received (positive) or paid (negative)")
    paid_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYNC)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "venue_id"], name="uniq_funding_venue_id")]
        indexes = [models.Index(fields=["account", "-paid_at"], name="funding_account_time")]

    def __str__(self) -> str:
        return f"funding {self.symbol} {self.amount} {self.asset} at {self.paid_at:%Y-%m-%d %H:%M}"


class TransactionId(models.Func):
    """The writing transaction's id (xid8, never wraps) as a bigint."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class TransactionSnapshot(models.Func):
    """Which transactions had committed when the statement began (pg_snapshot's text form, xmin:xmax:running)."""

    template = "(pg_current_snapshot()::text)"
    output_field = models.TextField()


class OrderEvent(models.Model):
    """Append-only history. `id` is a global, increasing sequence (StreamOrders' since_sequence);
    `sequence` counts per order and equals Order.version after the change.

    Ids are taken when the row is inserted, not when it commits, so an event can commit after one with a
    higher id. `txid` and `txid_snapshot` let a resume find those: an event E committed after event S was
    written is one whose E.txid is not visible in S.txid_snapshot (selectors.order_events_to_resume). Both are
    NULL on events written before they existed."""

    class Source(models.TextChoices):
        API = "api"
        WORKER = "worker"
        RECONCILE = "reconcile"
        ADMIN = "admin"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16)
    payload = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    at = models.DateTimeField(auto_now_add=True)
    txid = models.BigIntegerField(null=True, editable=False, db_default=TransactionId())
    txid_snapshot = models.TextField(null=True, editable=False, db_default=TransactionSnapshot())

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [models.UniqueConstraint(fields=["order", "sequence"], name="uniq_event_sequence")]
        indexes = [
            models.Index(fields=["at"], name="event_at"), models.Index(fields=["txid"], name="event_txid"),
            # The admin's event list by kind, new status or source, newest first: a rare value (an adopted order, a
            # reconcile event) is found from the index instead of reading millions of events for it.
            models.Index(fields=["kind", "-at", "-id"], name="event_kind"),
            models.Index(fields=["to_status", "-at", "-id"], name="event_to_status"),
            models.Index(fields=["source", "-at", "-id"], name="event_source"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.sequence} {self.kind} {self.from_status}->{self.to_status}"


class IdempotencyKey(models.Model):
    """A REST `Idempotency-Key` as first seen from a user: the request's digest and the order it placed.
    Stored in the same transaction as the order, so a retry finds either both or neither."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    order = models.ForeignKey(Order, null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.order_id}"


from orders.models_portfolio import (  # noqa: E402,F401  (registered with the orders app)
    FillPnl,
    PortfolioAdjustment,
    PortfolioHolding,
    PortfolioPosition,
)
from orders.models_reconcile import Drift, ReconciliationRun  # noqa: E402,F401  (registered with the orders app)
