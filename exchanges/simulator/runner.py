"""Build and run the venue: in the foreground (`manage.py run_venue`) or in a background thread."""
import asyncio
import secrets
import threading

from aiohttp import web

from .engine import Venue
from .server import VenueServer, load_snapshot


def build(*, seed: int = 1, keys: dict[str, str] | None = None, latency_ms: float = 0, control_token: str | None = None,
          snapshot_path: str | None = None, trickle_rate: float = 0, trickle_fraction: float = 0.5) -> VenueServer:
    """`trickle_rate`: synthetic takers a minute per symbol holding resting user orders (matching.TakerFlow)."""
    venue = Venue(seed=seed, keys=keys)
    venue.taker_flow.configure(trickle_rate, trickle_fraction)
    load_snapshot(venue, snapshot_path)
    return VenueServer(venue, control_token=control_token or secrets.token_urlsafe(24), latency_ms=latency_ms,
                       snapshot_path=snapshot_path, seed=seed)


def serve(server: VenueServer, host: str, port: int) -> None:
    """Serve in the foreground until interrupted (SIGINT/SIGTERM); the snapshot is written on the way out."""
    web.run_app(server.app(), host=host, port=port, access_log=None, print=None)


# On stop, how long requests in progress get to finish before they are cancelled: answers being written go out,
# answers held back on purpose (latency, dropped connections) end at once instead of after aiohttp's 60 s.
STOP_GRACE_SECONDS = 0.5


class BackgroundVenue:
    """The venue on its own event loop in a daemon thread, bound to host:port (0 = a free port)."""

    def __init__(self, server: VenueServer, host: str = "127.0.0.1", port: int = 0):
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(host, port), name="venue", daemon=True)
        self.port = 0

    def start(self, timeout: float = 10.0) -> "BackgroundVenue":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the venue did not start in time")
        if self._error:
            raise RuntimeError("the venue failed to start") from self._error
        return self

    def _run(self, host: str, port: int) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._runner = web.AppRunner(self.server.app(), access_log=None, handle_signals=False,
                                         shutdown_timeout=STOP_GRACE_SECONDS)
            self.loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, host, port, reuse_address=True)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        pending = asyncio.all_tasks(self.loop)  # requests still held (latency, dropped connections) end here
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
