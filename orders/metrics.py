"""Ledger gauges computed on scrape (registered with infra.metrics by OrdersConfig.ready): counts that live in
the database are not kept in process memory."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class LedgerCollector(Collector):
    """Gauges read from PostgreSQL on scrape.

    oms_orders_open: every working order, by account and status (a few rows, indexed by status).
    oms_orders_recent: orders created in the last 24 h by account and status (bounded by the window).
    oms_drift_unresolved: differences of the latest reconciliation run per account not yet repaired.
    """

    RECENT = timedelta(hours=24)

    def collect(self):
        from django.db.models import Count
        from django.utils import timezone

        from orders.models import OPEN_STATUSES, Order

        open_orders = GaugeMetricFamily("oms_orders_open", "Working orders in the ledger", labels=["account", "status"])
        for row in (Order.objects.filter(status__in=OPEN_STATUSES).order_by()
                    .values("account__name", "status").annotate(n=Count("id"))):
            open_orders.add_metric([row["account__name"], row["status"]], row["n"])
        yield open_orders

        recent = GaugeMetricFamily("oms_orders_recent", "Orders created in the last 24 hours, by current status",
                                   labels=["account", "status"])
        for row in (Order.objects.filter(created_at__gte=timezone.now() - self.RECENT).order_by()
                    .values("account__name", "status").annotate(n=Count("id"))):
            recent.add_metric([row["account__name"], row["status"]], row["n"])
        yield recent

        from orders.selectors_reconcile import drift_unresolved_counts

        drift = GaugeMetricFamily("oms_drift_unresolved", "Unrepaired differences found by the latest reconciliation",
                                  labels=["account", "kind"])
        for (account, kind), n in drift_unresolved_counts().items():
            drift.add_metric([account, kind], n)
        yield drift


class PnlCollector(Collector):
    """Per-account PnL gauges read from the ledger's books on scrape, through orders.selectors_pnl (in quote):

    oms_pnl_realized_today: net realized PnL since 00:00 UTC (realized − fees + funding), what the daily-loss
      limit reads.
    oms_pnl_unrealized: unrealized PnL of the open USD-M positions and spot holdings at the latest prices.
    oms_exposure_notional: the open positions' |size| × mark plus the holdings (other than the quote asset itself)
      at their last price; a figure without a price is left out (both gauges are, while Redis is unreachable).

    The price feed is read once per scrape; each account costs a few indexed queries on the books."""

    def collect(self):
        import redis

        from accounts.models import Account
        from infra import pubsub
        from orders.daily_loss import start_of_day_utc
        from orders.selectors_pnl import holdings, ledger_positions, realized_since

        realized = GaugeMetricFamily("oms_pnl_realized_today", "Net realized PnL since 00:00 UTC (after fees and "
                                     "funding), in quote", labels=["account"])
        unrealized = GaugeMetricFamily("oms_pnl_unrealized", "Unrealized PnL of open positions and holdings, in quote",
                                       labels=["account"])
        exposure = GaugeMetricFamily("oms_exposure_notional", "Open positions and holdings at the latest prices, in "
                                     "quote", labels=["account"])
        today = start_of_day_utc()
        try:
            prices = pubsub.latest_prices()
        except redis.RedisError:  # the price feed is away: no figure at a price, the rest of /metrics still answers
            prices = None
        for account in Account.objects.order_by("name"):
            realized.add_metric([account.name], float(realized_since(account=account, since=today)))
            if prices is None:
                continue
            positions = ledger_positions(account=account, prices=prices)
            held = [h for h in holdings(account=account, prices=prices) if h.asset != h.quote_asset]
            unrealized.add_metric([account.name], float(sum(
                (x.unrealized_pnl for x in [*positions, *held] if x.unrealized_pnl is not None), Decimal(0))))
            exposure.add_metric([account.name], float(
                sum((p.size * p.mark_price for p in positions if p.mark_price is not None), Decimal(0))
                + sum((abs(h.quantity) * h.last_price for h in held if h.last_price is not None), Decimal(0))))
        yield realized
        yield unrealized
        yield exposure
