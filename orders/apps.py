from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from infra import metrics
        from orders import admin_portfolio, admin_reconcile  # noqa: F401  (admin registrations kept apart from admin.py)
        from orders.metrics import LedgerCollector, PnlCollector

        metrics.register_scrape_collector(LedgerCollector())
        metrics.register_scrape_collector(PnlCollector())
