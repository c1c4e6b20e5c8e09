"""Ledger gauges computed on scrape (registered with infra.metrics by OrdersConfig.ready): counts that live in
the database are not kept in process memory."""
from __future__ import annotations

from datetime import timedelta

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
