"""Load on the local venue: signed orders from concurrent ccxt clients at a fixed rate.

    python -m bench.venue_load [--rate 500] [--seconds 10] [--clients 16] [--processes 2]

Starts the venue in its own process (limits off: the test is of throughput, not of Binance's caps),
spreads the clients (each its own ccxt.async_support.binance and API key) over worker processes,
paces every client open-loop to rate/clients orders per second, and prints the achieved rate, errors,
latency percentiles and the CPU time the venue process used."""
import argparse
import asyncio
import multiprocessing as mp
import secrets
import socket
import statistics
import sys
import time

import psutil

RESTING_PRICE = "90000"  # far under the market: these buy limits rest
ORDER_QTY = 0.0001


def _serve(port: int, token: str, keys: dict[str, str]) -> None:
    from exchanges.simulator.runner import build, serve

    serve(build(seed=7, keys=keys, control_token=token), "127.0.0.1", port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client_loop(base_url: str, key: str, secret: str, slots: list[float]) -> dict:
    """Place one order at each of `slots` (wall-clock times), without waiting for earlier answers."""
    import ccxt.async_support as ccxt_async

    from exchanges.simulator.testing import venue_urls

    exchange = ccxt_async.binance({
        "apiKey": key, "secret": secret, "enableRateLimit": False, "timeout": 10_000,
        "urls": {"api": venue_urls(base_url, ccxt_async.binance().urls["api"])},
        "options": {"defaultType": "spot", "fetchCurrencies": False, "fetchMargins": False,
                    "fetchMarkets": {"types": ["spot"]}, "adjustForTimeDifference": False},
    })
    latencies, errors = [], []

    async def one(n: int) -> None:
        sent = time.perf_counter()
        try:
            if n % 2:
                await exchange.create_order("BTC/USDT", "market", "buy", ORDER_QTY)
            else:
                await exchange.create_order("BTC/USDT", "limit", "buy", ORDER_QTY, float(RESTING_PRICE))
            latencies.append(time.perf_counter() - sent)
        except Exception as exc:  # every failure is counted and reported
            errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    try:
        await exchange.load_markets()
        pending = []
        for n, at in enumerate(slots):
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(n)))
        await asyncio.gather(*pending)
    finally:
        await exchange.close()
    return {"latencies": latencies, "errors": errors}


async def _clients(base_url: str, plan: list[tuple[str, str, list[float]]]) -> dict:
    results = await asyncio.gather(*[_client_loop(base_url, key, secret, slots) for key, secret, slots in plan])
    return {"latencies": [x for r in results for x in r["latencies"]], "errors": [x for r in results for x in r["errors"]]}


def _worker(base_url: str, plan, out) -> None:
    started_cpu = time.process_time()
    result = asyncio.run(_clients(base_url, plan))
    out.put({**result, "cpu": time.process_time() - started_cpu})


def run_load(base_url: str, keys: dict[str, str], *, rate: float, seconds: float, processes: int) -> dict:
    """Order n goes out at start + n/rate from client n mod len(keys); the clients are spread over
    `processes` processes (0: this process, on a fresh event loop)."""
    items = list(keys.items())
    total = round(rate * seconds)
    start_at = time.time() + (3.0 if processes else 0.5)  # time for every client to load its markets
    plan = [(key, secret, [start_at + n / rate for n in range(i, total, len(items))]) for i, (key, secret) in enumerate(items)]
    if processes == 0:
        started_cpu = time.process_time()
        parts = [{**asyncio.run(_clients(base_url, plan)), "cpu": time.process_time() - started_cpu}]
    else:
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(base_url, plan[i::processes], out)) for i in range(processes)]
        for p in procs:
            p.start()
        parts = [out.get(timeout=seconds + 120) for _ in procs]
        for p in procs:
            p.join(30)
    elapsed = time.time() - start_at
    latencies = sorted(x for part in parts for x in part["latencies"])
    errors = [x for part in parts for x in part["errors"]]
    return {
        "orders": len(latencies), "errors": errors, "elapsed": elapsed, "achieved_rate": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0.0,
        "client_cpu_s": sum(part["cpu"] for part in parts),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500, help="orders per second, all clients together")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args(argv)

    keys = {f"load{i}": secrets.token_hex(16) for i in range(args.clients)}
    port, token = _free_port(), secrets.token_urlsafe(16)
    ctx = mp.get_context("spawn")
    venue_proc = ctx.Process(target=_serve, args=(port, token, keys), daemon=True)
    venue_proc.start()
    from exchanges.simulator.control import VenueControl

    control = VenueControl(f"http://127.0.0.1:{port}", token)
    deadline = time.time() + 30
    while True:
        try:
            control.set_limits(enabled=False, reset=True, max_num_orders=1_000_000)  # resting orders pile up
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    venue = psutil.Process(venue_proc.pid)
    cpu_before = venue.cpu_times()
    result = run_load(f"http://127.0.0.1:{port}", keys, rate=args.rate, seconds=args.seconds, processes=args.processes)
    cpu_after = venue.cpu_times()
    venue_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    venue_proc.terminate()
    venue_proc.join(10)

    print(f"target      {args.rate:.0f} orders/s for {args.seconds:.0f} s from {args.clients} ccxt clients")
    print(f"placed      {result['orders']} orders in {result['elapsed']:.2f} s = {result['achieved_rate']:.1f} orders/s")
    print(f"errors      {len(result['errors'])}" + (f" (first: {result['errors'][0]})" if result["errors"] else ""))
    print(f"latency     p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms")
    print(f"venue CPU   {venue_cpu:.2f} s ({venue_cpu / result['elapsed'] * 100:.0f}% of one core over the run)")
    print(f"client CPU  {result['client_cpu_s']:.2f} s")
    ok = not result["errors"] and result["achieved_rate"] >= args.rate * 0.95
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
