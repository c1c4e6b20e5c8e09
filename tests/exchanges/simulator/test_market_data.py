"""Markets and prices through ccxt.binance: exchangeInfo for spot and USD-M, tickers, book tickers,
order books, and a market that moves by itself."""
import pytest

from tests.waiting import wait_until

SYMBOLS = ["BTC", "ETH", "XRP", "SOL", "BNB"]


def test_load_markets_lists_spot_and_linear_with_binance_filters(venue_exchange):
    markets = venue_exchange.markets

    assert {m for m in markets if markets[m]["spot"]} == {f"{b}/USDT" for b in SYMBOLS}
    assert {m for m in markets if markets[m]["linear"]} == {f"{b}/USDT:USDT" for b in SYMBOLS}
    spot = markets["BTC/USDT"]
    assert (spot["precision"]["amount"], spot["precision"]["price"]) == (0.00001, 0.01)
    assert (spot["limits"]["amount"]["min"], spot["limits"]["cost"]["min"]) == (0.00001, 5)
    perp = markets["BTC/USDT:USDT"]
    assert perp["swap"] and perp["settle"] == "USDT" and perp["contractSize"] == 1
    assert (perp["precision"]["amount"], perp["precision"]["price"]) == (0.001, 0.1)
    assert perp["limits"]["cost"]["min"] == 100
    assert venue_exchange.amount_to_precision("BTC/USDT:USDT", 0.12345) == "0.123"


def test_prices_start_near_real_levels(venue_exchange):
    tickers = venue_exchange.fetch_tickers([f"{b}/USDT" for b in SYMBOLS])
    expected = {"BTC": 115000, "ETH": 4200, "XRP": 2.9, "SOL": 200, "BNB": 850}

    for base, price in expected.items():
        t = tickers[f"{base}/USDT"]
        assert t["bid"] < t["ask"] and t["bidVolume"] > 0 and t["askVolume"] > 0
        assert t["last"] == pytest.approx(price, rel=0.05)


def test_futures_tickers_and_book_tickers(venue_exchange):
    ticker = venue_exchange.fetch_ticker("BTC/USDT:USDT")
    books = venue_exchange.fetch_bids_asks(["BTC/USDT:USDT"])

    assert ticker["last"] == pytest.approx(115000, rel=0.05) and ticker["timestamp"] > 0
    book = books["BTC/USDT:USDT"]
    assert book["bid"] < book["ask"] and book["bidVolume"] > 0
    assert set(venue_exchange.fetch_bids_asks(["BTC/USDT", "ETH/USDT"])) == {"BTC/USDT", "ETH/USDT"}


def test_order_book_has_sorted_depth(venue_exchange):
    book = venue_exchange.fetch_order_book("ETH/USDT", limit=5)

    bids, asks = [p for p, _ in book["bids"]], [p for p, _ in book["asks"]]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert all(q > 0 for _, q in book["bids"] + book["asks"])


def test_the_market_moves_by_itself(venue_exchange):
    first = venue_exchange.fetch_bids_asks(["BTC/USDT"])["BTC/USDT"]["bid"]

    moved = wait_until(lambda: venue_exchange.fetch_bids_asks(["BTC/USDT"])["BTC/USDT"]["bid"] != first, timeout=10)

    assert moved


def test_set_price_moves_the_market_at_once(venue_exchange, venue):
    venue.control.set_price("ETHUSDT", 3000)

    ticker = venue_exchange.fetch_ticker("ETH/USDT")

    assert ticker["bid"] == pytest.approx(3000, rel=0.001) and ticker["ask"] == pytest.approx(3000, rel=0.001)
    assert venue_exchange.fetch_ticker("ETH/USDT:USDT")["last"] == pytest.approx(4200, rel=0.05)
