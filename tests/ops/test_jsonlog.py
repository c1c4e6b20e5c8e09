"""Log lines are JSON objects and carry the order and account they are about."""
import json
import logging

from oms_project.jsonlog import JsonFormatter, bind, clear, log_context


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
