"""USD-M funding payments into the ledger: the venue's income history read and recorded, idempotently.

`sync(account_id)` reads the account's funding payments since a little before the last one recorded (or
OMS_FUNDING_LOOKBACK_HOURS back for an account with none) and records them through
`orders.services.funding_record`, which skips a payment already recorded (unique per account and venue id). It
runs from beat every OMS_FUNDING_SYNC_SECONDS, when the USD-M user-data stream says a payment happened (Binance's
ACCOUNT_UPDATE with reason FUNDING_FEE carries the wallet change but not the payment's id, so the event asks for a
sync: a duplicated or replayed event costs one more read and records nothing twice), after the stream's catch-up,
and in reconciliation (`execution.reconcile`, which reports a payment the ledger lacks as `funding_missing`).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import current_app as app  # the project's app (oms_project.celery sets it as the default)
from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from exchanges.errors import VenueAuthError, VenueBackoff, venue_reason
from exchanges.gateway import Gateway, gateway_for
from exchanges.results import VenueFunding
from execution.venue_orders import RetryLater
from infra import pubsub
from orders import services
from orders.models import FundingPayment

log = logging.getLogger(__name__)

FUNDING_SYNC_TASK = "orders.tasks.account_funding_sync"
OVERLAP = timedelta(hours=1)  # re-read before the last recorded payment: a row booked late is still found


def supported(gateway: Gateway) -> bool:
    """Accounts whose gateway trades USD-M (Binance)."""
    return gateway.trades_futures()


def since_for(account: Account) -> datetime:
    last = FundingPayment.objects.filter(account=account).order_by("-paid_at").values_list("paid_at", flat=True).first()
    if last is not None:
        return last - OVERLAP
    return timezone.now() - timedelta(hours=settings.OMS_FUNDING_LOOKBACK_HOURS)


def as_rows(payments: list[VenueFunding]) -> list[dict]:
    return [{"venue_id": p.venue_id, "symbol": p.symbol, "asset": p.asset, "amount": p.amount,
             "paid_at": datetime.fromtimestamp(p.time_ms / 1000, tz=UTC)} for p in payments]


def sync(account_id: int, source: str = FundingPayment.Source.SYNC) -> int:
    """Record the account's funding payments the ledger lacks; returns how many were new."""
    pubsub.client().delete(_pending_key(account_id))  # events from now on ask for another sync
    account = Account.objects.get(pk=account_id)
    gateway = gateway_for(account)
    if not supported(gateway):
        return 0
    try:
        payments = gateway.fetch_funding_history(since_ms=int(since_for(account).timestamp() * 1000))
    except VenueBackoff as exc:  # our limiter refused before anything was sent
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except VenueAuthError as exc:
        # A key without futures rights is not a reason to stop trading (as for the futures balances).
        log.warning("funding of %s not readable with this key: %s", account.name, venue_reason(exc))
        return 0
    created = services.funding_record(account=account.name, payments=as_rows(payments), source=source)
    if created:
        log.info("%d funding payments of %s recorded", created, account.name)
    return created


def sync_soon(account_id: int) -> None:
    """A funding event on the stream: one sync task for the account, however many events arrive meanwhile."""
    if pubsub.client().set(_pending_key(account_id), "1", nx=True, ex=30):
        app.send_task(FUNDING_SYNC_TASK, args=[account_id, FundingPayment.Source.STREAM])


def _pending_key(account_id: int) -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:funding-sync-pending:{account_id}"
