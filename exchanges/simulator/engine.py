"""The venue's state and matching: orders against the synthetic books, fills with fees, spot balances,
futures margin and one-way positions. All calls run on the server's event loop, one at a time."""
import random
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import funding, history, income, matching, price_bands, refusals
from .book import Book, level_take, round_to
from .fees import DEFAULT_FEES, FeeSchedule
from .instruments import FUTURES, INSTRUMENTS, MARKETS, SPOT, Instrument, brackets_for, maint_margin, max_leverage
from .refusals import VenueError
from .tape import PublicTrade, Tape
from .venue_clock import VenueClock
from .visibility import Visibility
from .wallets import DEMO_KEY, DEMO_SECRET, ZERO, Account

FEES = DEFAULT_FEES  # (maker, taker) per market; per key through `Venue.fees`
CLIENT_ID_RE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
FEE_UNIT = Decimal("0.00000001")
OPEN = ("NEW", "PARTIALLY_FILLED")
# Spot conditional types: each waits for the last price to reach its stopPrice, then works as MARKET or LIMIT
STOP_TYPES = {"STOP_LOSS": "MARKET", "TAKE_PROFIT": "MARKET", "STOP_LOSS_LIMIT": "LIMIT", "TAKE_PROFIT_LIMIT": "LIMIT"}
LIMIT_TYPES = ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")  # the types that take price and timeInForce
MAX_OPEN_ORDERS = 200  # MAX_NUM_ORDERS, per key and symbol (published in exchangeInfo)
DAY_MS = 86_400_000
MICROSECONDS_FROM = 10**15  # a spot timestamp this large is in microseconds (16 digits)


# Each order is one object for its life: compare by identity, so removing one from a long resting list is cheap.
@dataclass(slots=True, eq=False)
class Order:
    market: str
    symbol: str
    order_id: int
    client_order_id: str
    api_key: str
    side: str
    type: str
    tif: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time: int
    update_time: int
    reduce_only: bool = False
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    locked: Decimal = ZERO  # spot: funds still held for the unfilled part
    stp_mode: str = matching.DEFAULT_STP  # selfTradePreventionMode (see matching)
    prevented_match_id: int | None = None  # set once the order expired in a prevented self-trade
    prevented_qty: Decimal = ZERO
    stop_price: Decimal = ZERO  # conditional types only
    armed: bool = False  # a conditional order still waiting for its trigger (listed open, not on the book)
    working_time: int = 0  # when it went on the book: its trigger time for a conditional order, else `time`

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def state(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in
                ((s, getattr(self, s)) for s in self.__slots__)}


@dataclass(slots=True)
class Trade:
    market: str
    symbol: str
    trade_id: int
    order_id: int
    api_key: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_maker: bool
    realized_pnl: Decimal = ZERO

    def state(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in
                ((s, getattr(self, s)) for s in self.__slots__)}


DECIMAL_FIELDS = {"price", "orig_qty", "orig_quote_qty", "executed_qty", "cum_quote", "locked", "qty",
                  "commission", "realized_pnl", "prevented_qty", "stop_price"}


def _from_state(cls, s: dict):
    return cls(**{k: (Decimal(v) if k in DECIMAL_FIELDS else v) for k, v in s.items()})


def stop_reached(side: str, otype: str, stop: Decimal, last: Decimal) -> bool:
    """Binance's trigger rule on the last price: a stop-loss buys on a rise (sells on a fall) through its stop,
    a take-profit buys on a fall (sells on a rise)."""
    rising = (side == "BUY") == otype.startswith("STOP_LOSS")
    return last >= stop if rising else last <= stop


def now_ms() -> int:
    return int(time.time() * 1000)


class Venue:
    def __init__(self, seed: int = 1, keys: dict[str, str] | None = None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.skew_ms = 0
        self.clock = VenueClock()
        self.visibility = Visibility()
        self.max_open_orders = MAX_OPEN_ORDERS  # MAX_NUM_ORDERS in force (published; lowered by tests)
        t = self.now()
        self.books = {(m, s): Book(i, random.Random(f"{seed}:{m}:{s}"), t)
                      for m in MARKETS for s, i in INSTRUMENTS[m].items()}
        self.default_key = not keys
        self.accounts: dict[str, Account] = {}
        for key, secret in (keys or {DEMO_KEY: DEMO_SECRET}).items():
            self.add_key(key, secret)
        self.orders: dict[tuple[str, str, int], Order] = {}  # (market, symbol, order id)
        self.account_orders: dict[tuple[str, str, str], list[Order]] = {}  # (market, key, symbol), oldest first
        self.resting: dict[tuple[str, str], list[Order]] = {}  # (market, symbol) -> open orders
        self.stops: dict[tuple[str, str], list[Order]] = {}  # (market, symbol) -> armed conditional orders
        self.client_ids: dict[tuple[str, str, str, str], Order] = {}  # (market, key, symbol, client id) -> latest
        self.open_by_account: dict[tuple[str, str], dict[tuple[str, int], Order]] = {}  # (market, key) -> open orders
        self.trades: dict[tuple[str, str, str], list[Trade]] = {}
        self.next_order_id = {(m, s): 1_000_000 + self.rng.randrange(1_000_000) for m, s in self.books}
        self.next_trade_id = {(m, s): 50_000_000 + self.rng.randrange(1_000_000) for m, s in self.books}
        self.listeners: list = []  # called with (order, exec type, trade or None) on every order event
        self.fund_listeners: list = []  # called with (market, api key, asset, amount, reason) on every funding
        self.tape = Tape()  # every trade on the venue, public view (tape.py)
        self.next_prevented_id: dict[tuple[str, str], int] = {}  # (market, symbol) -> next preventedMatchId
        self.prevented: dict[tuple[str, str], list[matching.PreventedMatch]] = {}
        self.taker_flow = matching.TakerFlow(seed=seed)  # random synthetic takers, off until configured
        self.income: dict[str, list[dict]] = {}  # api key -> USD-M income rows, oldest first (income.py)
        self.next_tran_id = 4_000_000_000 + random.Random(f"{seed}:tran").randrange(1_000_000)
        self.funding_due = funding.next_funding_time(self.venue_now())
        self.fees = FeeSchedule()
        self.market_data = None  # aggregate trades, candles and their streams (public_data.MarketData), set by the server
        self.dirty = False

    def emit(self, order: Order, exec_type: str, trade: "Trade | None" = None) -> None:
        for listener in self.listeners:
            listener(order, exec_type, trade)

    # ---- clock, keys, prices -------------------------------------------------------------------
    def now(self) -> int:
        """The wire clock: wall time plus the `clock_skew_ms` fault; stamps answers, orders and trades."""
        return now_ms() + self.skew_ms

    def venue_now(self) -> int:
        """Venue time (ms), which ages history and schedules funding: runs `clock_speed` times as fast as the
        wire clock and can be advanced (see venue_clock)."""
        return self.clock.now_ms()

    def venue_age_ms(self, wire_ms: int) -> int:
        """How much venue time has passed since the wire timestamp `wire_ms` (an order's or trade's time)."""
        return self.clock.now_ms() - self.clock.at(wire_ms - self.skew_ms)

    def add_key(self, api_key: str, secret: str) -> Account:
        account = self.accounts.get(api_key)
        if account is None:
            account = self.accounts[api_key] = Account.funded(api_key, secret, self.now())
        account.secret = secret
        return account

    def fund(self, api_key: str, market: str, asset: str, amount: Decimal, reason: str | None = None) -> None:
        """A deposit (or, negative, a withdrawal); futures may name another wallet reason (e.g. FUNDING_FEE)."""
        account = self.accounts[api_key]
        if market == SPOT:
            row = account.spot_row(asset)
            if row[0] + amount < 0:
                raise ValueError("funding would make the free balance negative")
            row[0] += amount
        else:
            if account.wallet.get(asset, ZERO) + amount < 0:
                raise ValueError("funding would make the wallet balance negative")
            account.wallet[asset] = account.wallet.get(asset, ZERO) + amount
            if reason in (None, "DEPOSIT", "WITHDRAW"):
                income.record(self, api_key, "TRANSFER", amount, asset)
        account.update_time = self.now()
        self.dirty = True
        for listener in self.fund_listeners:
            listener(market, api_key, asset, amount, reason or ("DEPOSIT" if amount >= 0 else "WITHDRAW"))

    def book(self, market: str, symbol: str) -> Book:
        book = self.books.get((market, symbol))
        if book is None:
            raise refusals.bad_symbol()
        return book

    def instrument(self, market: str, symbol: str | None) -> Instrument:
        if not symbol:
            raise refusals.mandatory("symbol")
        instrument = INSTRUMENTS[market].get(symbol)
        if instrument is None:
            raise refusals.bad_symbol()
        return instrument

    def tick(self) -> None:
        t = self.now()
        for (market, symbol), book in self.books.items():
            book.step(t)
            self.trigger_stops(market, symbol, t)
            self.match_resting(market, symbol, t)
        self.taker_flow.step(self, t)
        self.liquidate()
        funding.settle_due(self)

    def set_price(self, market: str, symbol: str, price: Decimal, freeze: bool | None = None) -> None:
        book = self.book(market, symbol)
        if freeze is not None:
            book.frozen = freeze
        book.set_mid(price, self.now())
        self.trigger_stops(market, symbol, self.now())
        self.match_resting(market, symbol, self.now())
        if market == FUTURES:
            self.liquidate()
        self.dirty = True

    def liquidate(self) -> None:
        """Cross margin: once margin balance falls to the maintenance margin, open orders are cancelled and every
        position is closed at the mark price by an `autoclose-` market order (a wallet cannot go below zero)."""
        for account in self.accounts.values():
            if not any(p.amt for p in account.positions.values()):
                continue
            totals = self.futures_totals(account)
            if totals["margin_balance"] > totals["maint"]:
                continue
            for order in self.open_orders(FUTURES, account, None):
                self._close(order, account, "CANCELED")
            for symbol, pos in account.positions.items():
                if not pos.amt:
                    continue
                side = "SELL" if pos.amt > 0 else "BUY"
                order = self._new_order(FUTURES, INSTRUMENTS[FUTURES][symbol], account, f"autoclose-{self.now()}", side,
                                        "MARKET", "IOC", ZERO, abs(pos.amt), ZERO, reduce_only=True)
                self._fill(order, account, self.books[(FUTURES, symbol)].mid, abs(pos.amt), is_maker=False)
            account.wallet["USDT"] = max(ZERO, account.wallet.get("USDT", ZERO))

    # ---- parameters ----------------------------------------------------------------------------
    @staticmethod
    def decimal(params: dict, name: str, required: bool = False) -> Decimal | None:
        raw = params.get(name)
        if raw is None or raw == "":
            if required:
                raise refusals.mandatory(name)
            return None
        if not DECIMAL_RE.match(raw):
            raise refusals.illegal_chars(name, r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise refusals.illegal_chars(name, r"^([0-9]{1,20})(\.[0-9]{1,20})?$") from None

    @staticmethod
    def integer(params: dict, name: str, required: bool = False) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            if required:
                raise refusals.mandatory(name)
            return None
        if not re.fullmatch(r"-?[0-9]{1,19}", raw):
            raise refusals.illegal_chars(name, "^-?[0-9]{1,19}$")
        return int(raw)

    def time_param(self, market: str, params: dict, name: str) -> int | None:
        """A time parameter in ms; spot also takes microseconds (16 digits), as Binance's spot API does."""
        value = self.integer(params, name)
        if value is not None and market == SPOT and value >= MICROSECONDS_FROM:
            return value // 1000
        return value

    @staticmethod
    def boolean(params: dict, name: str) -> bool:
        raw = params.get(name, "false").lower()
        if raw not in ("true", "false"):
            raise refusals.illegal_chars(name, "true|false")
        return raw == "true"

    def client_order_id(self, params: dict, market: str, account: Account, symbol: str) -> str:
        cid = params.get("newClientOrderId")
        if not cid:
            return ("x-" if market == SPOT else "web_") + secrets.token_hex(10)  # not seeded: unique across restarts
        if not CLIENT_ID_RE.match(cid):
            raise refusals.illegal_chars("newClientOrderId", r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
        existing = self.client_ids.get((market, account.api_key, symbol, cid))
        if existing is not None and existing.is_open:
            if market == SPOT:
                raise VenueError(-2010, "Duplicate order sent.")
            raise VenueError(-4116, "ClientOrderId is duplicated.")
        return cid

    # ---- order placement -----------------------------------------------------------------------
    def _new_order(self, market: str, instrument: Instrument, account: Account, cid: str, side: str, otype: str,
                   tif: str, price: Decimal, qty: Decimal, quote_qty: Decimal, reduce_only: bool = False,
                   stp_mode: str = matching.DEFAULT_STP, stop_price: Decimal = ZERO) -> Order:
        key = (market, instrument.symbol)
        self.next_order_id[key] += 1
        t = self.now()
        order = Order(market, instrument.symbol, self.next_order_id[key], cid, account.api_key, side, otype, tif,
                      price, qty, quote_qty, t, t, reduce_only, stp_mode=stp_mode, stop_price=stop_price,
                      armed=otype in STOP_TYPES, working_time=t)
        self.orders[(market, instrument.symbol, order.order_id)] = order
        self.account_orders.setdefault((market, account.api_key, instrument.symbol), []).append(order)
        self.client_ids[(market, account.api_key, instrument.symbol, cid)] = order
        self.open_by_account.setdefault((market, account.api_key), {})[(order.symbol, order.order_id)] = order
        self.dirty = True
        self.emit(order, "NEW")
        return order

    @staticmethod
    def _sweep(book: Book, side: str, qty: Decimal | None, limit: Decimal | None, quote: Decimal | None,
               step: Decimal) -> list[tuple[Decimal, Decimal]]:
        """The (price, qty) a taker would get from the displayed levels, best first."""
        levels = book.asks if side == "BUY" else book.bids
        fills, left_qty, left_quote = [], qty, quote
        for price, available in levels:
            if limit is not None and (price > limit if side == "BUY" else price < limit):
                break
            take = level_take(price, available, left_qty, left_quote, step)
            if take <= 0:
                break
            fills.append((price, take))
            if left_qty is not None:
                left_qty -= take
                if left_qty <= 0:
                    break
            if left_quote is not None:
                left_quote -= take * price
        return fills

    @staticmethod
    def _consume(book: Book, side: str, fills: list[tuple[Decimal, Decimal]]) -> None:
        levels = book.asks if side == "BUY" else book.bids
        for price, qty in fills:
            for n, (lp, lq) in enumerate(levels):
                if lp == price:
                    levels[n] = (lp, lq - qty)
                    break
        levels[:] = [lv for lv in levels if lv[1] > 0]
        if not levels:  # the whole side was taken: fresh depth arrives around the same mid
            book.redraw()

    def _check_filters(self, market: str, instrument: Instrument, otype: str, qty: Decimal | None,
                       price: Decimal | None) -> None:
        if market == SPOT:
            for name, value in (("quantity", qty), ("price", price)):
                if value is not None and value.as_tuple().exponent < -8:
                    raise VenueError(-1111, f"Parameter '{name}' has too much precision.")
            if price is not None and (price < instrument.tick or price % instrument.tick):
                raise refusals.filter_failure("PRICE_FILTER")
            if qty is not None:
                max_qty = instrument.market_max_qty if otype == "MARKET" else instrument.max_qty
                if qty < instrument.min_qty or qty > max_qty or qty % instrument.step:
                    raise refusals.filter_failure("MARKET_LOT_SIZE" if otype == "MARKET" and qty > max_qty else "LOT_SIZE")
            return
        if qty is not None and qty <= 0:
            raise VenueError(-4003, "Quantity less than or equal to zero.")
        if qty is not None and qty % instrument.step:
            raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
        if price is not None and price % instrument.tick:
            raise VenueError(-4014, "Price not increased by tick size.")
        if price is not None and price < instrument.tick:
            raise VenueError(-4013, "Price less than min price.")
        if qty is not None and qty < instrument.min_qty:
            raise VenueError(-4004, "Quantity less than min quantity.")
        max_qty = instrument.market_max_qty if otype == "MARKET" else instrument.max_qty
        if qty is not None and qty > max_qty:
            raise VenueError(-4005, "Quantity greater than max quantity.")

    def _open_order_limit(self, market: str, account: Account, symbol: str) -> None:
        """MAX_NUM_ORDERS: at most `max_open_orders` (200) open orders per key and symbol (spot -2010 filter failure,
        USD-M -2025)."""
        opened = sum(1 for s, _ in self.open_by_account.get((market, account.api_key), {}) if s == symbol)
        if opened >= self.max_open_orders:
            if market == SPOT:
                raise VenueError(-2010, "Filter failure: MAX_NUM_ORDERS")
            raise VenueError(-2025, "Reach max open order limit.")

    def _order_basics(self, market: str, params: dict) -> tuple[Instrument, str, str, str]:
        instrument = self.instrument(market, params.get("symbol"))
        side = refusals.side_of(params)
        otype = params.get("type")
        if not otype:
            raise refusals.mandatory("type")
        allowed = ("LIMIT", "MARKET", "LIMIT_MAKER", *STOP_TYPES) if market == SPOT else ("LIMIT", "MARKET")
        if otype not in allowed:
            raise VenueError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce", "")
        if otype in LIMIT_TYPES:
            if not tif:
                raise refusals.mandatory("timeInForce")
            if tif not in (("GTC", "IOC", "FOK") if market == SPOT else ("GTC", "IOC", "FOK", "GTX")):
                raise VenueError(-1115, "Invalid timeInForce.")
        elif tif and otype in ("MARKET", "STOP_LOSS", "TAKE_PROFIT"):
            raise VenueError(-1106, "Parameter 'timeInForce' sent when not required.")
        return instrument, side, otype, tif

    def place_spot(self, account: Account, params: dict) -> tuple[Order, list[Trade]]:
        instrument, side, otype, tif = self._order_basics(SPOT, params)
        book = self.book(SPOT, instrument.symbol)
        qty = self.decimal(params, "quantity")
        quote_qty = self.decimal(params, "quoteOrderQty")
        price = self.decimal(params, "price")
        stop = self.decimal(params, "stopPrice", required=otype in STOP_TYPES)
        if otype in STOP_TYPES:
            return self._place_spot_stop(account, instrument, side, otype, tif, qty, quote_qty, price, stop, params)
        if stop is not None:
            raise VenueError(-1106, "Parameter 'stopPrice' sent when not required.")
        if otype == "MARKET":
            if qty is None and quote_qty is None:
                raise VenueError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            if qty is not None and quote_qty is not None:
                raise VenueError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            if price is not None:
                raise VenueError(-1106, "Parameter 'price' sent when not required.")
        else:
            if qty is None:
                raise refusals.mandatory("quantity")
            if price is None:
                raise refusals.mandatory("price")
            if quote_qty is not None:
                raise VenueError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        self._check_filters(SPOT, instrument, otype, qty, price)
        stp = matching.stp_mode(SPOT, params)
        cid = self.client_order_id(params, SPOT, account, instrument.symbol)
        limit = price if otype != "MARKET" else None
        plan = matching.plan(self, SPOT, instrument, account.api_key, side, qty, limit, quote_qty, stp)
        fills = plan.fills
        filled = sum((q for _, q in fills), ZERO)
        notional = (qty * price) if price is not None else (quote_qty if quote_qty is not None else sum((p * q for p, q in fills), ZERO))
        if otype == "MARKET" and qty is not None and not fills:
            notional = qty * (book.best_ask[0] if side == "BUY" else book.best_bid[0])
        if notional < instrument.min_notional or (otype != "MARKET" and notional > instrument.max_notional):
            raise refusals.filter_failure("NOTIONAL")
        if price is not None:
            price_bands.check_spot(side, price, book.mid)
        self._open_order_limit(SPOT, account, instrument.symbol)
        if otype == "LIMIT_MAKER" and plan.crosses:
            raise VenueError(-2010, "Order would immediately match and take.")
        base, quote = account.spot_row(instrument.base), account.spot_row(instrument.quote)
        if side == "BUY":
            need = qty * price if otype != "MARKET" else (quote_qty if quote_qty is not None else sum((p * q for p, q in fills), ZERO))
            if need > quote[0]:
                raise refusals.insufficient_balance()
        else:
            need = qty if qty is not None else filled
            if need > base[0]:
                raise refusals.insufficient_balance()
        if tif == "FOK" and filled < qty:
            plan = matching.Plan()  # nothing trades, nothing is prevented: the order expires whole
        if otype == "MARKET" and quote_qty is not None:
            qty = filled
        order = self._new_order(SPOT, instrument, account, cid, side, otype, tif or ("GTC" if otype != "MARKET" else "GTC"),
                                price or ZERO, qty, quote_qty or ZERO, stp_mode=stp)
        self.visibility.accepted(order, self.now())
        if otype != "MARKET":  # limit orders hold their funds until filled or cancelled
            order.locked = need
            (quote if side == "BUY" else base)[0] -= need
            (quote if side == "BUY" else base)[1] += need
        trades = matching.execute(self, order, plan)
        if order.is_open and (otype == "MARKET" or tif in ("IOC", "FOK")):
            self._close(order, account, "EXPIRED")
        elif order.is_open:
            self.resting.setdefault((SPOT, instrument.symbol), []).append(order)
        return order, trades

    def _place_spot_stop(self, account: Account, instrument: Instrument, side: str, otype: str, tif: str,
                         qty: Decimal | None, quote_qty: Decimal | None, price: Decimal | None, stop: Decimal,
                         params: dict) -> tuple[Order, list[Trade]]:
        """A conditional order is accepted armed: listed open (NEW, not working), funds held, nothing traded until
        the last price reaches its stop (`trigger_stops`)."""
        limit = STOP_TYPES[otype] == "LIMIT"
        if qty is None:
            raise refusals.mandatory("quantity")
        if quote_qty is not None:
            raise VenueError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        if limit and price is None:
            raise refusals.mandatory("price")
        if not limit and price is not None:
            raise VenueError(-1106, "Parameter 'price' sent when not required.")
        self._check_filters(SPOT, instrument, STOP_TYPES[otype], qty, price)
        self._check_filters(SPOT, instrument, STOP_TYPES[otype], None, stop)
        if qty * (price if limit else stop) < instrument.min_notional:
            raise refusals.filter_failure("NOTIONAL")
        book = self.book(SPOT, instrument.symbol)
        if price is not None:
            price_bands.check_spot(side, price, book.mid)
        stp = matching.stp_mode(SPOT, params)
        cid = self.client_order_id(params, SPOT, account, instrument.symbol)
        self._open_order_limit(SPOT, account, instrument.symbol)
        if stop_reached(side, otype, stop, book.last_price):
            raise VenueError(-2010, "Stop price would trigger immediately.")
        base, quote = account.spot_row(instrument.base), account.spot_row(instrument.quote)
        # held from placement: a sell its quantity, a limit buy its cost; a market buy pays at the trigger
        held = qty if side == "SELL" else (qty * price if limit else ZERO)
        row = base if side == "SELL" else quote
        if (held if held else qty * stop) > row[0]:
            raise refusals.insufficient_balance()
        order = self._new_order(SPOT, instrument, account, cid, side, otype, tif or "GTC", price or ZERO, qty, ZERO,
                                stp_mode=stp, stop_price=stop)
        self.visibility.accepted(order, self.now())
        order.locked = held
        row[0] -= held
        row[1] += held
        self.stops.setdefault((SPOT, instrument.symbol), []).append(order)
        return order, []

    def trigger_stops(self, market: str, symbol: str, t: int) -> None:
        """Arm-to-work: each conditional order whose stop the last price has reached is reported NEW again, now
        working (as Binance does), and trades as a MARKET or LIMIT order against the book; its fills move the last
        price, which may trigger others, so this repeats until none is reached."""
        pending = self.stops.get((market, symbol))
        book = self.books[(market, symbol)]
        while pending:
            reached = [o for o in pending if stop_reached(o.side, o.type, o.stop_price, book.last_price)]
            if not reached:
                return
            for order in reached:
                pending.remove(order)
                order.armed = False
                order.working_time = order.update_time = t
                self.dirty = True
                self.emit(order, "NEW")
                self._work_triggered(order, t)

    def _work_triggered(self, order: Order, t: int) -> None:
        account = self.accounts[order.api_key]
        instrument = INSTRUMENTS[order.market][order.symbol]
        limit = order.price if STOP_TYPES[order.type] == "LIMIT" else None
        plan = matching.plan(self, order.market, instrument, order.api_key, order.side, order.remaining, limit, None,
                             order.stp_mode)
        filled = sum((q for _, q in plan.fills), ZERO)
        if order.tif == "FOK" and filled < order.remaining:
            plan = matching.Plan()
        if limit is None and order.side == "BUY":
            cost = sum((p * q for p, q in plan.fills), ZERO)
            if cost > account.spot_row(instrument.quote)[0]:
                self._close(order, account, "EXPIRED")  # the market buy cannot pay at the trigger
                return
        matching.execute(self, order, plan)
        if order.is_open and (limit is None or order.tif in ("IOC", "FOK")):
            self._close(order, account, "EXPIRED")
        elif order.is_open:
            self.resting.setdefault((order.market, order.symbol), []).append(order)

    def place_futures(self, account: Account, params: dict) -> tuple[Order, Order, list[Trade]]:
        """Returns the order as accepted (for ACK answers), the order now, and its immediate trades."""
        instrument, side, otype, tif = self._order_basics(FUTURES, params)
        book = self.book(FUTURES, instrument.symbol)
        if params.get("positionSide", "BOTH") != "BOTH":
            raise VenueError(-4061, "Order's position side does not match user's setting.")
        qty = self.decimal(params, "quantity", required=True)
        price = self.decimal(params, "price", required=otype == "LIMIT")
        if otype == "MARKET" and price is not None:
            raise VenueError(-1106, "Parameter 'price' sent when not required.")
        reduce_only = self.boolean(params, "reduceOnly")
        self._check_filters(FUTURES, instrument, otype, qty, price)
        stp = matching.stp_mode(FUTURES, params)
        cid = self.client_order_id(params, FUTURES, account, instrument.symbol)
        if price is not None:
            price_bands.check_futures(price, book.mid, instrument.tick)
        self._open_order_limit(FUTURES, account, instrument.symbol)
        plan = matching.plan(self, FUTURES, instrument, account.api_key, side, qty, price, None, stp)
        fills = plan.fills
        if tif == "GTX" and plan.crosses:
            raise VenueError(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
        position = account.position(instrument.symbol)
        signed = qty if side == "BUY" else -qty
        if reduce_only and (position.amt == 0 or (position.amt > 0) == (signed > 0)):
            raise VenueError(-2022, "ReduceOnly Order is rejected.")
        ref_price = price if price is not None else book.mid
        if not reduce_only and qty * ref_price < instrument.min_notional:
            raise VenueError(-4164, f"Order's notional must be no smaller than {instrument.min_notional} (unless you choose reduce only).")
        if tif == "FOK" and sum((q for _, q in fills), ZERO) < qty:
            raise VenueError(-5021, "Due to the order could not be filled immediately, the FOK order has been rejected.")
        if not reduce_only:
            opening = qty if (position.amt == 0 or (position.amt > 0) == (signed > 0)) else max(ZERO, qty - abs(position.amt))
            fill_price = (sum((p * q for p, q in fills), ZERO) / sum((q for _, q in fills), ZERO)) if fills else ref_price
            need = opening * max(ref_price, fill_price) / account.leverage_for(instrument.symbol)
            need += qty * fill_price * FEES[FUTURES][1]
            if need > self.futures_available(account):
                raise VenueError(-2019, "Margin is insufficient.")
        order = self._new_order(FUTURES, instrument, account, cid, side, otype, tif or "GTC", price or ZERO, qty, ZERO,
                                reduce_only, stp_mode=stp)
        self.visibility.accepted(order, self.now())
        accepted = Order(**{s: getattr(order, s) for s in Order.__slots__})
        trades = matching.execute(self, order, plan, reduce_to=position if reduce_only else None)
        if order.is_open and (otype == "MARKET" or tif == "IOC" or (reduce_only and position.amt == 0)):
            self._close(order, account, "EXPIRED")
        elif order.is_open:
            self.resting.setdefault((FUTURES, instrument.symbol), []).append(order)
        return accepted, order, trades

    # ---- fills ---------------------------------------------------------------------------------
    def _fill(self, order: Order, account: Account, price: Decimal, qty: Decimal, is_maker: bool,
              trade_id: int | None = None) -> Trade:
        """One side of a trade. `trade_id`: the other side's, when two user orders trade (one trade, one id)."""
        instrument = INSTRUMENTS[order.market][order.symbol]
        t = self.now()
        key = (order.market, order.symbol)
        if trade_id is None:
            self.next_trade_id[key] += 1
            trade_id = self.next_trade_id[key]
            self.books[key].record_trade(price, qty)
            self.tape.record(order.market, order.symbol,
                             PublicTrade(trade_id, price, qty, t, is_buyer_maker=(order.side == "BUY") == is_maker))
        rate = self.fees.rate(account.api_key, order.market, order.symbol, is_maker)
        realized = ZERO
        if order.market == SPOT:
            base, quote = account.spot_row(instrument.base), account.spot_row(instrument.quote)
            if order.side == "BUY":
                commission, asset = round_to(qty * rate, FEE_UNIT), instrument.base
                cost = price * qty
                if order.locked:
                    held = min(order.locked, order.price * qty)
                    quote[1] -= held
                    quote[0] += held - cost
                    order.locked -= held
                else:
                    quote[0] -= cost
                base[0] += qty - commission
            else:
                commission, asset = round_to(price * qty * rate, FEE_UNIT), instrument.quote
                if order.locked:
                    held = min(order.locked, qty)
                    base[1] -= held
                    order.locked -= held
                else:
                    base[0] -= qty
                quote[0] += price * qty - commission
        else:
            commission, asset = round_to(price * qty * rate, FEE_UNIT), instrument.quote
            realized = self._apply_position(account, order.symbol, qty if order.side == "BUY" else -qty, price, t)
            account.wallet[asset] = account.wallet.get(asset, ZERO) + realized - commission
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        order.update_time = t
        account.update_time = t
        trade = Trade(order.market, order.symbol, trade_id, order.order_id, account.api_key, order.side,
                      price, qty, commission, asset, t, is_maker, realized)
        self.trades.setdefault((order.market, account.api_key, order.symbol), []).append(trade)
        if order.market == FUTURES:
            if realized:
                income.record(self, account.api_key, "REALIZED_PNL", realized, asset, order.symbol, str(trade.trade_id))
            if commission:
                income.record(self, account.api_key, "COMMISSION", -commission, asset, order.symbol, str(trade.trade_id))
        if order.status == "FILLED":
            self._release(order, account)
        self.dirty = True
        self.emit(order, "TRADE", trade)
        return trade

    @staticmethod
    def _apply_position(account: Account, symbol: str, signed_qty: Decimal, price: Decimal, t: int) -> Decimal:
        """One-way position update; returns the realized PnL of the part that closed exposure."""
        pos = account.position(symbol)
        realized = ZERO
        if pos.amt == 0 or (pos.amt > 0) == (signed_qty > 0):
            total = abs(pos.amt) + abs(signed_qty)
            pos.entry = (abs(pos.amt) * pos.entry + abs(signed_qty) * price) / total
            pos.amt += signed_qty
        else:
            closing = min(abs(signed_qty), abs(pos.amt))
            direction = 1 if pos.amt > 0 else -1
            # booked to 8 decimals, like the commission: the wallet never holds more
            realized = round_to(closing * (price - pos.entry) * direction, FEE_UNIT)
            pos.realized += realized
            pos.amt += signed_qty
            if pos.amt == 0:
                pos.entry = ZERO
            elif (pos.amt > 0) != (direction > 0):  # flipped through zero: the rest opens at this price
                pos.entry = price
        pos.update_time = t
        return realized

    def _release(self, order: Order, account: Account) -> None:
        if order.market == SPOT and order.locked:
            instrument = INSTRUMENTS[SPOT][order.symbol]
            row = account.spot_row(instrument.quote if order.side == "BUY" else instrument.base)
            row[1] -= order.locked
            row[0] += order.locked
            order.locked = ZERO
        resting = self.resting.get((order.market, order.symbol))
        if resting and order in resting:
            resting.remove(order)
        if order.armed:
            order.armed = False
            self.stops[(order.market, order.symbol)].remove(order)
        self.open_by_account.get((order.market, order.api_key), {}).pop((order.symbol, order.order_id), None)

    def _close(self, order: Order, account: Account, status: str) -> None:
        order.status = status
        order.update_time = self.now()
        self._release(order, account)
        self.dirty = True
        self.emit(order, status)

    def match_resting(self, market: str, symbol: str, t: int) -> None:
        """Resting limits fill (as makers, at their own price) once the book trades through them."""
        resting = self.resting.get((market, symbol))
        if not resting:
            return
        book = self.books[(market, symbol)]
        for order in list(resting):
            side = order.side
            levels = book.asks if side == "BUY" else book.bids
            if not levels or (levels[0][0] > order.price if side == "BUY" else levels[0][0] < order.price):
                continue  # the usual case: the market is not through this order
            crossing = self._sweep(book, side, order.remaining, order.price, None, INSTRUMENTS[market][symbol].step)
            if not crossing:
                continue
            account = self.accounts[order.api_key]
            qty = sum((q for _, q in crossing), ZERO)
            if order.reduce_only:
                pos = account.position(symbol)
                if pos.amt == 0 or (pos.amt > 0) == (order.side == "BUY"):
                    self._close(order, account, "EXPIRED")
                    continue
                qty = min(qty, abs(pos.amt))
            self._fill(order, account, order.price, qty, is_maker=True)
            self._consume(book, side, self._sweep(book, side, qty, order.price, None, INSTRUMENTS[market][symbol].step))

    def trickle(self, market: str, symbol: str, taker_side: str, count: int, qty: Decimal) -> list[Trade]:
        """`count` synthetic takers of `qty` each on `taker_side` (SELL takers meet resting BUYs), each filling
        the best resting user order (best price, then oldest) at its own price as maker: many small trades on
        one order, which the displayed synthetic depth (a few levels per sweep) never produces."""
        instrument = self.instrument(market, symbol)
        maker_side = "BUY" if taker_side == "SELL" else "SELL"
        trades: list[Trade] = []
        for _ in range(count):
            best = matching.best_resting(self.resting.get((market, instrument.symbol), []), maker_side)
            if best is None:
                break
            account = self.accounts[best.api_key]
            take = min(qty, best.remaining)
            if best.reduce_only:
                pos = account.position(instrument.symbol)
                if pos.amt == 0 or (pos.amt > 0) == (best.side == "BUY"):
                    self._close(best, account, "EXPIRED")
                    continue
                take = min(take, abs(pos.amt))
            trades.append(self._fill(best, account, best.price, take, is_maker=True))
        return trades

    def align_trade_ids(self, market: str | None, next_id: int | None) -> dict[str, dict[str, int]]:
        """Give every symbol (of one market, or both) the same next trade id, so two symbols' trades share ids
        as they do on Binance. Ids only move forward: `next_id` must exceed every id already used."""
        keys = [k for k in self.next_trade_id if market is None or k[0] == market]
        highest = max(self.next_trade_id[k] for k in keys)
        if next_id is None:
            next_id = highest + 1
        if next_id <= highest:
            raise ValueError(f"next_id must be greater than {highest}, the highest trade id already used")
        for k in keys:
            self.next_trade_id[k] = next_id - 1
        self.dirty = True
        return {m: {s: v + 1 for (mm, s), v in self.next_trade_id.items() if mm == m} for m in sorted({k[0] for k in keys})}

    # ---- queries and cancels -------------------------------------------------------------------
    def find_order(self, market: str, account: Account, params: dict, missing: VenueError) -> Order:
        instrument = self.instrument(market, params.get("symbol"))
        order_id = self.integer(params, "orderId")
        cid = params.get("origClientOrderId")
        if order_id is None and not cid:
            raise VenueError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order_id is not None:
            order = self.orders.get((market, instrument.symbol, order_id))
            if order is None or order.api_key != account.api_key or not self.visibility.visible(order, self.now()):
                raise missing
            if cid and order.client_order_id != cid:
                if market == SPOT:  # Binance spot names the mismatch; USD-M answers "does not exist"
                    raise VenueError(-2039, "Client order ID is not correct for this order ID.")
                raise missing
        else:
            order = self.client_ids.get((market, account.api_key, instrument.symbol, cid))
            if order is None or not self.visibility.visible(order, self.now()):
                raise missing
        gone = history.lookup_refusal(self, order, missing)
        if gone is not None:
            raise gone
        return order

    def cancel(self, market: str, account: Account, params: dict) -> Order:
        order = self.find_order(market, account, params, refusals.unknown_order())
        if not order.is_open:
            raise refusals.unknown_order()
        self._close(order, account, "CANCELED")
        return order

    def cancel_all(self, market: str, account: Account, params: dict) -> list[Order]:
        instrument = self.instrument(market, params.get("symbol"))
        orders = [o for o in self.account_orders.get((market, account.api_key, instrument.symbol), []) if o.is_open]
        for order in orders:
            self._close(order, account, "CANCELED")
        return orders

    def open_orders(self, market: str, account: Account, symbol: str | None) -> list[Order]:
        symbol = self.instrument(market, symbol).symbol if symbol else None
        orders = self.open_by_account.get((market, account.api_key), {}).values()
        now = self.now()
        return sorted((o for o in orders if (symbol is None or o.symbol == symbol) and self.visibility.visible(o, now)),
                      key=lambda o: (o.time, o.order_id))

    def all_orders(self, market: str, account: Account, params: dict) -> list[Order]:
        instrument = self.instrument(market, params.get("symbol"))
        now = self.now()
        orders = [o for o in self.account_orders.get((market, account.api_key, instrument.symbol), [])
                  if self.visibility.visible(o, now) and history.retained(self, o)]
        start, end = self.time_param(market, params, "startTime"), self.time_param(market, params, "endTime")
        history.orders_window(market, start, end)
        if market == FUTURES:
            if start is None and end is None:
                orders = [o for o in orders if history.recent(self, o.time)]
            elif end is None:
                end = start + history.FUTURES_SPAN_MS
            elif start is None:
                start = end - history.FUTURES_SPAN_MS
        return self._window(orders, params, lambda o: o.order_id, lambda o: o.time, "orderId", start, end)

    def my_trades(self, market: str, account: Account, params: dict) -> list[Trade]:
        """Binance's trade paging: spot accepts symbol alone or with orderId, startTime, endTime, fromId,
        startTime+endTime (at most 24 h apart) or orderId+fromId; USD-M never takes fromId with a time bound,
        spans at most 7 days and, with neither bound, covers the last 7 days. Other combinations: -1128."""
        instrument = self.instrument(market, params.get("symbol"))
        trades = self.trades.get((market, account.api_key, instrument.symbol), [])
        hidden = self.visibility.hidden_ids(market, instrument.symbol, self.now())
        if hidden:
            trades = [t for t in trades if t.order_id not in hidden]
        limit = self.integer(params, "limit") or 500
        if not 1 <= limit <= 1000:
            raise VenueError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1..1000'.")
        order_id, from_id = self.integer(params, "orderId"), self.integer(params, "fromId")
        start, end = self.time_param(market, params, "startTime"), self.time_param(market, params, "endTime")
        timed = start is not None or end is not None
        if (from_id is not None and timed) or (order_id is not None and timed):
            raise VenueError(-1128, "Combination of optional parameters invalid.")
        span = DAY_MS if market == SPOT else 7 * DAY_MS
        if start is not None and end is not None and end - start > span:
            raise VenueError(-1127, "More than 24 hours between startTime and endTime." if market == SPOT
                             else "More than 7 days between startTime and endTime.")
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        if from_id is not None:
            return [t for t in trades if t.trade_id >= from_id][:limit]
        if order_id is not None:
            return trades[:limit]
        if market == FUTURES and not timed:  # the last 7 days of venue time
            trades = [t for t in trades if history.recent(self, t.time)]
        if market == FUTURES and start is not None and end is None:
            end = start + span
        if market == FUTURES and end is not None and start is None:
            start = end - span
        rows = [t for t in trades if (start is None or t.time >= start) and (end is None or t.time <= end)]
        return rows[:limit] if start is not None and (market == SPOT or params.get("startTime")) else rows[-limit:]

    def _window(self, rows: list, params: dict, ident, stamp, from_name: str, start: int | None,
                end: int | None) -> list:
        limit = self.integer(params, "limit") or 500
        if not 1 <= limit <= 1000:
            raise VenueError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1..1000'.")
        from_id = self.integer(params, from_name)
        if from_id is not None:
            return [r for r in rows if ident(r) >= from_id][:limit]
        if start is not None:
            rows = [r for r in rows if stamp(r) >= start]
        if end is not None:
            rows = [r for r in rows if stamp(r) <= end]
        return rows[:limit] if params.get("startTime") else rows[-limit:]

    # ---- futures account -----------------------------------------------------------------------
    def set_leverage(self, account: Account, params: dict) -> dict:
        instrument = self.instrument(FUTURES, params.get("symbol"))
        leverage = self.integer(params, "leverage", required=True)
        if not 1 <= leverage <= max_leverage(instrument.symbol):
            raise VenueError(-4028, f"Leverage {leverage} is not valid")
        account.leverage[instrument.symbol] = leverage
        account.update_time = self.now()
        self.dirty = True
        cap = max(r["notionalCap"] for r in brackets_for(instrument.symbol) if r["initialLeverage"] >= leverage)
        return {"leverage": leverage, "maxNotionalValue": format(cap, "f"), "symbol": instrument.symbol}

    def position_figures(self, account: Account, symbol: str) -> dict:
        pos = account.position(symbol)
        mark = self.books[(FUTURES, symbol)].mid
        notional = pos.amt * mark
        upnl = pos.amt * (mark - pos.entry)
        leverage = account.leverage_for(symbol)
        maint, ratio, cum = maint_margin(symbol, abs(notional))
        order_margin = sum((o.remaining * o.price / leverage for o in self.open_orders(FUTURES, account, symbol)
                            if not o.reduce_only), ZERO)
        return {"amt": pos.amt, "entry": pos.entry, "mark": mark, "notional": notional, "upnl": upnl,
                "initial": abs(notional) / leverage, "maint": maint, "ratio": ratio, "cum": cum,
                "order_margin": order_margin, "leverage": leverage, "update_time": pos.update_time}

    def futures_totals(self, account: Account) -> dict:
        rows = {s: self.position_figures(account, s) for s in INSTRUMENTS[FUTURES]}
        wallet = account.wallet.get("USDT", ZERO)
        upnl = sum((r["upnl"] for r in rows.values()), ZERO)
        initial = sum((r["initial"] for r in rows.values()), ZERO)
        orders = sum((r["order_margin"] for r in rows.values()), ZERO)
        maint = sum((r["maint"] for r in rows.values()), ZERO)
        available = wallet + upnl - initial - orders
        return {"rows": rows, "wallet": wallet, "upnl": upnl, "initial": initial, "order_margin": orders,
                "maint": maint, "margin_balance": wallet + upnl, "available": available}

    def futures_available(self, account: Account) -> Decimal:
        return self.futures_totals(account)["available"]

    def liquidation_price(self, account: Account, symbol: str, totals: dict) -> Decimal:
        """Binance's one-way cross-margin formula, other positions' maintenance and PnL taken as they are."""
        row = totals["rows"][symbol]
        size = abs(row["amt"])
        if size == 0:
            return ZERO
        others_maint = totals["maint"] - row["maint"]
        others_upnl = totals["upnl"] - row["upnl"]
        side = 1 if row["amt"] > 0 else -1
        numerator = totals["wallet"] - others_maint + others_upnl + row["cum"] - side * size * row["entry"]
        denominator = size * row["ratio"] - side * size
        price = numerator / denominator
        return max(ZERO, round_to(price, INSTRUMENTS[FUTURES][symbol].tick))

    # ---- snapshot ------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "books": {f"{m}:{s}": b.state() for (m, s), b in self.books.items()},
            "accounts": [a.state() for a in self.accounts.values()],
            "orders": [o.state() for o in self.orders.values()],
            "trades": [t.state() for rows in self.trades.values() for t in rows],
            "next_order_id": {f"{m}:{s}": v for (m, s), v in self.next_order_id.items()},
            "next_trade_id": {f"{m}:{s}": v for (m, s), v in self.next_trade_id.items()},
            "next_prevented_id": {f"{m}:{s}": v for (m, s), v in self.next_prevented_id.items()},
            "income": self.income, "next_tran_id": self.next_tran_id,
            "clock": self.clock.state(),
        }

    def restore(self, state: dict) -> None:
        """Read a snapshot back. Only keys configured now come back (with their orders and trades): a key
        dropped from the configuration, or the loopback demo key, must not be revived by an old file."""
        self.clock.restore(state.get("clock"))
        self.funding_due = funding.next_funding_time(self.venue_now())  # no settlements for the time it was down
        for name, b in state["books"].items():
            m, s = name.split(":")
            if (m, s) in self.books:
                self.books[(m, s)].restore(b)
        for a in state["accounts"]:
            if a["api_key"] in self.accounts:
                self.accounts[a["api_key"]] = Account.from_state({**a, "secret": self.accounts[a["api_key"]].secret})
        for raw in sorted(state["orders"], key=lambda o: (o["time"], o["order_id"])):
            o = _from_state(Order, raw)
            if o.api_key not in self.accounts:
                continue
            self.orders[(o.market, o.symbol, o.order_id)] = o
            self.account_orders.setdefault((o.market, o.api_key, o.symbol), []).append(o)
            self.client_ids[(o.market, o.api_key, o.symbol, o.client_order_id)] = o
            if o.is_open:
                (self.stops if o.armed else self.resting).setdefault((o.market, o.symbol), []).append(o)
                self.open_by_account.setdefault((o.market, o.api_key), {})[(o.symbol, o.order_id)] = o
        for raw in sorted(state["trades"], key=lambda t: t["trade_id"]):
            t = _from_state(Trade, raw)
            if t.api_key in self.accounts:
                self.trades.setdefault((t.market, t.api_key, t.symbol), []).append(t)
        for field_name, target in (("next_order_id", self.next_order_id), ("next_trade_id", self.next_trade_id),
                                   ("next_prevented_id", self.next_prevented_id)):
            for name, v in state.get(field_name, {}).items():
                m, s = name.split(":")
                target[(m, s)] = max(target.get((m, s), 0), v)
        self.income = {k: rows for k, rows in state.get("income", {}).items() if k in self.accounts}
        self.next_tran_id = max(self.next_tran_id, state.get("next_tran_id", 0))
