"""Ask the workers to look at the venue now (admin "resync", "sync now", "test connectivity").
Tasks are sent by name: the web tier never imports worker code nor holds exchange secrets."""
from __future__ import annotations

from oms_project.celery import app

ORDER_SYNC_TASK = "orders.tasks.order_sync"
ACCOUNT_SYNC_TASK = "orders.tasks.account_sync"
ACCOUNT_CHECK_TASK = "orders.tasks.account_check"
MARKETS_SYNC_TASK = "orders.tasks.markets_sync"


def order_sync_request(order_id: str) -> None:
    """Look the order up on the venue and apply what it says (status, fills)."""
    app.send_task(ORDER_SYNC_TASK, args=[order_id])


def account_sync_request(account: str) -> None:
    """Refresh balances and positions of the account from the venue."""
    app.send_task(ACCOUNT_SYNC_TASK, args=[account])


def account_check_request(account: str) -> None:
    """Test the account's connectivity and credentials; a refused key disables the account with the reason."""
    app.send_task(ACCOUNT_CHECK_TASK, args=[account])


def markets_sync_request(account: str) -> None:
    """Refresh the instrument catalog of the account's venue."""
    app.send_task(MARKETS_SYNC_TASK, args=[account])
