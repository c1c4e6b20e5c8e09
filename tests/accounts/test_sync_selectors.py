"""Which accounts the workers sync, and which account reads each venue's public data: one selector each."""
from __future__ import annotations

from accounts import services
from accounts.selectors import accounts_to_sync, venue_accounts
from exchanges import marketdata
from oms_project.celery import app as celery_app
from tests import factories


def accounts(*names_and_urls):
    out = []
    for name, base_url in names_and_urls:
        out.append(services.account_create(name=name, exchange="binance", base_url=base_url))
    return out


def test_the_workers_sync_enabled_accounts_with_credentials(db):
    synced, no_keys, disabled = accounts(("synced", ""), ("no-keys", ""), ("disabled", ""))
    for name in ("synced", "disabled"):
        services.credential_set(account=name, api_key="key-1234", secret="secret-5678")
    services.account_set_enabled(account="disabled", enabled=False, reason="rotating keys")

    assert list(accounts_to_sync()) == [synced]
    assert list(accounts_to_sync(exchange="kraken")) == []


def test_one_account_per_venue_endpoint_the_first_by_pk(db):
    first, same, other, _ = accounts(("z-first", ""), ("a-same", ""), ("m-local", "https://venue.example.com"),
                                     ("b-off", "https://off.example.com"))
    services.account_set_enabled(account="b-off", enabled=False, reason="gone")

    assert venue_accounts() == marketdata.venues() == [first, other]
    assert venue_accounts(exchanges=["kraken"]) == []


def test_the_admin_syncs_a_catalog_through_the_account_the_price_feed_uses(db, client):
    """The admin's catalog sync picked any enabled account of the exchange (the last by name): `z-later` here,
    where the price feed and the hourly sync read the venue through `a-first`."""
    instrument = factories.instrument_create()
    accounts(("a-first", ""), ("z-later", ""))
    client.force_login(factories.user_create(username="root", superuser=True))

    response = client.post("/admin/exchanges/instrument/", {"action": "sync_now", "_selected_action": [instrument.pk]}, follow=True)

    assert [m.message for m in response.context["messages"]] == ["binance: sync queued via account a-first"]
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")
