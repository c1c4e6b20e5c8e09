"""Ports: what one app provides to adapters the import contracts keep from importing it. The ledger's adapters
(orders.api, orders.grpc) may not import the gateway (ccxt lives there), yet serve candles read through it:
exchanges registers its reader when Django starts (ExchangesConfig.ready) and the adapters call the port."""
from __future__ import annotations

from collections.abc import Callable

_candles: Callable[..., list[dict]] | None = None


def provide_candles(reader: Callable[..., list[dict]]) -> None:
    global _candles
    _candles = reader


def candles(**query) -> list[dict]:
    """exchanges.ohlcv.candles_list(**query): the venue's candles, cached briefly."""
    if _candles is None:
        raise RuntimeError("no candle reader registered (exchanges is not in INSTALLED_APPS)")
    return _candles(**query)
