"""REST `/api/v1/funding/`: the USD-M funding payments of the accounts the caller may see, exact decimals,
filtered by account, symbol (any spelling) and time; another trader's account is a 404 naming `account`."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from orders import services

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def pay(account, venue_id: str, amount: str, symbol: str = "BTCUSDT", at: datetime = T0) -> None:
    services.funding_record(account=account.name, payments=[{"venue_id": venue_id, "symbol": symbol, "asset": "USDT",
                                                             "amount": Decimal(amount), "paid_at": at}])


def test_funding_lists_the_callers_payments_newest_first_with_exact_amounts(client_a, acct_a, acct_b):
    pay(acct_a, "1", "-0.12345678")
    pay(acct_a, "2", "0.5", symbol="ETHUSDT", at=T0.replace(hour=16))
    pay(acct_b, "3", "-9")

    body = client_a.get("/api/v1/funding/").json()

    assert [(r["venue_id"], r["account"], r["symbol"], r["amount"], r["asset"]) for r in body["results"]] == [
        ("2", "acct-a", "ETHUSDT", "0.5", "USDT"),
        ("1", "acct-a", "BTCUSDT", "-0.12345678", "USDT")]
    assert body["results"][1]["paid_at"] == "2026-12-07T08:00:00Z" and body["results"][1]["source"] == "sync"


def test_funding_filters_by_symbol_in_any_spelling_and_by_time(client_a, acct_a):
    pay(acct_a, "1", "-1")
    pay(acct_a, "2", "-2", symbol="ETHUSDT")
    pay(acct_a, "3", "-3", at=T0.replace(hour=16))

    by_symbol = client_a.get("/api/v1/funding/", {"account": "acct-a", "symbol": "btc/usdt"}).json()["results"]
    later = client_a.get("/api/v1/funding/", {"paid_after": "2026-12-07T12:00:00Z"}).json()["results"]

    assert sorted(r["venue_id"] for r in by_symbol) == ["1", "3"]
    assert [r["venue_id"] for r in later] == ["3"]


def test_another_traders_account_is_not_found(client_a, acct_a, acct_b):
    pay(acct_b, "1", "-1")

    response = client_a.get("/api/v1/funding/", {"account": "acct-b"})

    assert response.status_code == 404 and response.json()["error"]["field"] == "account"
