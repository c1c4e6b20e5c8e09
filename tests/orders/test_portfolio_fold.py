"""The fold's accounting rules (orders.portfolio_fold), without a database: worked examples and properties."""
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.portfolio_fold import Book, futures_fill, spot_fill

D = Decimal


def fut(book, side, qty, price, fee="0", fee_asset="USDT"):
    return futures_fill(book, side=side, quantity=D(qty), price=D(price), fee=D(fee), fee_asset=fee_asset,
                        base="BTC", quote="USDT")


def spot(books, side, qty, price, fee="0", fee_asset="USDT"):
    return spot_fill(books, side=side, quantity=D(qty), price=D(price), fee=D(fee), fee_asset=fee_asset,
                     base="BTC", quote="USDT")


def test_adding_moves_the_average_and_reducing_realizes_at_it():
    book = Book()
    fut(book, "BUY", "1", "100")
    fut(book, "BUY", "3", "120")
    assert (book.amount, book.entry) == (D(4), D(115))
    effect = fut(book, "SELL", "1", "130", fee="0.065")
    assert effect.realized == D(15) and effect.fee == D("0.065") and effect.notional == D(130)
    assert (book.amount, book.entry, book.realized, book.fees) == (D(3), D(115), D(15), D("0.065"))


def test_a_short_realizes_the_other_way():
    book = Book()
    fut(book, "SELL", "2", "100")
    effect = fut(book, "BUY", "0.5", "90")
    assert effect.realized == D(5)
    assert (book.amount, book.entry) == (D("-1.5"), D(100))


def test_a_flip_through_zero_closes_the_old_side_and_opens_the_rest_at_the_fill_price():
    book = Book()
    fut(book, "BUY", "1", "100")
    effect = fut(book, "SELL", "3", "110")
    assert effect.realized == D(10)
    assert (book.amount, book.entry) == (D(-2), D(110))
    fut(book, "BUY", "2", "105")
    assert (book.amount, book.entry, book.realized) == (D(0), D(0), D(20))


def test_realized_is_booked_to_8_decimals_half_up():
    book = Book()
    fut(book, "BUY", "3", "1")
    fut(book, "BUY", "1", "2")  # entry 1.25
    effect = fut(book, "SELL", "0.000000001", "1.5")  # 0.00000000025 realized
    assert effect.realized == 0
    effect = fut(book, "SELL", "0.00000002", "1.5")  # 0.000000005 -> half up
    assert effect.realized == D("0.00000001")


def test_futures_fees_in_base_quote_and_bnb():
    book = Book()
    assert fut(book, "BUY", "1", "100", fee="0.001", fee_asset="BTC").fee == D("0.1")
    assert fut(book, "BUY", "1", "100", fee="0.05", fee_asset="USDT").fee == D("0.05")
    effect = fut(book, "BUY", "1", "100", fee="0.0002", fee_asset="BNB")
    assert (effect.fee, effect.other_fee, effect.other_fee_asset) == (D(0), D("0.0002"), "BNB")
    assert (book.fees, book.other_fees) == (D("0.15"), {"BNB": D("0.0002")})


def test_spot_fee_in_base_leaves_the_holding_and_counts_at_the_fill_price():
    books = {}
    spot(books, "BUY", "1", "90")
    effect = spot(books, "BUY", "1", "100", fee="0.001", fee_asset="BTC")
    btc, usdt = books["BTC"], books["USDT"]
    # the fee's 0.001 BTC leave at 100 against an average of 95: 0.005 realized, 0.1 fees
    assert (btc.amount, btc.entry) == (D("1.999"), D(95))
    assert (effect.realized, effect.fee, btc.fees) == (D("0.005"), D("0.1"), D("0.1"))
    assert (usdt.amount, usdt.entry, usdt.cash) == (D(-190), D(1), True)
    # marked at 100, PnL equals the value change: 1.999 BTC at 100 for 190 USDT paid
    assert btc.realized + btc.amount * (D(100) - btc.entry) - btc.fees == btc.amount * 100 + usdt.amount


def test_spot_sale_with_fee_in_quote_and_in_bnb():
    books = {}
    spot(books, "BUY", "2", "100")
    effect = spot(books, "SELL", "1", "110", fee="0.11", fee_asset="USDT")
    assert (effect.realized, effect.fee) == (D(10), D("0.11"))
    assert (books["BTC"].amount, books["USDT"].amount) == (D(1), D("-90.11"))
    effect = spot(books, "SELL", "1", "120", fee="0.0003", fee_asset="BNB")
    assert (effect.realized, effect.other_fee, effect.other_fee_asset) == (D(20), D("0.0003"), "BNB")
    assert books["BNB"].amount == D("-0.0003") and books["BTC"].other_fees == {"BNB": D("0.0003")}
    assert (books["BTC"].amount, books["BTC"].entry) == (D(0), D(0))


def test_adjustments_enter_at_their_price_and_realize_nothing():
    book = Book()
    book.adjust("size", D("0.5"), D(100))
    assert (book.amount, book.entry, book.realized) == (D("0.5"), D(100), D(0))
    book.adjust("size", D("0.5"), D(110))
    assert (book.amount, book.entry) == (D(1), D(105))
    book.adjust("size", D("-0.25"), D(999))  # a reduction leaves at the average
    assert (book.amount, book.entry, book.realized) == (D("0.75"), D(105), D(0))
    book.adjust("entry_price", D("-5"), None)
    book.adjust("realized_pnl", D("1.5"), None)
    book.adjust("funding", D("-0.2"), None)
    assert (book.entry, book.realized, book.funding) == (D(100), D("1.5"), D("-0.2"))


trades = st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]),
                            st.decimals(min_value=D("0.001"), max_value=D(5), places=3),
                            st.decimals(min_value=D(1), max_value=D(200000), places=2)), max_size=40)
marks = st.decimals(min_value=D(1), max_value=D(200000), places=2)


@settings(max_examples=300, deadline=None)
@given(trades, marks)
def test_futures_pnl_is_the_cash_flow_at_any_mark(sequence, mark):
    """Whatever the sequence: realized + unrealized at a mark == what the trades paid and received plus the position
    valued at the mark (up to the 8-decimal booking of each close)."""
    book = Book()
    cash = D(0)
    for side, qty, price in sequence:
        fut(book, side, qty, price)
        cash += -qty * price if side == "BUY" else qty * price
    unrealized = book.amount * (mark - book.entry)
    assert abs(book.realized + unrealized - (cash + book.amount * mark)) <= D("0.000000005") * len(sequence) + D("1e-10")
    assert (book.amount == 0) == (book.entry == 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]),
                          st.decimals(min_value=D("0.001"), max_value=D(5), places=3),
                          st.decimals(min_value=D(1), max_value=D(200000), places=2),
                          st.sampled_from(["BTC", "USDT", "BNB", ""])), max_size=30), marks)
def test_spot_pnl_is_the_value_change_at_any_mark(sequence, mark):
    """Spot, fees in base, quote or BNB: realized + unrealized - fees == BTC held at the mark + USDT moved (BNB fees are
    kept apart, by asset)."""
    books: dict = {}
    bnb = D(0)
    for side, qty, price, fee_asset in sequence:
        fee = (qty / 1000 if fee_asset == "BTC" else qty * price / 1000 if fee_asset == "USDT" else D("0.0001")
               if fee_asset == "BNB" else D(0))
        spot(books, side, qty, price, fee=str(fee), fee_asset=fee_asset)
        bnb += fee if fee_asset == "BNB" else 0
    if not sequence:
        return
    btc, usdt = books["BTC"], books["USDT"]
    pnl = btc.realized + btc.amount * (mark - btc.entry) - btc.fees
    assert abs(pnl - (btc.amount * mark + usdt.amount)) <= D("0.00000002") * len(sequence) + D("1e-10")
    assert btc.other_fees.get("BNB", D(0)) == bnb == -books.get("BNB", Book()).amount


@settings(max_examples=300, deadline=None)
@given(trades)
def test_futures_fold_equals_the_local_venues_futures_engine(sequence):
    """Any sequence of USD-M fills: the fold's size, entry price (to the 8 decimals positionRisk shows) and realized
    PnL (booked to 8 decimals per fill) equal what the local venue's futures engine holds after the same trades."""
    from exchanges.simulator.engine import Venue
    from exchanges.simulator.wallets import Account as VenueAccount

    venue_account = VenueAccount("k", "s", 0)
    book = Book()
    for t, (side, qty, price) in enumerate(sequence):
        signed = qty if side == "BUY" else -qty
        venue_realized = Venue._apply_position(venue_account, "BTCUSDT", signed, price, t)
        assert fut(book, side, qty, price).realized == venue_realized
        venue = venue_account.position("BTCUSDT")
        assert book.amount == venue.amt
        assert book.entry.quantize(D("1e-8")) == venue.entry.quantize(D("1e-8"))
    assert book.realized == venue_account.position("BTCUSDT").realized


def test_the_readmes_worked_example():
    book = Book()
    fees = [fut(book, side, qty, price, fee=str(D(qty) * D(price) * D("0.0005"))).fee
            for side, qty, price in [("BUY", "0.030", "100000"), ("BUY", "0.020", "101000"),
                                     ("SELL", "0.040", "99000"), ("SELL", "0.030", "102000")]]
    book.funding += D("0.020") * D(101000) * D("0.0001")
    assert fees == [D("1.5"), D("1.01"), D("1.98"), D("1.53")]
    assert (book.amount, book.entry, book.realized, book.fees, book.funding) == (
        D("-0.02"), D(102000), D(-40), D("6.02"), D("0.202"))
    assert book.realized - book.fees + book.funding == D("-45.818")
    assert book.amount * (D(101500) - book.entry) == D(10)
