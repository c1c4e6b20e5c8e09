"""A person in a real browser (headless Chromium): log in to the admin, find an order, cancel it through
the action, and see the cancellation in its timeline. Leaves a screenshot in test-artifacts/."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from oms_project.celery import app as celery_app
from orders.models import Order
from tests import factories
from tests.api.conftest import order_acked

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
def working_order(transactional_db):
    factories.instrument_create()
    order = order_acked(factories.account_create(name="main"), client_order_id="desk-order-1")
    yield order
    with celery_app.connection_for_write() as connection:  # the cancel was queued for a worker not running here
        connection.default_channel.queue_purge("orders")


def test_operator_cancels_an_order_in_the_admin(browser, live_server, working_order):
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
    timeline = wait.until(ec.presence_of_element_located((By.ID, "events-group"))).text
    assert "CANCEL_REQUESTED" in timeline and "PENDING_CANCEL" in timeline
    assert Order.objects.get(pk=working_order.pk).status == "PENDING_CANCEL"

    ARTIFACTS.mkdir(exist_ok=True)
    browser.find_element(By.ID, "events-group").location_once_scrolled_into_view  # noqa: B018 (scrolls)
    assert browser.save_screenshot(str(ARTIFACTS / "admin-order-cancel.png"))
