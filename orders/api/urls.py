from django.urls import path
from rest_framework.routers import DefaultRouter

from orders.api import stream, views

router = DefaultRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("fills", views.FillViewSet, basename="fill")
router.register("funding", views.FundingViewSet, basename="funding")
router.register("balances", views.BalanceViewSet, basename="balance")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("instruments", views.InstrumentViewSet, basename="instrument")

urlpatterns = [
    path("prices/", views.PriceListView.as_view(), name="prices"),
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path("positions/", views.PositionListView.as_view(), name="positions"),
    path("pnl/", views.PnlView.as_view(), name="pnl"),
    path("candles/", views.CandleListView.as_view(), name="candles"),
    path("trading-states/", views.TradingStateView.as_view(), name="trading-states"),
    path("stream/orders/", stream.OrderStreamView.as_view(), name="stream-orders"),
    path("stream/prices/", stream.PriceStreamView.as_view(), name="stream-prices"),
    *router.urls,
]
