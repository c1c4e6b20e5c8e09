"""A person in a real browser (headless Chromium): log in to the admin, find an order resting on the local
venue, cancel it through the action, and see the worker's CANCELLED event in its timeline. Leaves a
screenshot in test-artifacts/."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from orders import services
from orders.models import Order, Status
from tests import factories
from tests.waiting import wait_until

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian chromium + chromium-driver (make test installs them)")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--window-size=1400,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def working_order(venue, venue_account):
    """A limit buy resting on the local venue, acknowledged through the real worker."""
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("90000"), client_order_id="desk-order-1")
    return wait_until(lambda: Order.objects.filter(pk=order.pk, status=Status.NEW).first(), what="NEW on the venue")


def timeline(browser) -> str:
    return browser.find_element(By.ID, "events-group").text


def test_operator_cancels_an_order_in_the_admin(browser, live_server, venue, working_order):
    factories.user_create(username="ops", superuser=True)
    wait = WebDriverWait(browser, 20)

    browser.get(f"{live_server.url}/admin/login/?next=/admin/orders/order/")
    browser.find_element(By.NAME, "username").send_keys("ops")
    browser.find_element(By.NAME, "password").send_keys("pw-ops")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    search = wait.until(ec.presence_of_element_located((By.ID, "searchbar")))
    search.send_keys("desk-order-1")
    search.submit()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"input[value='{working_order.pk}']"))).click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("cancel_selected")
    browser.find_element(By.NAME, "index").click()

    message = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li"))).get_attribute("textContent")
    assert message == f"Order {working_order.pk}: NEW → PENDING_CANCEL"

    browser.find_element(By.LINK_TEXT, working_order.pk).click()
    assert "CANCEL_REQUESTED" in wait.until(ec.presence_of_element_located((By.ID, "events-group"))).text
    # The worker cancels on the venue; the operator reloads the page until the timeline shows it.
    wait_until(lambda: "CANCELLED" in timeline(browser) or browser.refresh(), timeout=20, what="CANCELLED event")
    assert Order.objects.get(pk=working_order.pk).status == "CANCELLED"
    assert venue.control.audit(client_order_id=working_order.pk)  # the venue saw the order (and its cancel)

    ARTIFACTS.mkdir(exist_ok=True)
    browser.find_element(By.ID, "events-group").location_once_scrolled_into_view  # noqa: B018 (scrolls)
    assert browser.save_screenshot(str(ARTIFACTS / "admin-order-cancel.png"))
