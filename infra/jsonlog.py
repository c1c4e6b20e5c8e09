"""Structured logs: one JSON object per line, with the order and account a line is about.

`log_context(order_id=..., account=...)` binds fields for everything logged inside it (contextvars,
so it follows threads' and asyncio tasks' own contexts); fields passed with `extra=` win.
Settings LOGGING uses `JsonFormatter` unless OMS_LOG_FORMAT=plain.
"""
from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("oms_log_context", default=None)


def _fields() -> dict:
    return _context.get() or {}

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


@contextmanager
def log_context(**fields):
    """Add fields (order_id, account, task, ...) to every log line emitted inside the block."""
    token = _context.set({**_fields(), **{k: v for k, v in fields.items() if v not in (None, "")}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields) -> None:
    """Bind fields for the rest of the current context (e.g. a Celery task run); `clear()` ends them."""
    _context.set({**_fields(), **{k: v for k, v in fields.items() if v not in (None, "")}})


def clear() -> None:
    _context.set({})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_fields())
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class RateLimitedLog:
    """At most one line per `interval` seconds; the next line says how many were held back meanwhile."""

    def __init__(self, logger, interval: float):
        self.logger, self.interval = logger, interval
        self._lock = threading.Lock()
        self._last, self._held = float("-inf"), 0

    def warning(self, message: str, *args) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval:
                self._held += 1
                return
            held, self._last, self._held = self._held, now, 0
        self.logger.warning(message + (f" ({held} more since the last such line)" if held else ""), *args)
