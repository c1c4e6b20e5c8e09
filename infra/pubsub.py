"""Redis channels for order updates and prices, shared by publishers and stream servers.

Channels (prefix OMS_PUBSUB_PREFIX, default "oms"; pub/sub ignores Redis db numbers, so
deployments sharing one Redis keep apart by prefix):
  <prefix>:orders:<account_name>                  one JSON message per order change (after commit)
  <prefix>:prices:<exchange>:<market>:<SYMBOL>    one JSON PriceUpdate per tick
Latest prices are also kept in the hash <prefix>:prices:latest (field "<exchange>:<market>:<SYMBOL>").
"""
from __future__ import annotations

import json
from functools import lru_cache

import redis
from django.conf import settings

PREFIX = settings.OMS_PUBSUB_PREFIX
ORDER_CHANNEL_PREFIX = f"{PREFIX}:orders:"
PRICE_CHANNEL_PREFIX = f"{PREFIX}:prices:"
LATEST_PRICES_KEY = f"{PREFIX}:prices:latest"


def order_channel(account_name: str) -> str:
    return f"{ORDER_CHANNEL_PREFIX}{account_name}"


def price_channel(exchange: str, market: str, symbol: str) -> str:
    return f"{PRICE_CHANNEL_PREFIX}{exchange}:{market}:{symbol}"


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    """One connection pool per process."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)


def publish_json(channel: str, payload: dict) -> None:
    client().publish(channel, json.dumps(payload, separators=(",", ":"), default=str))


def publish_price(update: dict) -> None:
    """update: exchange, market, symbol, bid_price, bid_quantity, ask_price, ask_quantity, last_price, timestamp_ms."""
    key = f"{update['exchange']}:{update['market']}:{update['symbol']}"
    data = json.dumps(update, separators=(",", ":"), default=str)
    pipe = client().pipeline(transaction=False)
    pipe.hset(LATEST_PRICES_KEY, key, data)
    pipe.publish(price_channel(update["exchange"], update["market"], update["symbol"]), data)
    pipe.execute()


def latest_prices() -> dict[str, dict]:
    return {k.decode(): json.loads(v) for k, v in client().hgetall(LATEST_PRICES_KEY).items()}


def latest_price(exchange: str, market: str, symbol: str) -> dict | None:
    """The last PriceUpdate published for one instrument, or None."""
    raw = client().hget(LATEST_PRICES_KEY, f"{exchange}:{market}:{symbol}")
    return json.loads(raw) if raw else None
