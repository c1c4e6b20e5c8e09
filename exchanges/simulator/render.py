"""Response bodies field for field as Binance documents them: decimals as strings, times in ms."""
import zlib
from decimal import Decimal

from .engine import FEES, Order, Trade, Venue
from .instruments import FUTURES, INSTRUMENTS, SPOT, brackets_for
from .wallets import Account


def s(value: Decimal, places: int = 8) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def spot_order(o: Order, with_time: bool = True) -> dict:
    body = {
        "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
        "price": s(o.price), "origQty": s(o.orig_qty), "executedQty": s(o.executed_qty),
        "cummulativeQuoteQty": s(o.cum_quote), "status": o.status, "timeInForce": o.tif, "type": o.type,
        "side": o.side, "stopPrice": s(o.stop_price), "icebergQty": s(Decimal(0)),
        "time": o.time, "updateTime": o.update_time, "isWorking": o.type != "MARKET" and not o.armed,
        "workingTime": -1 if o.armed else o.working_time or o.time, "origQuoteOrderQty": s(o.orig_quote_qty), "selfTradePreventionMode": o.stp_mode,
    }
    if o.prevented_match_id is not None:  # expired in a prevented self-trade (EXPIRED_IN_MATCH)
        body.update(preventedMatchId=o.prevented_match_id, preventedQuantity=s(o.prevented_qty))
    if not with_time:
        for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
            del body[key]
    return body


def spot_new_order(o: Order, trades: list[Trade], resp_type: str, prevented: list | None = None) -> dict:
    """`prevented`: the self-trades this order's placement prevented (matching.PreventedMatch), listed in RESULT
    and FULL answers as `preventedMatches`, as Binance does."""
    ack = {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
           "transactTime": o.time}
    if resp_type == "ACK":
        return ack
    body = {**ack, **spot_order(o, with_time=False)}
    if resp_type == "FULL":
        body["fills"] = [{"price": s(t.price), "qty": s(t.qty), "commission": s(t.commission),
                          "commissionAsset": t.commission_asset, "tradeId": t.trade_id} for t in trades]
    if prevented:
        body["preventedMatches"] = [m.answer_row() for m in prevented]
    return body


def spot_cancel(o: Order, cancel_id: str) -> dict:
    body = spot_order(o, with_time=False)
    body.update({"origClientOrderId": o.client_order_id, "clientOrderId": cancel_id, "transactTime": o.update_time})
    del body["workingTime"]
    return body


def futures_order(o: Order, answer: str = "query") -> dict:
    """As Binance answers it: a new order's or a cancel's answer (`answer` "new"/"cancel") carries `cumQty` and no
    `time`; a query's (GET order, openOrders, allOrders) `time` and no `cumQty`."""
    avg = (o.cum_quote / o.executed_qty) if o.executed_qty else Decimal(0)
    places = INSTRUMENTS[FUTURES][o.symbol].price_precision
    body = {
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_order_id,
        "price": s(o.price, places), "avgPrice": s(avg, max(places, 5)), "origQty": s(o.orig_qty, 3),
        "executedQty": s(o.executed_qty, 3), "cumQty": s(o.executed_qty, 3), "cumQuote": s(o.cum_quote, 5),
        "timeInForce": o.tif, "type": o.type, "reduceOnly": o.reduce_only, "closePosition": False,
        "side": o.side, "positionSide": "BOTH", "stopPrice": "0", "workingType": "CONTRACT_PRICE",
        "priceProtect": False, "origType": o.type, "priceMatch": "NONE", "selfTradePreventionMode": o.stp_mode,
        "goodTillDate": 0, "time": o.time, "updateTime": o.update_time,
    }
    del body["time" if answer in ("new", "cancel") else "cumQty"]
    return body


def spot_trade(t: Trade) -> dict:
    return {
        "symbol": t.symbol, "id": t.trade_id, "orderId": t.order_id, "orderListId": -1, "price": s(t.price),
        "qty": s(t.qty), "quoteQty": s(t.price * t.qty), "commission": s(t.commission),
        "commissionAsset": t.commission_asset, "time": t.time, "isBuyer": t.side == "BUY", "isMaker": t.is_maker,
        "isBestMatch": True,
    }


def futures_trade(t: Trade) -> dict:
    places = INSTRUMENTS[FUTURES][t.symbol].price_precision
    return {
        "buyer": t.side == "BUY", "commission": s(t.commission), "commissionAsset": t.commission_asset,
        "id": t.trade_id, "maker": t.is_maker, "orderId": t.order_id, "price": s(t.price, places),
        "qty": s(t.qty, 3), "quoteQty": s(t.price * t.qty, 5), "realizedPnl": s(t.realized_pnl), "marginAsset": "USDT",
        "side": t.side, "positionSide": "BOTH", "symbol": t.symbol, "time": t.time,
    }


def spot_account(a: Account) -> dict:
    maker, taker = FEES[SPOT]
    return {
        "makerCommission": int(maker * 10000), "takerCommission": int(taker * 10000), "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": s(maker), "taker": s(taker), "buyer": s(Decimal(0)), "seller": s(Decimal(0))},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": a.update_time, "accountType": "SPOT",
        "balances": [{"asset": asset, "free": s(free), "locked": s(locked)} for asset, (free, locked) in sorted(a.spot.items())],
        "permissions": ["SPOT"], "uid": zlib.crc32(a.api_key.encode()),
    }


def futures_account(venue: Venue, a: Account) -> dict:
    t = venue.futures_totals(a)
    usdt = {
        "asset": "USDT", "walletBalance": s(t["wallet"]), "unrealizedProfit": s(t["upnl"]),
        "marginBalance": s(t["margin_balance"]), "maintMargin": s(t["maint"]),
        "initialMargin": s(t["initial"] + t["order_margin"]), "positionInitialMargin": s(t["initial"]),
        "openOrderInitialMargin": s(t["order_margin"]), "crossWalletBalance": s(t["wallet"]),
        "crossUnPnl": s(t["upnl"]), "availableBalance": s(t["available"]),
        "maxWithdrawAmount": s(max(Decimal(0), min(t["available"], t["wallet"]))), "updateTime": a.update_time,
    }
    positions = [{
        "symbol": sym, "positionSide": "BOTH", "positionAmt": s(r["amt"], 3), "unrealizedProfit": s(r["upnl"]),
        "isolatedMargin": "0", "notional": s(r["notional"]), "isolatedWallet": "0", "initialMargin": s(r["initial"]),
        "maintMargin": s(r["maint"]), "updateTime": r["update_time"],
    } for sym, r in t["rows"].items() if r["amt"] != 0]
    return {
        "totalInitialMargin": usdt["initialMargin"], "totalMaintMargin": usdt["maintMargin"],
        "totalWalletBalance": usdt["walletBalance"], "totalUnrealizedProfit": usdt["unrealizedProfit"],
        "totalMarginBalance": usdt["marginBalance"], "totalPositionInitialMargin": usdt["positionInitialMargin"],
        "totalOpenOrderInitialMargin": usdt["openOrderInitialMargin"], "totalCrossWalletBalance": usdt["walletBalance"],
        "totalCrossUnPnl": usdt["unrealizedProfit"], "availableBalance": usdt["availableBalance"],
        "maxWithdrawAmount": usdt["maxWithdrawAmount"], "assets": [usdt], "positions": positions,
    }


def position_risk(venue: Venue, a: Account, symbol: str | None) -> list[dict]:
    totals = venue.futures_totals(a)
    rows = []
    for sym, r in totals["rows"].items():
        if (symbol and sym != symbol) or (r["amt"] == 0 and r["order_margin"] == 0):
            continue
        places = INSTRUMENTS[FUTURES][sym].price_precision
        rows.append({
            "symbol": sym, "positionSide": "BOTH", "positionAmt": s(r["amt"], 3), "entryPrice": s(r["entry"]),
            "breakEvenPrice": s(r["entry"] * (1 + FEES[FUTURES][1]) if r["amt"] > 0 else r["entry"] * (1 - FEES[FUTURES][1])),
            "markPrice": s(r["mark"]), "unRealizedProfit": s(r["upnl"]),
            "liquidationPrice": s(venue.liquidation_price(a, sym, totals), places), "isolatedMargin": "0",
            "notional": s(r["notional"]), "marginAsset": "USDT", "isolatedWallet": "0",
            "initialMargin": s(r["initial"] + r["order_margin"]), "maintMargin": s(r["maint"]),
            "positionInitialMargin": s(r["initial"]), "openOrderInitialMargin": s(r["order_margin"]), "adl": 0,
            "bidNotional": "0", "askNotional": "0", "updateTime": r["update_time"],
        })
    return rows


def leverage_brackets(symbol: str | None) -> list[dict]:
    symbols = [symbol] if symbol else list(INSTRUMENTS[FUTURES])
    return [{"symbol": sym, "brackets": [{
        "bracket": r["bracket"], "initialLeverage": r["initialLeverage"], "notionalCap": int(r["notionalCap"]),
        "notionalFloor": int(r["notionalFloor"]), "maintMarginRatio": float(r["maintMarginRatio"]), "cum": float(r["cum"]),
    } for r in brackets_for(sym)]} for sym in symbols]


def ticker_24h(venue: Venue, market: str, symbol: str) -> dict:
    book = venue.books[(market, symbol)]
    st = book.stats(venue.now())
    places = INSTRUMENTS[market][symbol].price_precision if market == FUTURES else 8
    body = {
        "symbol": symbol, "priceChange": s(st["change"], places), "priceChangePercent": s(st["change_pct"], 3),
        "weightedAvgPrice": s((book.quote_volume / book.volume) if book.volume else st["last"], places),
        "lastPrice": s(st["last"], places), "lastQty": s(book.last_qty),
        "openPrice": s(st["open"], places), "highPrice": s(st["high"], places), "lowPrice": s(st["low"], places),
        "volume": s(book.volume), "quoteVolume": s(book.quote_volume),
        "openTime": st["open_time"], "closeTime": st["close_time"], "firstId": 0, "lastId": book.trade_count,
        "count": book.trade_count,
    }
    if market == SPOT:
        (bid, bid_qty), (ask, ask_qty) = book.best_bid, book.best_ask
        body.update({"prevClosePrice": s(st["open"]), "bidPrice": s(bid), "bidQty": s(bid_qty),
                     "askPrice": s(ask), "askQty": s(ask_qty)})
    return body


def book_ticker(venue: Venue, market: str, symbol: str) -> dict:
    book = venue.books[(market, symbol)]
    (bid, bid_qty), (ask, ask_qty) = book.best_bid, book.best_ask
    if market == SPOT:
        return {"symbol": symbol, "bidPrice": s(bid), "bidQty": s(bid_qty), "askPrice": s(ask), "askQty": s(ask_qty)}
    places = INSTRUMENTS[FUTURES][symbol].price_precision
    return {"symbol": symbol, "bidPrice": s(bid, places), "bidQty": s(bid_qty, 3), "askPrice": s(ask, places),
            "askQty": s(ask_qty, 3), "time": venue.now(), "lastUpdateId": book.update_id}


def depth(venue: Venue, market: str, symbol: str, limit: int) -> dict:
    book = venue.books[(market, symbol)]
    body = {"lastUpdateId": book.update_id,
            "bids": [[s(p), s(q)] for p, q in book.bids[:limit]], "asks": [[s(p), s(q)] for p, q in book.asks[:limit]]}
    if market == FUTURES:
        body.update({"E": venue.now(), "T": venue.now()})
    return body

