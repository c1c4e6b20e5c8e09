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


def run_pro(venue, scenario, secret=None, timeout: float = 20, **options):
    """Run `scenario(exchange)` with a ccxt.pro binance on the venue's key (markets loaded), then close it."""
    import asyncio

    from exchanges.simulator.testing import ccxt_pro_client

    async def main():
        exchange = ccxt_pro_client(venue, venue.api_key, secret or venue.secret, **options)
        try:
            await exchange.load_markets()
            return await asyncio.wait_for(scenario(exchange), timeout)
        finally:
            await exchange.close()
    return asyncio.run(main())


def balance_messages(exchange) -> list[dict]:
    """Every balance message the ccxt.pro client handles, in order. A watch hands over only what arrives while it
    waits, so two messages back to back (a deposit's balanceUpdate and outboundAccountPosition) can reach its cache
    while the caller is busy, and the second is never returned by a watch."""
    seen: list[dict] = []
    handle = exchange.handle_balance

    def recorded(client, message):
        seen.append(dict(message))
        return handle(client, message)
    exchange.handle_balance = recorded
    return seen


async def watch_until(watch, predicate):
    """Call `watch()` until `predicate(result)` holds; return that result (the caller bounds the time)."""
    while True:
        result = await watch()
        if predicate(result):
            return result


async def subscribed(venue, count: int = 1):
    """Wait until the venue holds `count` user-data subscriptions (the scenario's timeout bounds it)."""
    import asyncio

    while len((await asyncio.to_thread(venue.control.user_streams))["connections"]) < count:
        await asyncio.sleep(0.02)
