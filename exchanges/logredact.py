"""ccxt logs every request's headers at DEBUG, the venue API key among them (X-MBX-APIKEY, OK-ACCESS-KEY,
...): a filter on ccxt's own logger masks credential headers before any handler sees the record."""
from __future__ import annotations

import logging

CCXT_LOGGER = "ccxt.base.exchange"
CREDENTIAL_HEADER_WORDS = ("KEY", "SECRET", "PASSPHRASE", "SIGN", "TOKEN", "AUTH")
MASK = "***"


def _masked(headers: dict) -> dict:
    return {name: MASK if any(w in str(name).upper() for w in CREDENTIAL_HEADER_WORDS) else value
            for name, value in headers.items()}


def redact_credential_headers(record: logging.LogRecord) -> bool:
    if isinstance(record.args, tuple):
        record.args = tuple(_masked(arg) if isinstance(arg, dict) else arg for arg in record.args)
    return True


def install() -> None:
    """Idempotent: a logger holds a filter once."""
    logging.getLogger(CCXT_LOGGER).addFilter(redact_credential_headers)
