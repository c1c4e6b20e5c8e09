"""Fixtures: the fields ccxt's binance parser reads from each venue answer, with Binance's types.

Type codes: "dec" a decimal in a string (no exponent), "int" an integer, "ms" a millisecond timestamp,
"str" a string, "bool" a boolean, "num" an int or float; a dict is a nested object, a one-item list
a list of that shape (checked for every item)."""

SPOT_ORDER = {
    "symbol": "str", "orderId": "int", "orderListId": "int", "clientOrderId": "str", "price": "dec",
    "origQty": "dec", "executedQty": "dec", "cummulativeQuoteQty": "dec", "status": "str", "timeInForce": "str",
    "type": "str", "side": "str", "stopPrice": "dec", "time": "ms", "updateTime": "ms", "isWorking": "bool",
    "workingTime": "ms", "origQuoteOrderQty": "dec",
}
SPOT_NEW_ORDER_FULL = {
    "symbol": "str", "orderId": "int", "orderListId": "int", "clientOrderId": "str", "transactTime": "ms",
    "price": "dec", "origQty": "dec", "executedQty": "dec", "cummulativeQuoteQty": "dec", "status": "str",
    "timeInForce": "str", "type": "str", "side": "str", "workingTime": "ms",
    "fills": [{"price": "dec", "qty": "dec", "commission": "dec", "commissionAsset": "str", "tradeId": "int"}],
}
SPOT_CANCEL = {
    "symbol": "str", "origClientOrderId": "str", "orderId": "int", "orderListId": "int", "clientOrderId": "str",
    "transactTime": "ms", "price": "dec", "origQty": "dec", "executedQty": "dec", "cummulativeQuoteQty": "dec",
    "status": "str", "timeInForce": "str", "type": "str", "side": "str",
}
SPOT_TRADE = {
    "symbol": "str", "id": "int", "orderId": "int", "orderListId": "int", "price": "dec", "qty": "dec",
    "quoteQty": "dec", "commission": "dec", "commissionAsset": "str", "time": "ms", "isBuyer": "bool",
    "isMaker": "bool", "isBestMatch": "bool",
}
SPOT_ACCOUNT = {
    "makerCommission": "int", "takerCommission": "int", "canTrade": "bool", "updateTime": "ms", "accountType": "str",
    "commissionRates": {"maker": "dec", "taker": "dec"},
    "balances": [{"asset": "str", "free": "dec", "locked": "dec"}],
}
FUTURES_ORDER = {  # a query's answer (GET order, openOrders, allOrders)
    "orderId": "int", "symbol": "str", "status": "str", "clientOrderId": "str", "price": "dec", "avgPrice": "dec",
    "origQty": "dec", "executedQty": "dec", "cumQuote": "dec", "timeInForce": "str", "type": "str",
    "reduceOnly": "bool", "closePosition": "bool", "side": "str", "positionSide": "str", "stopPrice": "dec",
    "workingType": "str", "priceProtect": "bool", "origType": "str", "time": "ms", "updateTime": "ms",
}
FUTURES_NEW_ORDER = {**{k: v for k, v in FUTURES_ORDER.items() if k != "time"}, "cumQty": "dec"}  # POST and DELETE
FUTURES_TRADE = {
    "buyer": "bool", "commission": "dec", "commissionAsset": "str", "id": "int", "maker": "bool", "orderId": "int",
    "price": "dec", "qty": "dec", "quoteQty": "dec", "realizedPnl": "dec", "marginAsset": "str", "side": "str",
    "positionSide": "str", "symbol": "str", "time": "ms",
}
FUTURES_ACCOUNT = {
    "totalInitialMargin": "dec", "totalMaintMargin": "dec", "totalWalletBalance": "dec",
    "totalUnrealizedProfit": "dec", "totalMarginBalance": "dec", "availableBalance": "dec",
    "maxWithdrawAmount": "dec",
    "assets": [{"asset": "str", "walletBalance": "dec", "unrealizedProfit": "dec", "marginBalance": "dec",
                "maintMargin": "dec", "initialMargin": "dec", "positionInitialMargin": "dec",
                "openOrderInitialMargin": "dec", "availableBalance": "dec", "maxWithdrawAmount": "dec",
                "updateTime": "ms"}],
    "positions": [{"symbol": "str", "positionSide": "str", "positionAmt": "dec", "unrealizedProfit": "dec",
                   "notional": "dec", "initialMargin": "dec", "maintMargin": "dec", "updateTime": "ms"}],
}
POSITION_RISK = {
    "symbol": "str", "positionSide": "str", "positionAmt": "dec", "entryPrice": "dec", "breakEvenPrice": "dec",
    "markPrice": "dec", "unRealizedProfit": "dec", "liquidationPrice": "dec", "isolatedMargin": "dec",
    "notional": "dec", "marginAsset": "str", "isolatedWallet": "dec", "initialMargin": "dec", "maintMargin": "dec",
    "positionInitialMargin": "dec", "openOrderInitialMargin": "dec", "updateTime": "ms",
}
LEVERAGE_BRACKET = {"symbol": "str", "brackets": [{"bracket": "int", "initialLeverage": "int", "notionalCap": "num",
                                                     "notionalFloor": "num", "maintMarginRatio": "num", "cum": "num"}]}
LEVERAGE = {"leverage": "int", "maxNotionalValue": "dec", "symbol": "str"}
SPOT_TICKER = {
    "symbol": "str", "priceChange": "dec", "priceChangePercent": "dec", "weightedAvgPrice": "dec",
    "prevClosePrice": "dec", "lastPrice": "dec", "lastQty": "dec", "bidPrice": "dec", "bidQty": "dec",
    "askPrice": "dec", "askQty": "dec", "openPrice": "dec", "highPrice": "dec", "lowPrice": "dec", "volume": "dec",
    "quoteVolume": "dec", "openTime": "ms", "closeTime": "ms", "firstId": "int", "lastId": "int", "count": "int",
}
FUTURES_TICKER = {k: v for k, v in SPOT_TICKER.items()
                  if k not in ("prevClosePrice", "bidPrice", "bidQty", "askPrice", "askQty")}
SPOT_BOOK_TICKER = {"symbol": "str", "bidPrice": "dec", "bidQty": "dec", "askPrice": "dec", "askQty": "dec"}
FUTURES_BOOK_TICKER = {**SPOT_BOOK_TICKER, "time": "ms", "lastUpdateId": "int"}
DEPTH = {"lastUpdateId": "int", "bids": "levels", "asks": "levels"}
SPOT_FILTERS = {
    "PRICE_FILTER": {"minPrice": "dec", "maxPrice": "dec", "tickSize": "dec"},
    "LOT_SIZE": {"minQty": "dec", "maxQty": "dec", "stepSize": "dec"},
    "MARKET_LOT_SIZE": {"minQty": "dec", "maxQty": "dec", "stepSize": "dec"},
    "NOTIONAL": {"minNotional": "dec", "maxNotional": "dec"},
}
FUTURES_FILTERS = {**{k: v for k, v in SPOT_FILTERS.items() if k != "NOTIONAL"}, "MIN_NOTIONAL": {"notional": "dec"}}
SPOT_SYMBOL = {
    "symbol": "str", "status": "str", "baseAsset": "str", "quoteAsset": "str", "baseAssetPrecision": "int",
    "quotePrecision": "int", "quoteAssetPrecision": "int", "orderTypes": ["str"], "isSpotTradingAllowed": "bool",
    "isMarginTradingAllowed": "bool", "quoteOrderQtyMarketAllowed": "bool", "permissionSets": [["str"]],
}
FUTURES_SYMBOL = {
    "symbol": "str", "pair": "str", "contractType": "str", "deliveryDate": "int", "onboardDate": "int",
    "status": "str", "baseAsset": "str", "quoteAsset": "str", "marginAsset": "str", "pricePrecision": "int",
    "quantityPrecision": "int", "orderTypes": ["str"], "timeInForce": ["str"],
}
EXCHANGE_INFO = {"timezone": "str", "serverTime": "ms", "rateLimits": [{"rateLimitType": "str", "interval": "str",
                                                                       "intervalNum": "int", "limit": "int"}]}
