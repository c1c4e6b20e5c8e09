"""An operator in a real browser (headless Chromium, 1400×900) against the real worker and the local venue: logs in,
reads the overview, finds an order in the list (every column in view without scrolling), reads the story of an order
whose venue answer is late, looks it up on the venue, cancels it, turns the kill switch on and off, disables and
enables an account, sets trading states and reads an account's positions and daily PnL, each through the buttons.
Screenshots of each page go to test-artifacts/ (ARTIFACTS) after the key elements of that page were found on it;
`OMS_SCREENSHOTS_DIR=docs/admin` writes the README's."""
from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from accounts.models import Account, ControlChange, TradingSwitch
from accounts.services import trading_state_set
from orders import services
from orders.models import Order, Status
from tests import factories
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("OMS_SCREENSHOTS_DIR") or ROOT / "test-artifacts")
if not ARTIFACTS.is_absolute():
    ARTIFACTS = ROOT / ARTIFACTS
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WIDTH, HEIGHT = 1400, 900

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                                  reason="needs Debian chromium + chromium-driver (make browser)")]


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--disable-background-networking", "--disable-extensions", f"--window-size={WIDTH},{HEIGHT}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def shot(browser, name: str, *key_ids: str) -> Path:
    """Save the page as seen, once each key element is on it and shown."""
    for key in key_ids:
        assert browser.find_element(By.ID, key).is_displayed(), f"{key} not shown on {name}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000
    return path


def click_and_read(browser, wait, element) -> str:
    """Click a button that posts and redirects; the messages of the new page."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    if ec.alert_is_present()(browser):
        browser.switch_to.alert.accept()  # the confirmation dialog
    wait.until(ec.staleness_of(page))
    return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist"))).text


def story_text(browser) -> str:
    return browser.find_element(By.ID, "order-story").text


def test_operator_walks_the_overview_an_orders_story_and_each_action(browser, live_server, venue, venue_account):
    factories.user_create(username="ops", superuser=True)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    resting = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                   price=Decimal("90000"), client_order_id="desk-order-1")
    wait_until(lambda: Order.objects.filter(pk=resting.pk, status=Status.NEW).exists(), what="NEW on the venue")
    wait = WebDriverWait(browser, 20)
    url = live_server.url

    # Log in; the home page leads to the overview first.
    browser.get(f"{url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys("ops")
    browser.find_element(By.NAME, "password").send_keys("pw-ops")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "overview-link"))).find_element(By.LINK_TEXT, "Overview").click()

    # The overview: the account's rows, the kill switch, every process (the test worker reports itself).
    wait.until(ec.presence_of_element_located((By.ID, "venues")))
    wait_until(lambda: "alive" in browser.find_element(By.CSS_SELECTOR, "tr[data-process=worker]").text
               or browser.refresh(), timeout=20, what="worker alive on the overview")
    spot = browser.find_element(By.CSS_SELECTOR, "tr.venue-row[data-account=main][data-market=spot]")
    assert spot.find_element(By.CSS_SELECTOR, "a.open-orders").text == "1"
    assert "up" in spot.text and "enabled" in spot.text
    assert browser.find_element(By.ID, "kill-switch-state").text.startswith("off")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH  # every column in view
    shot(browser, "admin-overview", "venues", "kill-switch", "processes")

    # The number links to the list behind it: that account's open orders, every column in view at 1400 px.
    spot.find_element(By.CSS_SELECTOR, "a.open-orders").click()
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#result_list tbody tr")))
    assert "0.01000" in row.text and "90,000.00" in row.text and "NEW" in row.text
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    assert browser.execute_script("const r = document.querySelector('#changelist .results');"
                                  "return r.scrollWidth <= r.clientWidth")  # no scroll inside the list either
    last = browser.find_element(By.CSS_SELECTOR, "#result_list th.column-pending_col")
    assert last.is_displayed() and last.rect["x"] + last.rect["width"] <= WIDTH
    shot(browser, "admin-order-list", "result_list", "changelist-filter", "csv-export")

    # An order whose placement the venue takes but never answers (and whose stream report is lost): its story says
    # what the OMS waits for.
    venue.control.set_faults(drop_response_count=1, drop_hold_ms=8000, endpoints=["POST /api/v3/order"],
                             user_event_drop_count=1)
    late = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.02"),
                                price=Decimal("89000"), client_order_id="desk-order-2")
    wait_until(lambda: Order.objects.filter(pk=late.pk, submitted_at__isnull=False).exists(), what="sent")
    browser.get(f"{url}/admin/orders/order/{late.pk}/change/")
    if Order.objects.get(pk=late.pk).status == Status.PENDING_NEW:  # the venue's late answer may already be in
        assert "Waiting for the venue's answer" in browser.find_element(By.ID, "waiting").text
        shot(browser, "admin-order-story-waiting", "waiting", "story-actions", "timeline")

    # Look it up on the venue now: a worker asks the venue, and the story shows the answer.
    message = click_and_read(browser, wait, browser.find_element(By.ID, "lookup-now"))
    assert f"A worker looks order {late.pk} up on the venue now" in message
    wait_until(lambda: "ACCEPTED" in story_text(browser) or browser.refresh(), timeout=30, what="ACCEPTED")
    wait_until(lambda: "GET order" in browser.find_element(By.ID, "venue-requests").text or browser.refresh(),
               timeout=20, what="the look-up among the venue requests")

    # Cancel, confirmed in the dialog: the worker cancels on the venue and the timeline shows it.
    assert f"Order {late.pk}: NEW → PENDING_CANCEL" in click_and_read(browser, wait,
                                                                       browser.find_element(By.ID, "cancel-order"))
    wait_until(lambda: "CANCELLED" in story_text(browser) or browser.refresh(), timeout=20, what="CANCELLED event")
    assert Order.objects.get(pk=late.pk).status == Status.CANCELLED
    timeline = browser.find_element(By.ID, "timeline").text
    assert "CANCEL_REQUESTED" in timeline and "admin" in timeline and "UTC" in timeline
    wait_until(lambda: "DELETE order" in browser.find_element(By.ID, "venue-requests").text or browser.refresh(),
               timeout=20, what="the cancel among the venue requests")  # the stream may report it first
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "admin-order-story", "order-story", "timeline", "venue-requests")

    # The kill switch, with a reason and a confirmation; recorded; then trading allowed again.
    browser.get(f"{url}/admin/overview/")
    browser.find_element(By.ID, "kill-switch-reason").send_keys("venue incident drill")
    browser.find_element(By.ID, "kill-switch-confirm").click()
    assert "Kill switch ON" in click_and_read(browser, wait, browser.find_element(By.ID, "kill-switch-submit"))
    assert browser.find_element(By.ID, "kill-switch-state").text.startswith("ON")
    assert TradingSwitch.current().kill_switch
    shot(browser, "admin-kill-switch-on", "kill-switch", "kill-switch-state")
    browser.find_element(By.ID, "kill-switch-confirm").click()
    assert "Kill switch OFF" in click_and_read(browser, wait, browser.find_element(By.ID, "kill-switch-submit"))
    assert not TradingSwitch.current().kill_switch
    assert list(ControlChange.objects.filter(what="kill_switch_set").order_by("at").values_list("after__kill_switch",
                                                                                                flat=True)) == [True, False]

    # An account's trading, off and on again from its row.
    for expected in (False, True):
        form = browser.find_element(By.CSS_SELECTOR, "tr.venue-row[data-account=main] form.account-trading-form")
        form.find_element(By.NAME, "confirm").click()
        message = click_and_read(browser, wait, form.find_element(By.CSS_SELECTOR, "input[type=submit]"))
        assert f"Main: trading {'enabled' if expected else 'disabled'}" in message  # the admin capitalises messages
        assert Account.objects.get(name="main").enabled is expected

    # Trading states: the account REDUCING from its row, the global state HALTED and back, each confirmed.
    form = browser.find_element(By.CSS_SELECTOR, "tr.venue-row[data-account=main] form.account-state-form")
    form.find_element(By.CSS_SELECTOR, "select[name=state] option[value=REDUCING]").click()
    form.find_element(By.NAME, "reason").send_keys("unwind drill")
    form.find_element(By.NAME, "confirm").click()
    assert "Trading state (main): REDUCING" in click_and_read(
        browser, wait, form.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert "REDUCING" in browser.find_element(By.CSS_SELECTOR, "tr.venue-row[data-account=main] .trading-state").text
    for state, reason in (("HALTED", "venue incident drill"), ("ACTIVE", "")):
        browser.find_element(By.CSS_SELECTOR, f"#trading-state-select option[value={state}]").click()
        browser.find_element(By.ID, "trading-state-reason").send_keys(reason)
        browser.find_element(By.ID, "trading-state-confirm").click()
        assert f"Trading state (global): {state}" in click_and_read(
            browser, wait, browser.find_element(By.ID, "trading-state-submit"))
        assert browser.find_element(By.ID, "trading-state-global").text == state
        if state == "HALTED":
            shot(browser, "admin-trading-states", "trading-state", "venues")
    assert list(ControlChange.objects.filter(what="trading_state_set").order_by("at").values_list(
        "account__name", "after__state")) == [("main", "REDUCING"), (None, "HALTED"), (None, "ACTIVE")]

    # The account's page: its positions beside the venue's, its holdings and its daily PnL, from the ledger's books.
    trading_state_set(account="main", state="ACTIVE")
    bought = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                  order_type="MARKET")
    wait_until(lambda: Order.objects.filter(pk=bought.pk, status=Status.FILLED).exists(), what="the BUY filled")
    browser.get(f"{url}/admin/accounts/account/{Account.objects.get(name='main').pk}/change/")
    browser.execute_script("arguments[0].scrollIntoView()", wait.until(
        ec.presence_of_element_located((By.ID, "account-positions"))))
    assert browser.find_element(By.CSS_SELECTOR, "tr.holding-row[data-asset=BTC]").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, "tr.day-row").text.split()[-1] == "1"  # today: one trade
    shot(browser, "admin-account-pnl", "account-positions", "account-holdings", "account-daily-pnl")
    assert venue.control.audit(client_order_id=late.pk)  # the venue saw the order and its cancel
