"""Late visibility (the `visibility_delay_ms` knob): Binance is asynchronous, so an order it has accepted can be
"not found" by a lookup for a moment after the answer (or after an answer that never arrived). With the knob set,
every order accepted from then on stays out of queries (order lookup, cancel, openOrders, allOrders, myTrades /
userTrades) for that long, capped at the placing request's recvWindow. It still rests, fills and sends its
user-data events meanwhile; the control API's records show it at once."""


class Visibility:
    def __init__(self) -> None:
        self.delay_ms = 0  # for the request being served (the knob capped at its recvWindow; set by the server)
        self.hidden_until: dict[tuple[str, str, int], int] = {}  # (market, symbol, order id) -> wire ms

    def accepted(self, order, now_ms: int) -> None:
        if self.delay_ms > 0:
            self.hidden_until[(order.market, order.symbol, order.order_id)] = now_ms + self.delay_ms

    def visible(self, order, now_ms: int) -> bool:
        if not self.hidden_until:
            return True
        key = (order.market, order.symbol, order.order_id)
        until = self.hidden_until.get(key)
        if until is None:
            return True
        if now_ms >= until:
            del self.hidden_until[key]
            return True
        return False

    def hidden_ids(self, market: str, symbol: str, now_ms: int) -> set[int]:
        if not self.hidden_until:
            return set()
        for key in [k for k, until in self.hidden_until.items() if now_ms >= until]:
            del self.hidden_until[key]
        return {oid for (m, s, oid) in self.hidden_until if (m, s) == (market, symbol)}
