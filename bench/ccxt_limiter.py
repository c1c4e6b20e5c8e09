"""How much ccxt's own per-process rate limiter costs when the shared Redis limiter is in place.

    OMS_DEV=1 .venv/bin/python -m bench.ccxt_limiter [--orders 100]

Sends the same run of orders through the gateway twice against a local venue, once with ccxt's
limiter (enableRateLimit) and once without, both under the shared limiter, and prints the figures.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")
django.setup()

from django.conf import settings  # noqa: E402

from accounts.models import Account  # noqa: E402
from exchanges.gateway import Gateway, build_client  # noqa: E402
from exchanges.simulator.testing import start_venue  # noqa: E402


def run(base_url: str, *, ccxt_limiter: bool, orders: int) -> list[float]:
    settings.OMS_CCXT_RATE_LIMIT = ccxt_limiter
    account = Account(id=900_000 + int(ccxt_limiter), name="bench", exchange="binance", base_url=base_url)
    gateway = Gateway(account, build_client(account, {"apiKey": "bench", "secret": "bench"}))
    gateway.load_markets()
    took = []
    for n in range(orders):
        started = time.perf_counter()
        gateway.create_order(symbol="BTC/USDT", side="BUY", order_type="LIMIT", amount=Decimal("0.001"),
                             price=Decimal("50000"), client_order_id=f"bench{int(ccxt_limiter)}{n}{time.time_ns()}")
        took.append((time.perf_counter() - started) * 1000)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=90, help="orders per run (the venue allows 100 per 10 s)")
    args = parser.parse_args()
    venue = start_venue(seed=1, keys={"bench": "bench"})
    try:
        for ccxt_limiter in (True, False):
            if ccxt_limiter is False:
                venue.control.set_limits(reset=True)
            took = run(venue.base_url, ccxt_limiter=ccxt_limiter, orders=args.orders)
            print(f"ccxt limiter {'on ' if ccxt_limiter else 'off'}: {args.orders} orders in {sum(took):7.1f} ms, "
                  f"median {statistics.median(took):5.2f} ms, p95 {sorted(took)[int(len(took) * 0.95)]:5.2f} ms")
    finally:
        venue.stop()


if __name__ == "__main__":
    main()
