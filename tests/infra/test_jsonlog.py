"""Log lines are JSON objects and carry the order and account they are about."""
import json
import logging

from infra.jsonlog import JsonFormatter, bind, clear, log_context


def capture(logger_name="oms.test"):
    records = []

    class Handler(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Handler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, records, handler


def test_context_fields_and_extra_on_every_line():
    logger, lines, handler = capture()
    try:
        with log_context(order_id="o-1", account="main"):
            logger.info("submitted %s", "BTCUSDT", extra={"status": "NEW"})
        logger.info("outside")
    finally:
        logging.getLogger("oms.test").removeHandler(handler)
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "submitted BTCUSDT"
    assert (first["order_id"], first["account"], first["status"]) == ("o-1", "main", "NEW")
    assert first["ts"].endswith("Z") and first["level"] == "INFO"
    assert "order_id" not in second


def test_bind_until_clear_and_exceptions_are_serialised():
    logger, lines, handler = capture()
    try:
        bind(order_id="o-2", task="orders.tasks.order_submit")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
        clear()
        logger.info("after")
    finally:
        clear()
        logging.getLogger("oms.test").removeHandler(handler)
    failed, after = (json.loads(line) for line in lines)
    assert failed["order_id"] == "o-2" and "ValueError: boom" in failed["exc"]
    assert "order_id" not in after


def test_worker_lines_about_an_order_carry_its_id_and_account(venue, venue_account, caplog):
    """Every line a worker task logs while handling an order names the order and its account, even
    lines whose code did not pass them (the task binds them when it starts)."""
    from decimal import Decimal

    from orders import services
    from orders.models import Order
    from tests.waiting import wait_until

    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    for name in (None, "execution.venue_orders", "oms.orders"):  # whatever level earlier tests or the worker left
        caplog.set_level(logging.INFO, logger=name)
    handler = Collect(level=logging.INFO)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        venue.control.set_price("BTCUSDT", 100000, freeze=True)
        venue.control.set_faults(drop_response_count=1, endpoints=["POST /api/v3/order"])
        order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                     price=Decimal("99000"))
        wait_until(lambda: Order.objects.filter(pk=order.id, status="NEW").exists(), what="NEW after lookup")
        # the user-data stream may report NEW before the worker has logged the lost answer it is handling
        wait_until(lambda: any("venue error on submit" in line["msg"] for line in list(lines)),
                   what="the worker's line about the lost answer")
    finally:
        root.removeHandler(handler)
    submit_failed = [line for line in lines if "venue error on submit" in line["msg"]]
    assert submit_failed, [line["msg"] for line in lines]
    for line in submit_failed:
        assert (line["order_id"], line["account"], line["task"]) == (order.id, "main", "lane.submit")
    changes = [line for line in lines if line["logger"] == "oms.orders"]
    assert {line["status"] for line in changes} >= {"PENDING_NEW", "NEW"}
    assert all(line["order_id"] == order.id and line["account"] == "main" for line in changes)
