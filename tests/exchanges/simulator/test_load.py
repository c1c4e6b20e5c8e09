"""A short, bounded version of `python -m bench.venue_load`: 16 concurrent ccxt clients place signed
orders at a fixed rate for 2 s; every order must be accepted and seen once by the venue. The rate achieved is a
figure for `make bench`, not asserted here: it moves with the machine's load."""
from bench.venue_load import run_load
from exchanges.simulator.testing import start_venue

RATE, SECONDS, CLIENTS = 100, 2, 16


def test_sixteen_clients_place_orders_without_errors():
    keys = {f"load{i}": f"secret{i}" for i in range(CLIENTS)}
    handle = start_venue(seed=2, keys=keys)
    try:
        handle.control.set_limits(enabled=False, reset=True)

        result = run_load(handle.base_url, keys, rate=RATE, seconds=SECONDS, processes=0)

        assert result["errors"] == []
        assert result["orders"] == RATE * SECONDS
        accepted = [r for r in handle.control.audit() if r["path"] == "/api/v3/order" and r["outcome"] == "ok"]
        assert len(accepted) == RATE * SECONDS
        assert len({r["client_order_id"] for r in accepted}) == RATE * SECONDS
    finally:
        handle.stop()
