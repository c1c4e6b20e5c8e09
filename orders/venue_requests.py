"""Ask the workers to look at the venue now (admin "resync", "sync now", "test connectivity").
Tasks are sent by name: the web tier never imports worker code nor holds exchange secrets."""
from __future__ import annotations

from celery import current_app as app  # the project's app (oms_project.celery sets it as the default in every thread)

ORDER_SYNC_TASK = "orders.tasks.order_sync"
ACCOUNT_SYNC_TASK = "orders.tasks.account_sync"
ACCOUNT_CHECK_TASK = "orders.tasks.account_startup_sync"
MARKETS_SYNC_TASK = "orders.tasks.markets_sync"


def order_sync_request(order_id: str) -> None:
    """Look the order up on the venue and apply what it says (status, fills)."""
    app.send_task(ORDER_SYNC_TASK, args=[order_id])


def account_sync_request(account_id: int) -> None:
    """Refresh balances and positions of the account from the venue."""
    app.send_task(ACCOUNT_SYNC_TASK, args=[account_id])


def account_check_request(account_id: int) -> None:
    """Connectivity and credentials: a public call (markets) then a signed one (balances). A refused key
    disables the account with the venue's reason."""
    app.send_task(ACCOUNT_CHECK_TASK, args=[account_id])


def markets_sync_request(account_id: int) -> None:
    """Refresh the instrument catalog of the account's venue."""
    app.send_task(MARKETS_SYNC_TASK, args=[account_id])
