"""The overview's venue health comes from what the processes recorded (exchanges.venue_health), never from a request
made while the page renders: the venue's own audit sees nothing during a render, and the page still says whether the
venue answers, when it last did, and since when it has not."""
from __future__ import annotations

import re

import ccxt
import pytest

from accounts.models import Account
from bench.stack import free_port
from exchanges import gateway, health, venue_health
from tests.admin.test_admin_overview import OVERVIEW, row_of


@pytest.fixture
def on_venue(account_on_venue):
    """The account `main` on the local venue (its catalog and balance syncs already answered), with no answers of an
    earlier test database's account of the same id, and no probe cached in this process."""
    venue_health.forget(account_on_venue.pk)
    health._venue_cache.clear()
    gateway.forget_gateways()
    gateway.gateway_for(account_on_venue).fetch_balance("spot")  # a worker's request: the venue answers
    return account_on_venue


def rest_cell(page: str, market: str = "spot") -> str:
    cell = re.search(r'<span class="rest-state[^"]*">.*?</td>', row_of(page, "main", market), re.S)
    assert cell, row_of(page, "main", market)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell.group(0))).strip()


def test_the_overview_renders_without_asking_the_venue(on_venue, venue, admin_as, viewer):
    client = admin_as(viewer)
    asked = len(venue.control.audit())

    page = client.get(OVERVIEW).content.decode()

    assert len(venue.control.audit()) == asked  # not one request to the venue, not even a ping
    assert re.fullmatch(r"up answered [\d.]+ s ago", rest_cell(page)), rest_cell(page)
    assert rest_cell(page, "futures") == "unknown no request recorded"  # nothing asked of USD-M yet


def test_the_overview_says_since_when_the_venue_has_not_answered(on_venue, admin_as, viewer):
    Account.objects.filter(pk=on_venue.pk).update(base_url=f"http://127.0.0.1:{free_port()}")  # nobody listens
    gateway.forget_gateways()
    with pytest.raises(ccxt.NetworkError):
        gateway.gateway_for(Account.objects.get(pk=on_venue.pk)).fetch_balance("spot")

    cell = rest_cell(admin_as(viewer).get(OVERVIEW).content.decode())

    assert re.fullmatch(r"down no answer \(NetworkError\) [\d.]+ s ago last healthy [\d.]+ s ago", cell), cell


def test_a_refusal_is_an_answer_and_the_latest_probe_shows_with_its_time(on_venue, venue, admin_as, viewer):
    with pytest.raises(ccxt.OrderNotFound):  # the venue answered: no such order
        gateway.gateway_for(on_venue).fetch_order(symbol="BTCUSDT", client_order_id="never-placed")
    assert "no answer" not in rest_cell(admin_as(viewer).get(OVERVIEW).content.decode())

    health.check_venues()  # what /healthz does: one probe, recorded with its time

    cell = rest_cell(admin_as(viewer).get(OVERVIEW).content.decode())
    assert re.fullmatch(r"up probe up [\d.]+ s ago", cell), cell
    assert [r for r in venue.control.audit() if r["path"] == "/api/v3/ping"]
