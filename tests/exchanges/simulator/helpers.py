"""Small helpers shared by the venue tests (all trading goes through ccxt.binance)."""
from decimal import Decimal


def hold_price(venue, symbol: str, price, market: str = "spot") -> dict:
    """Pin the symbol's mid price and stop its walk, so the book is known for the rest of the test."""
    return venue.control.set_price(symbol, price, market=market, freeze=True)


def balance(exchange, asset: str, params: dict | None = None) -> tuple[Decimal, Decimal]:
    """(free, used) exactly as the venue reports them (strings, not ccxt's floats)."""
    info = exchange.fetch_balance(params or {})["info"]
    for row in info.get("balances", []):
        if row["asset"] == asset:
            return Decimal(row["free"]), Decimal(row["locked"])
    for row in info.get("assets", []):
        if row["asset"] == asset:
            return Decimal(row["availableBalance"]), Decimal(row["initialMargin"])
    return Decimal(0), Decimal(0)
