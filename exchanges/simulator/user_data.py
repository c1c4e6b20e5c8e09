"""User-data streams as Binance runs them. Spot: websocket API sessions (`/ws-api/v3`) holding
subscriptions (`userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, `session.subscriptions`).
USD-M: listenKeys (POST creates or returns the open one, PUT keeps it alive, DELETE closes it; one not kept
alive for `listen_key_ttl_s` of venue time expires with `listenKeyExpired`) and sockets on them. Every
user-data connection is closed after `user_stream_max_age_s`. Events pass through the fault knobs here."""
import asyncio
import secrets
from dataclasses import dataclass
from decimal import Decimal

from . import matching, user_events
from .engine import Order, Trade, Venue
from .faults import FaultPlan
from .instruments import FUTURES, INSTRUMENTS, SPOT
from .refusals import VenueError
from .wsconn import Connection

REORDER_HOLD_S = 1.0  # a reordered event with no successor is sent after this long
NO_LISTEN_KEY = (-1125, "This listenKey does not exist.")


@dataclass(eq=False)
class Subscription:
    conn: Connection
    market: str
    api_key: str
    subscription_id: int | None = None  # spot (websocket API); USD-M listenKey sockets have none
    listen_key: str | None = None


@dataclass
class ListenKey:
    api_key: str
    touched_ms: int  # created or last kept alive (venue time)


class UserStreams:
    def __init__(self, venue: Venue, faults: FaultPlan):
        self.venue, self.faults = venue, faults
        self.subs: list[Subscription] = []
        self.sessions: set[Connection] = set()  # every user-data connection (websocket API or listenKey socket)
        self.listen_keys: dict[str, ListenKey] = {}
        self.touched: dict[tuple[str, str], set[str]] = {}  # (market, key) -> spot assets / futures symbols
        self.flush_scheduled = False
        venue.listeners.append(self.order_event)
        venue.fund_listeners.append(self.fund_event)

    # ---- listenKeys (USD-M) ----
    def _open_key(self, api_key: str) -> str | None:
        return next((k for k, lk in self.listen_keys.items() if lk.api_key == api_key and not self._expired(lk)), None)

    def _expired(self, lk: ListenKey) -> bool:
        return self.venue.now() - lk.touched_ms > self.faults.knobs.listen_key_ttl_s * 1000

    def new_listen_key(self, api_key: str) -> str:
        """Binance hands back the key's open listenKey (and extends it) rather than a second one."""
        key = self._open_key(api_key)
        if key is None:
            key = secrets.token_urlsafe(48)
        self.listen_keys[key] = ListenKey(api_key, self.venue.now())
        return key

    def keep_alive(self, api_key: str) -> str:
        key = self._open_key(api_key)
        if key is None:
            raise VenueError(*NO_LISTEN_KEY)
        self.listen_keys[key].touched_ms = self.venue.now()
        return key

    def close_listen_key(self, api_key: str) -> None:
        for key in [k for k, lk in self.listen_keys.items() if lk.api_key == api_key]:
            del self.listen_keys[key]
            for sub in self._subs(listen_key=key):
                sub.conn.close_after_sent()

    def listen_key_owner(self, key: str) -> str | None:
        lk = self.listen_keys.get(key)
        return None if lk is None or self._expired(lk) else lk.api_key

    def expire(self, key: str) -> None:
        """The listenKey is gone: its sockets get `listenKeyExpired`, then the venue closes them."""
        self.listen_keys.pop(key, None)
        for sub in self._subs(listen_key=key):
            sub.conn.push(user_events.listen_key_expired(key, self.venue.now()))
            sub.conn.close_after_sent()

    # ---- connections and subscriptions ----
    def open_listen_key_socket(self, conn: Connection, key: str, api_key: str) -> None:
        self.sessions.add(conn)
        self.subs.append(Subscription(conn, FUTURES, api_key, listen_key=key))

    def subscribe(self, conn: Connection, api_key: str) -> int:
        self.sessions.add(conn)
        sub = Subscription(conn, SPOT, api_key, subscription_id=conn.next_subscription_id)
        conn.next_subscription_id += 1
        self.subs.append(sub)
        return sub.subscription_id

    def unsubscribe(self, conn: Connection, subscription_id: int | None) -> None:
        """Without an id every subscription of the session ends; each ending sends `eventStreamTerminated`."""
        for sub in self._subs(conn=conn):
            if subscription_id is None or sub.subscription_id == subscription_id:
                self.subs.remove(sub)
                conn.push({"subscriptionId": sub.subscription_id,
                           "event": user_events.event_stream_terminated(self.venue.now())})

    def subscription_ids(self, conn: Connection) -> list[int]:
        return [s.subscription_id for s in self._subs(conn=conn)]

    def closed(self, conn: Connection) -> None:
        self.sessions.discard(conn)
        self.subs = [s for s in self.subs if s.conn is not conn]

    def _subs(self, conn: Connection | None = None, listen_key: str | None = None, market: str | None = None,
              api_key: str | None = None) -> list[Subscription]:
        return [s for s in self.subs if (conn is None or s.conn is conn) and (listen_key is None or s.listen_key == listen_key)
                and (market is None or s.market == market) and (api_key is None or s.api_key == api_key)]

    def _targeted(self, market: str, api_key: str) -> bool:
        k = self.faults.knobs
        return (not k.user_stream_keys or api_key in k.user_stream_keys) and \
            (not k.user_stream_markets or market in k.user_stream_markets)

    def describe(self) -> dict:
        now = self.venue.now()
        return {
            "listen_keys": [{"listen_key": key, "api_key": lk.api_key, "age_ms": now - lk.touched_ms,
                             "expired": self._expired(lk)} for key, lk in self.listen_keys.items()],
            "connections": [{"market": s.market, "api_key": s.api_key, "subscription_id": s.subscription_id,
                             "listen_key": s.listen_key, "age_ms": now - s.conn.opened_ms} for s in self.subs],
        }

    # ---- the venue's events ----
    def order_event(self, order: Order, exec_type: str, trade: Trade | None) -> None:
        if not self._subs(market=order.market, api_key=order.api_key):
            return
        now = self.venue.now()
        if order.market == SPOT:
            prevented = matching.prevented_for(self.venue, order)[-1:] if exec_type == "TRADE_PREVENTION" else []
            event = user_events.execution_report(order, exec_type, trade, now, prevented[0] if prevented else None)
            instrument = INSTRUMENTS[SPOT][order.symbol]
            self._touch(SPOT, order.api_key, {instrument.base, instrument.quote})  # locks, releases and fills
        else:
            event = user_events.order_trade_update(order, exec_type, trade, now)
            if trade is not None:  # Binance: orders that do not fill change no balance or position
                self._touch(FUTURES, order.api_key, {order.symbol})
        self.publish(order.market, order.api_key, event)

    def fund_event(self, market: str, api_key: str, asset: str, amount: Decimal, reason: str) -> None:
        if not self._subs(market=market, api_key=api_key):
            return
        now = self.venue.now()
        if market == SPOT:
            self.publish(SPOT, api_key, user_events.balance_update(asset, amount, now))
            self._touch(SPOT, api_key, {asset})
        else:
            self.publish(FUTURES, api_key, user_events.account_update(
                self.venue, self.venue.accounts[api_key], reason, set(), now, {asset: amount}))

    def _touch(self, market: str, api_key: str, items: set[str]) -> None:
        """Account events follow the order events of the same step, one per key and step (what the step
        changed), so the balances sent are the ones after the whole step."""
        self.touched.setdefault((market, api_key), set()).update(items)
        if self.flush_scheduled:
            return
        try:
            asyncio.get_running_loop().call_soon(self.flush_accounts)
            self.flush_scheduled = True
        except RuntimeError:  # no loop (the engine driven directly): send now
            self.flush_accounts()

    def flush_accounts(self) -> None:
        self.flush_scheduled = False
        touched, self.touched = self.touched, {}
        now = self.venue.now()
        for (market, api_key), items in touched.items():
            account = self.venue.accounts.get(api_key)
            if account is None:
                continue
            if market == SPOT:
                self.publish(SPOT, api_key, user_events.outbound_account_position(account, items, now))
            else:
                self.publish(FUTURES, api_key, user_events.account_update(self.venue, account, "ORDER", items, now))

    def publish(self, market: str, api_key: str, event: dict) -> None:
        for sub in self._subs(market=market, api_key=api_key):
            payload = event if sub.subscription_id is None else {"subscriptionId": sub.subscription_id, "event": event}
            self.deliver(sub, payload)

    def deliver(self, sub: Subscription, payload: dict) -> None:
        """One event to one connection, through the drop / duplicate / reorder / delay knobs."""
        conn, faults, knobs = sub.conn, self.faults, self.faults.knobs
        if not self._targeted(sub.market, sub.api_key):
            conn.push(payload)
            return
        if faults.take("user_event_drop_count", "user_event_drop_rate"):
            faults.count("user_event_drop")
            return
        delay_s = knobs.user_event_delay_ms / 1000
        if delay_s > 0:
            faults.count("user_event_delay")
        if conn.held is None and faults.take("user_event_reorder_count", "user_event_reorder_rate"):
            faults.count("user_event_reorder")
            conn.held = (payload, delay_s, asyncio.get_running_loop().time())
            return
        copies = 2 if faults.take("user_event_duplicate_count", "user_event_duplicate_rate") else 1
        if copies == 2:
            faults.count("user_event_duplicate")
        for _ in range(copies):
            conn.push(payload, delay_s)
        if conn.held is not None:  # the event held back leaves right after the one that overtook it
            held, conn.held = conn.held, None
            conn.push(held[0], held[1])

    # ---- time passing (every venue tick) and the connection faults ----
    def housekeeping(self) -> None:
        knobs, now = self.faults.knobs, self.venue.now()
        for key, lk in list(self.listen_keys.items()):
            if self._expired(lk):
                self.expire(key)
        for conn in list(self.sessions):
            if now - conn.opened_ms > knobs.user_stream_max_age_s * 1000:
                conn.close_after_sent()
        loop_now = asyncio.get_running_loop().time()
        for conn in self.sessions:
            if conn.held is not None and loop_now - conn.held[2] > REORDER_HOLD_S:
                held, conn.held = conn.held, None
                conn.push(held[0], held[1])
        self.apply_connection_faults()

    def apply_connection_faults(self) -> None:
        """`user_stream_close_count` / `listen_key_expire_count`: act now on what matches; the rest of the
        count waits for the next matching connection or listenKey."""
        knobs = self.faults.knobs
        while knobs.listen_key_expire_count > 0:
            key = next((k for k, lk in self.listen_keys.items() if self._targeted(FUTURES, lk.api_key)), None)
            if key is None:
                break
            knobs.listen_key_expire_count -= 1
            self.faults.count("listen_key_expire")
            self.expire(key)
        while knobs.user_stream_close_count > 0:
            conn = next((s.conn for s in self.subs if not s.conn.closing and self._targeted(s.market, s.api_key)), None)
            if conn is None:
                break
            knobs.user_stream_close_count -= 1
            self.faults.count("user_stream_close")
            conn.close_now()
