"""The computed books in the admin: every page lists what the fold wrote, and nothing there can be changed."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin

from orders import portfolio, services
from orders.models_portfolio import FillPnl, PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from tests import factories


@pytest.fixture
def books(account, btcusdt, btcusdt_futures, no_prices):
    for market in ("spot", "futures"):
        order = factories.order_place(account, market=market, quantity=Decimal("1"),
                                      **({"leverage": 5} if market == "futures" else {}))
        services.fill_record(order_id=order.id, trade_id=f"{market}-1", price=Decimal("20000"), quantity=Decimal("0.5"),
                             fee=Decimal("0.01"), fee_asset="USDT", is_maker=False, executed_at=datetime.now(UTC))
    portfolio.adjustment_record(account=account, market="futures", key="BTCUSDT", field="fees",
                                ledger_value=Decimal("0.01"), venue_value=Decimal("0.02"), reason="venue charged more")
    return account


@pytest.mark.parametrize("model, shows", [(PortfolioPosition, "BTCUSDT"), (PortfolioHolding, "BTC"),
                                          (FillPnl, "BTCUSDT"), (PortfolioAdjustment, "venue charged more")])
def test_each_page_lists_the_books_read_only(model, shows, books, admin_as, rf):
    superuser = factories.user_create(superuser=True)
    page = admin_as(superuser).get(f"/admin/orders/{model._meta.model_name}/")
    assert page.status_code == 200 and shows in page.content.decode()
    request = rf.get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
                or model_admin.has_delete_permission(request))
