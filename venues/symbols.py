"""Symbol spelling: exchange-native `BTCUSDT` everywhere; ccxt's `BTC/USDT` and `BTC/USDT:USDT` accepted."""
from __future__ import annotations


def symbol_normalize(symbol: str) -> str:
    value = (symbol or "").strip().upper()
    if "/" in value:
        base, _, rest = value.partition("/")
        value = base + rest.partition(":")[0]
    return value
