"""Test data built through the real services where one exists (accounts, orders), plain rows otherwise."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.models import Account, AccountMember
from exchanges.models import Instrument
from orders import services as order_services
from orders.models import Order

_seq = itertools.count(1)


def user_create(*, username: str = "", superuser: bool = False, **extra):
    username = username or f"user{next(_seq)}"
    model = get_user_model()
    if superuser:
        return model.objects.create_superuser(username=username, password="pw-" + username, **extra)
    return model.objects.create_user(username=username, password="pw-" + username, **extra)


def account_create(*, name: str = "", exchange: str = "binance", member=None,
                   role: str = AccountMember.Role.TRADER) -> Account:
    account = account_services.account_create(name=name or f"acct{next(_seq)}", exchange=exchange)
    if member is not None:
        account_services.member_add(account=account.name, user=member, role=role)
    return account


def instrument_create(*, exchange: str = "binance", market: str = "spot", symbol: str = "BTCUSDT", base: str = "",
                      quote: str = "USDT", tick_size="0.01", step_size="0.00001", min_quantity="0.00001",
                      min_notional="5", contract_size="1", active: bool = True) -> Instrument:
    base = base or symbol.removesuffix(quote)
    ccxt_symbol = f"{base}/{quote}" + (f":{quote}" if market == "futures" else "")
    return Instrument.objects.create(exchange=exchange, market=market, symbol=symbol, ccxt_symbol=ccxt_symbol,
                                     base=base, quote=quote, tick_size=Decimal(tick_size),
                                     step_size=Decimal(step_size), min_quantity=Decimal(min_quantity),
                                     min_notional=Decimal(min_notional), contract_size=Decimal(contract_size),
                                     active=active)


def order_place(account: Account, **overrides) -> Order:
    """A valid LIMIT BUY of 0.01 BTCUSDT at 20000 unless told otherwise (the instrument must exist)."""
    fields = {"symbol": "BTCUSDT", "side": "BUY", "quantity": Decimal("0.01"), "order_type": "LIMIT",
              "price": Decimal("20000")}
    fields.update(overrides)
    return order_services.order_place(account=account.name, **fields)


def executed_at() -> datetime:
    return datetime.now(UTC)
