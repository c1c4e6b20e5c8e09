"""An order's story for its admin page: the events as a timeline, the fills with fees, the venue requests the workers
made for it (exchanges.request_log), what reconciliation found, and, while the venue has not settled it, a plain
sentence of what the OMS is waiting for and when it looks again. Reads only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from exchanges import increments as catalog
from exchanges import request_log
from infra.admin_base import duration_text, number_text, utc_ms
from orders import lifecycle
from orders.models import Order, Status
from orders.models_reconcile import Drift

# Beat's schedule (settings.CELERY_BEAT_SCHEDULE): the recovery pass and the light reconciliation.
RECOVERY_TASK, RECONCILE_TASK = "recover-pending", "reconcile-light"
# The poller hands an unsent PENDING_NEW order to the workers again after this (execution.venue_orders).
HANDOFF_LOST_AFTER = timedelta(seconds=30)

_PAYLOAD_KEYS = ("reason", "status", "filled", "filled_quantity", "trade_id", "quantity", "price", "fee", "fee_asset",
                 "average_price", "exchange_order_id", "why", "msg")


def _every(task: str) -> float:
    return float(settings.CELERY_BEAT_SCHEDULE.get(task, {}).get("schedule", 0) or 0)


def payload_summary(payload: dict | None, limit: int = 160) -> str:
    """The facts of an event's payload that people look for, on one line."""
    if not payload:
        return ""
    parts = [f"{k}={payload[k]}" for k in _PAYLOAD_KEYS if payload.get(k) not in (None, "", [], {})]
    if not parts:
        parts = [f"{k}={v}" for k, v in list(payload.items())[:4] if v not in (None, "") and not isinstance(v, dict | list)]
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(order: Order) -> str:
    """BUY 0.0500 ETHUSDT @ 3000.00 LIMIT · PENDING_NEW (the page title, at the instrument's step and tick)."""
    step, tick = getattr(order, "oms_increments", None) or catalog.increments().get(
        (order.exchange, order.market, order.symbol), (None, None))
    price = f" @ {number_text(order.price, tick)}" if order.price is not None else ""
    return f"{order.side} {number_text(order.quantity, step)} {order.symbol}{price} {order.order_type} · {order.status}"


@dataclass
class Story:
    waiting: str = ""
    events: list[dict] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    drifts: list[dict] = field(default_factory=list)


def _at(moment: datetime | None) -> str:
    return utc_ms(moment)


def _in(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    return f"in {duration_text(seconds)}" if seconds > 0 else "now (it is due)"


def waiting_sentence(order: Order, *, unfixed: list[Drift], now: datetime | None = None) -> str:
    """What the OMS is waiting for and when it looks again; empty when nothing is awaited."""
    now = now or timezone.now()
    recovery = _every(RECOVERY_TASK)
    next_look = f"The poller looks again at {_at(order.next_sync_at)} ({_in(order.next_sync_at, now)})" \
        if order.next_sync_at else f"The recovery pass looks at it within {duration_text(recovery)}"
    sentences = []
    if order.status == Status.PENDING_NEW and order.submitted_at is None:
        handed = order.created_at + HANDOFF_LOST_AFTER
        sentences.append(
            f"Waiting for a worker to send it to the venue: the OMS took it at {_at(order.created_at)} and handed it to "
            f"the workers' order lane; nothing has been sent yet. If no worker has sent it by {_at(handed)} "
            f"({_in(handed, now)}) the poller hands it over again (the claim keeps it to one send).")
    elif order.status == Status.PENDING_NEW:
        gate = lifecycle.lookup_gate(submitted_at=order.submitted_at, created_at=order.created_at)
        sentences.append(
            f"Waiting for the venue's answer: sent at {_at(order.submitted_at)} and not answered yet. It is never sent "
            f"again; the workers look it up by its client order id ({order.pk}). {next_look}. If the venue still does "
            f"not know it after {_at(gate)} ({_in(gate, now)}), it becomes REJECTED (venue never received it).")
    elif order.status == Status.PENDING_CANCEL:
        sentences.append(
            f"Waiting for the venue to confirm the cancel requested at {_at(order.updated_at)}: CANCELLED, or FILLED if "
            f"a fill won the race. {next_look}.")
    for drift in unfixed:
        every = _every(RECONCILE_TASK)
        sentences.append(
            f"Reconciliation at {_at(drift.run.started_at)} found it drifted ({drift.get_kind_display()}: ledger "
            f"{drift.ledger or '-'}, venue {drift.venue or '-'}), not repaired. The next light reconciliation runs within "
            f"{duration_text(every)}; `manage.py reconcile --account {drift.run.account.name} --fix` applies the "
            f"venue's truth.")
    return " ".join(sentences)


def story(order: Order) -> Story:
    step, tick = getattr(order, "oms_increments", None) or (None, None)
    events = [{"at": _at(e.at), "sequence": e.sequence, "kind": e.kind, "from": e.from_status or "·",
               "to": e.to_status, "source": e.source, "summary": payload_summary(e.payload)}
              for e in order.events.order_by("sequence")]
    fills = [{"at": _at(f.executed_at), "trade_id": f.trade_id, "quantity": number_text(f.quantity, step),
              "price": number_text(f.price, tick), "fee": f"{number_text(f.fee)} {f.fee_asset}".strip(),
              "exact": f"{f.quantity} @ {f.price}, fee {f.fee}", "maker": "maker" if f.is_maker else "taker"}
             for f in order.fills.order_by("executed_at", "id")]
    try:
        recorded = request_log.of(order.pk, order.exchange_order_id)
    except Exception:  # noqa: BLE001 - Redis away: the page still shows what the database holds
        recorded = []
    requests = [{"at": utc_ms(datetime.fromtimestamp(r["at"], tz=UTC)), "request": f"{r['method']} {r['path']}",
                 "outcome": r["outcome"], "ms": r["ms"]} for r in recorded]
    drift_rows = list(Drift.objects.filter(order=order).select_related("run", "run__account").order_by("-run__started_at"))
    drifts = [{"at": _at(d.run.started_at), "kind": d.get_kind_display(), "ledger": d.ledger, "venue": d.venue,
               "fixed": d.fixed, "note": d.note, "run_id": d.run_id} for d in drift_rows]
    unfixed = [d for d in drift_rows if not d.fixed and order.is_open]
    return Story(waiting=waiting_sentence(order, unfixed=unfixed), events=events, fills=fills, requests=requests,
                 drifts=drifts)



