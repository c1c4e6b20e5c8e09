"""User-data stream and sync figures for /metrics, read from Redis on scrape (any process can serve them)."""
from __future__ import annotations

import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class UserStreamCollector(Collector):
    """Per account and market: stream connected (live), age of its last event, reconnects, catch-up sweeps,
    request weight spent on background sync."""

    def collect(self):
        from django.db import DatabaseError

        from accounts.models import Account
        from exchanges import stream_state
        from execution.user_streams import stream_targets

        labels = ["account", "market"]
        live = GaugeMetricFamily("oms_user_stream_live", "1 while the user-data stream is connected and caught up", labels=labels)
        age = GaugeMetricFamily("oms_user_stream_last_event_age_seconds", "Seconds since the stream's last event",
                                labels=labels)
        reconnects = CounterMetricFamily("oms_user_stream_reconnects", "User-data stream reconnections", labels=labels)
        catch_ups = CounterMetricFamily("oms_user_stream_catch_ups", "Catch-up sweeps run on (re)connect", labels=labels)
        weight = CounterMetricFamily("oms_sync_weight", "Request weight spent on background sync", labels=labels)
        try:
            names = dict(Account.objects.values_list("pk", "name"))
            targets = stream_targets()
        except DatabaseError:
            return
        now = time.time()
        for account_id, market in targets:
            figures = stream_state.snapshot(account_id, market)
            key = [names.get(account_id, str(account_id)), market]
            live.add_metric(key, 1 if figures["live"] else 0)
            if figures["last_event"] is not None:
                age.add_metric(key, max(0.0, now - figures["last_event"]))
            reconnects.add_metric(key, figures["reconnects"])
            catch_ups.add_metric(key, figures["catch_ups"])
            weight.add_metric(key, figures["sync_weight"])
        yield from (live, age, reconnects, catch_ups, weight)
