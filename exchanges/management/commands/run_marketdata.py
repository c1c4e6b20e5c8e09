"""`manage.py run_marketdata`: publish prices of every enabled venue until interrupted."""
import signal
import threading

from django.conf import settings

from exchanges import marketdata
from infra.commands import OpsCommand, number_check
from infra.heartbeat import Heartbeat


class Command(OpsCommand):
    help = "Poll tickers of every instrument of every enabled venue and publish them on Redis."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.OMS_MARKETDATA_INTERVAL_SECONDS,
                            help="seconds between polls (default %(default)s)")
        parser.add_argument("--rounds", type=int, default=None, help="stop after this many polls")

    def handle(self, *args, interval, rounds, **options):
        number_check("--interval", interval, maximum=3600)
        number_check("--rounds", rounds, minimum=1)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"publishing prices every {interval}s")
        heartbeat = Heartbeat("marketdata").start()  # "alive" on the admin's overview
        try:
            marketdata.run(interval=interval, stop=stop, rounds=rounds)
        finally:
            heartbeat.stop()
