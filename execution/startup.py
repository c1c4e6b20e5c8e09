"""What a worker does when it starts: the testnet account from the environment, and a first sync."""
from __future__ import annotations

import logging
import os

from accounts.models import Account, Credential
from accounts.selectors import accounts_to_sync

log = logging.getLogger(__name__)

TESTNET_ACCOUNT = "testnet"


def testnet_account_from_env() -> Account | None:
    """BINANCE_TESTNET_API_KEY / BINANCE_TESTNET_SECRET create or update the `testnet` sandbox account."""
    from accounts.services import account_create, credential_set

    api_key = os.environ.get("BINANCE_TESTNET_API_KEY", "").strip()
    secret = os.environ.get("BINANCE_TESTNET_SECRET", "").strip()
    if not api_key or not secret:
        return None
    account = Account.objects.filter(name=TESTNET_ACCOUNT).first()
    if account is None:
        account = account_create(name=TESTNET_ACCOUNT, exchange="binance", sandbox=True)
    elif not account.sandbox or account.exchange != "binance":
        log.error("account %r exists but is not a binance sandbox account; testnet keys not applied", TESTNET_ACCOUNT)
        return None
    current = Credential.objects.filter(account=account).first()
    if current is None or current.decrypted() != {"apiKey": api_key, "secret": secret}:
        credential_set(account=TESTNET_ACCOUNT, api_key=api_key, secret=secret)
        log.info("testnet account credentials set (key …%s)", api_key[-4:])
    return account


def startup_sync() -> None:
    """Catalog of every venue, then balances and positions of every account, through the queues. An account the
    gateway cannot serve is skipped and reported (exchanges.problems), never stopping the others."""
    from celery import current_app as app

    from exchanges import problems
    from venues.supported import config_problem

    for account in accounts_to_sync():
        problem = config_problem(account)
        if problem:
            problems.report(account, "worker start-up sync", problem)
            continue
        app.send_task("orders.tasks.account_startup_sync", args=[account.pk])
