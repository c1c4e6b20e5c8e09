"""Fixtures of the operations tests."""
import pytest

from accounts import services as account_services
from exchanges.markets import sync_markets
from orders import execution


@pytest.fixture
def account_on_venue(venue, transactional_db):
    """The account `main` on the local venue, catalog and balances synced, with no worker running."""
    account = account_services.account_create(name="main", exchange="binance", base_url=venue.base_url)
    account_services.credential_set(account="main", api_key=venue.api_key, secret=venue.secret)
    sync_markets(account)
    execution.account_sync(account.pk)
    return account
