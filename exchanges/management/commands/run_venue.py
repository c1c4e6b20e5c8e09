"""`manage.py run_venue`: the local Binance-compatible venue in the foreground (Ctrl-C stops it)."""
import logging
import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchanges.simulator.runner import build, serve
from exchanges.simulator.wallets import DEMO_KEY, load_keys


class Command(BaseCommand):
    help = "Run the local Binance-compatible venue (spot /api/v3 and USD-M /fapi) that ccxt's binance class trades against."

    def add_arguments(self, parser):
        host, _, port = settings.OMS_VENUE_ADDR.rpartition(":")
        parser.add_argument("--host", default=host or "127.0.0.1")
        parser.add_argument("--port", type=int, default=int(port or 8765))
        parser.add_argument("--seed", type=int, default=1, help="seed of the price walk")
        parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
        parser.add_argument("--keys", help="file of key:secret lines (also OMS_VENUE_KEYS=key:secret,...)")
        parser.add_argument("--snapshot", help="file that keeps orders and balances across restarts")
        parser.add_argument("--control-token", help="token of the /_venue/ control API (also OMS_VENUE_CONTROL_TOKEN)")
        parser.add_argument("--trickle-rate", type=float, default=0.0,
                            help="random synthetic takers a minute on each symbol holding resting user orders (0: off)")
        parser.add_argument("--trickle-fraction", type=float, default=0.5,
                            help="each takes up to this fraction of the best resting order's remaining quantity")

    def handle(self, *args, **opts):
        try:
            keys = load_keys(opts["keys"], os.environ.get("OMS_VENUE_KEYS"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"--keys / OMS_VENUE_KEYS: {exc}") from None
        token = opts["control_token"] or os.environ.get("OMS_VENUE_CONTROL_TOKEN") or secrets.token_urlsafe(24)
        try:
            server = build(seed=opts["seed"], keys=keys or None, latency_ms=opts["latency_ms"], control_token=token,
                           snapshot_path=opts["snapshot"], trickle_rate=opts["trickle_rate"],
                           trickle_fraction=opts["trickle_fraction"])
        except ValueError as exc:
            raise CommandError(f"--trickle-rate / --trickle-fraction: {exc}") from None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        if server.venue.default_key:
            self.stdout.write(f"no keys configured: accepting API key '{DEMO_KEY}' / secret '{DEMO_KEY}' from loopback only")
        else:
            self.stdout.write(f"{len(server.venue.accounts)} API key(s) configured, each funded with the demo balances")
        if not (opts["control_token"] or os.environ.get("OMS_VENUE_CONTROL_TOKEN")):
            self.stdout.write(f"control token: {token}")
        if opts["trickle_rate"]:
            self.stdout.write(f"random synthetic takers: about {opts['trickle_rate']:g} a minute per symbol with resting orders")
        self.stdout.write(f"venue listening on http://{opts['host']}:{opts['port']} (spot /api/v3, USD-M /fapi)")
        serve(server, opts["host"], opts["port"])
