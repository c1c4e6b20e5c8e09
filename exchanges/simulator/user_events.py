"""User-data stream events field for field as Binance documents them: spot `executionReport`,
`outboundAccountPosition`, `balanceUpdate`, `eventStreamTerminated`; USD-M `ORDER_TRADE_UPDATE`,
`ACCOUNT_UPDATE`, `listenKeyExpired`. Decimals travel as strings, times in ms."""
from decimal import Decimal

from .engine import FEES, Order, Trade, Venue
from .instruments import FUTURES
from .render import s
from .wallets import ZERO, Account

# ACCOUNT_UPDATE's reason `m` as Binance lists it for USD-M
ACCOUNT_REASONS = ("DEPOSIT", "WITHDRAW", "ORDER", "FUNDING_FEE", "WITHDRAW_REJECT", "ADJUSTMENT", "INSURANCE_CLEAR",
                   "ADMIN_DEPOSIT", "ADMIN_WITHDRAW", "MARGIN_TRANSFER", "MARGIN_TYPE_CHANGE", "ASSET_TRANSFER",
                   "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "AUTO_EXCHANGE", "COIN_SWAP_DEPOSIT",
                   "COIN_SWAP_WITHDRAW")


def execution_report(o: Order, exec_type: str, t: Trade | None, now: int, prevented=None) -> dict:
    """`prevented` (a matching.PreventedMatch): for TRADE_PREVENTION, the match that expired the order; its
    conditional fields follow Binance's list (v, A, B, U, Cs, pl, pL, pY; u -1: no trade group)."""
    report = {
        "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type,
        "f": o.tif, "q": s(o.orig_qty), "p": s(o.price), "P": s(o.stop_price), "F": s(ZERO), "g": -1,
        "C": o.client_order_id if exec_type == "CANCELED" else "", "x": exec_type, "X": o.status, "r": "NONE",
        "i": o.order_id, "l": s(t.qty if t else ZERO), "z": s(o.executed_qty), "L": s(t.price if t else ZERO),
        "n": s(t.commission if t else ZERO), "N": t.commission_asset if t else None, "T": o.update_time,
        "t": t.trade_id if t else -1, "I": 0, "w": o.is_open and not o.armed, "m": t.is_maker if t else False, "M": False,
        "O": o.time, "Z": s(o.cum_quote), "Y": s(t.price * t.qty if t else ZERO), "Q": s(o.orig_quote_qty),
        "W": -1 if o.armed else o.working_time or o.time, "V": o.stp_mode,
    }
    if prevented is not None:
        counter = prevented.maker_order_id if o.order_id == prevented.taker_order_id else prevented.taker_order_id
        would = min(q for q in (prevented.taker_prevented_qty, prevented.maker_prevented_qty, o.prevented_qty) if q is not None)
        report.update({"v": prevented.prevented_match_id, "A": s(o.prevented_qty), "B": s(o.prevented_qty), "u": -1,
                       "U": counter, "Cs": o.symbol, "pl": s(would), "pL": s(prevented.price),
                       "pY": s(would * prevented.price)})
    return report


def order_trade_update(o: Order, exec_type: str, t: Trade | None, now: int) -> dict:
    avg = (o.cum_quote / o.executed_qty) if o.executed_qty else ZERO
    return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": o.update_time, "o": {
        "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type, "f": o.tif, "q": s(o.orig_qty),
        "p": s(o.price), "ap": s(avg), "sp": "0", "x": exec_type, "X": o.status, "i": o.order_id,
        "l": s(t.qty if t else ZERO), "z": s(o.executed_qty), "L": s(t.price if t else ZERO),
        "n": s(t.commission if t else ZERO), "N": t.commission_asset if t else "USDT", "T": o.update_time,
        "t": t.trade_id if t else 0, "b": "0", "a": "0", "m": t.is_maker if t else False, "R": o.reduce_only,
        "wt": "CONTRACT_PRICE", "ot": o.type, "ps": "BOTH", "cp": False, "rp": s(t.realized_pnl if t else ZERO),
        "pP": False, "si": 0, "ss": 0, "V": o.stp_mode, "pm": "NONE", "gtd": 0,
    }}


def outbound_account_position(account: Account, assets: set[str], now: int) -> dict:
    """Sent after any balance change, with the assets the change may have touched."""
    rows = [{"a": a, "f": s(account.spot_row(a)[0]), "l": s(account.spot_row(a)[1])} for a in sorted(assets)]
    return {"e": "outboundAccountPosition", "E": now, "u": account.update_time, "B": rows}


def balance_update(asset: str, delta: Decimal, now: int) -> dict:
    """A deposit or withdrawal (not order-related): the signed change of the free balance."""
    return {"e": "balanceUpdate", "E": now, "a": asset, "d": s(delta), "T": now}


def account_update(venue: Venue, account: Account, reason: str, symbols: set[str], now: int,
                   changes: dict[str, Decimal] | None = None) -> dict:
    """USD-M balances (`B`: wallet, cross wallet, balance change except PnL and fees) and the positions of
    `symbols` (`P`, one-way, cross margin); only changed positions are sent, funding sends none."""
    changes = changes or {}
    balances = [{"a": a, "wb": s(account.wallet.get(a, ZERO)), "cw": s(account.wallet.get(a, ZERO)),
                 "bc": s(changes.get(a, ZERO))} for a in (sorted(changes) or ["USDT"])]
    positions = []
    for symbol in sorted(symbols):
        pos = account.position(symbol)
        mark = venue.books[(FUTURES, symbol)].mid
        taker = FEES[FUTURES][1]
        breakeven = pos.entry * (1 + taker) if pos.amt > 0 else pos.entry * (1 - taker) if pos.amt < 0 else ZERO
        positions.append({"s": symbol, "pa": s(pos.amt, 3), "ep": s(pos.entry), "bep": s(breakeven),
                          "cr": s(pos.realized), "up": s(pos.amt * (mark - pos.entry)), "mt": "cross", "iw": "0",
                          "ps": "BOTH", "ma": "USDT"})
    return {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {"m": reason, "B": balances, "P": positions}}


def listen_key_expired(listen_key: str, now: int) -> dict:
    # USD-M sends the event time as a string here, unlike every other event
    return {"e": "listenKeyExpired", "E": str(now), "listenKey": listen_key}


def event_stream_terminated(now: int) -> dict:
    return {"e": "eventStreamTerminated", "E": now}
