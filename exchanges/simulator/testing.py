"""Helpers for code that trades against the local venue in tests and benchmarks.

    handle = start_venue(seed=1, keys={"key": "secret"})
    exchange = ccxt_client(handle, "key", "secret")
    handle.control.set_price("BTCUSDT", 100000)
    handle.stop()
"""
import secrets
from dataclasses import dataclass

import ccxt
import ccxt.pro

from .control import VenueControl
from .runner import BackgroundVenue, build


@dataclass
class VenueHandle:
    base_url: str
    control: VenueControl
    control_token: str
    background: BackgroundVenue
    keys: dict[str, str]

    @property
    def api_key(self) -> str:
        """The first configured key (the fixture configures one)."""
        return next(iter(self.keys))

    @property
    def secret(self) -> str:
        return self.keys[self.api_key]

    @property
    def server(self):
        return self.background.server

    def stop(self) -> None:
        self.background.stop()


def start_venue(seed: int = 1, keys: dict[str, str] | None = None, latency_ms: float = 0,
                snapshot_path: str | None = None, control_token: str | None = None) -> VenueHandle:
    """Run a venue on a free loopback port in a background thread; every key starts funded."""
    token = control_token or secrets.token_urlsafe(24)
    server = build(seed=seed, keys=keys, latency_ms=latency_ms, control_token=token, snapshot_path=snapshot_path)
    background = BackgroundVenue(server).start()
    base_url = f"http://127.0.0.1:{background.port}"
    return VenueHandle(base_url, VenueControl(base_url, token), token, background, dict(keys or {"demo": "demo"}))


class VenueErrorTables:
    """ccxt's binance picks its spot/linear error tables by Binance's hostnames; on a local URL pick them by path,
    so -2019/-4164/-4116 raise InsufficientFunds/InvalidOrder as they would against Binance."""

    hostname_override = ""

    def get_exceptions_by_url(self, url, exactOrBroad):
        if url and self.hostname_override and url.startswith(self.hostname_override):
            kind = "linear" if "/fapi/" in url else "spot"
            return self.safe_dict(self.safe_dict(self.exceptions, kind, {}), exactOrBroad, {})
        return super().get_exceptions_by_url(url, exactOrBroad)


class VenueBinance(VenueErrorTables, ccxt.binance):
    pass


class VenueBinancePro(VenueErrorTables, ccxt.pro.binance):
    pass


def venue_urls(base_url: str, template: dict) -> dict:
    """Each REST URL of ccxt's binance with its scheme and host replaced by the venue's."""
    def swap(value):
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, str) and value.startswith("https://") and "/" in value[8:]:
            return base_url + "/" + value[8:].split("/", 1)[1]
        return value
    return {k: swap(v) for k, v in template.items() if k != "ws"}


def venue_ws_urls(base_url: str) -> dict:
    """ccxt.pro's websocket URLs on the venue (spot streams must live under /stream)."""
    ws = "ws://" + base_url.split("://", 1)[1]
    return {"spot": f"{ws}/stream", "margin": f"{ws}/stream", "linear": f"{ws}/fws/ws", "inverse": f"{ws}/fws/ws",
            "ws-api": {"spot": f"{ws}/ws-api/v3"}}


def ccxt_pro_client(handle: "VenueHandle | str", api_key: str, secret: str, **options):
    """A `ccxt.pro.binance` on the venue, REST and websockets; use it inside an event loop and close it."""
    base_url = handle if isinstance(handle, str) else handle.base_url
    exchange = VenueBinancePro({
        "apiKey": api_key, "secret": secret, "timeout": options.pop("timeout", 10_000),
        "enableRateLimit": options.pop("enableRateLimit", False),
        "urls": {"api": {**venue_urls(base_url, ccxt.binance().urls["api"]), "ws": venue_ws_urls(base_url)}},
        "options": {
            "defaultType": "spot", "fetchCurrencies": False, "fetchMargins": False,
            "fetchMarkets": {"types": ["spot", "linear"]}, "adjustForTimeDifference": False,
            "fetchOpenOrders": {"warnWithoutSymbol": False}, **options,
        },
    })
    exchange.hostname_override = base_url
    return exchange


def ccxt_client(handle: VenueHandle | str, api_key: str, secret: str, **options) -> ccxt.binance:
    """A `ccxt.binance` pointed at the venue, with the options that keep it off endpoints the venue lacks."""
    base_url = handle if isinstance(handle, str) else handle.base_url
    template = ccxt.binance().urls["api"]
    exchange = VenueBinance({
        "apiKey": api_key, "secret": secret, "timeout": options.pop("timeout", 10_000),
        "enableRateLimit": options.pop("enableRateLimit", False),
        "urls": {"api": venue_urls(base_url, template)},
        "options": {
            "defaultType": "spot", "fetchCurrencies": False, "fetchMargins": False,
            "fetchMarkets": {"types": ["spot", "linear"]}, "adjustForTimeDifference": False,
            "fetchOpenOrders": {"warnWithoutSymbol": False}, **options,
        },
    })
    exchange.hostname_override = base_url
    return exchange
