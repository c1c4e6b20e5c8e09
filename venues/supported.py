"""What the gateway can build a venue client for: the one check of an account's exchange id and venue URL.

`accounts.services` (so the admin form and `create_account` too) refuses an account the gateway could not
serve; the shared processes (`run_marketdata`, the workers' start-up sync, beat's tasks) call
`config_problem` on every account they are about to use, so a row written before these checks existed
(or straight into the database) is skipped and reported instead of stopping the process."""
from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from infra.errors import InvalidInput, echo

URL_SCHEMES = ("http", "https")
URL_MAX_LENGTH = 200  # Account.base_url's column


@cache
def exchange_ids() -> frozenset[str]:
    """The ccxt exchange ids the gateway builds clients for (exchanges.gateway.client_class)."""
    import ccxt

    return frozenset(ccxt.exchanges)


def exchange_check(value) -> str:
    """The exchange id, trimmed and lower-cased, or InvalidInput(field="exchange")."""
    exchange = value.strip().lower() if isinstance(value, str) else ""
    if not exchange:
        raise InvalidInput("exchange (a ccxt exchange id such as binance) is required", field="exchange")
    if exchange not in exchange_ids():
        raise InvalidInput(f"{echo(value)} is not an exchange the gateway supports; use a ccxt exchange id "
                           f"such as binance", field="exchange")
    return exchange


def base_url_check(value) -> str:
    """"" (the venue's own host) or an http(s) URL of a host, optionally with a port, nothing else (the
    gateway keeps only scheme and host:port and puts the venue's own paths after them); InvalidInput naming
    base_url otherwise."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise InvalidInput("base_url must be text", field="base_url")
    url = value.strip()
    if not url:
        return ""

    def refuse(why: str):
        return InvalidInput(f"{echo(value)} is not a venue URL: {why} (e.g. https://api.example.com or "
                            f"http://127.0.0.1:8765)", field="base_url")

    if len(url) > URL_MAX_LENGTH:
        raise refuse(f"longer than {URL_MAX_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or any(c.isspace() for c in url):
        raise refuse("only printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refuse(str(exc)) from None
    if parts.scheme.lower() not in URL_SCHEMES:
        raise refuse("the scheme must be http or https")
    if not parts.hostname:
        raise refuse("it names no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("credentials do not belong in the URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise refuse("only scheme, host and port are used, so a path, query or fragment would be ignored")
    if port == 0:
        raise refuse("port 0")
    return url


def config_problem(account) -> str | None:
    """Why the gateway cannot serve this account as stored (its exchange id or venue URL), or None."""
    try:
        exchange_check(account.exchange)
        base_url_check(account.base_url)
    except InvalidInput as exc:
        return str(exc)
    return None
