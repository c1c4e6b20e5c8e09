"""Fidelity: real Binance answers, recorded in ccxt's test data (`binance_recorded.json` names the repository, path
and commit), compared key by key and type by type with the venue's answer to the same request about the same kind
of object (an order like it, a trade, the account), asked through ccxt.

`test_response_shapes` checks that every field ccxt's parser reads is there; this module checks the venue's
answers against what Binance really sends, keys it does not read included. Values are not compared (other
orders, other prices); types are, by kind: a decimal string, another string, an integer, a boolean, a list, an
object. Nested objects are compared the same way, and a list's items against the recording's first item.

ccxt stores most integers of its recordings as strings (`"orderId": "9780331417"`, `"time": "1679571174472"`), where
Binance sends numbers (its documentation, and the recordings that kept them: `"orderId": 4087922044`,
`"updateTime": 1739781831932`): a recorded string of digits against a venue integer is that convention, not a
difference. Every other difference must be listed in KNOWN with its reason, and every listed one must still occur
(a fixed divergence leaves the list)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .helpers import hold_price

RECORDED = json.loads((Path(__file__).parent / "binance_recorded.json").read_text())
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
INTEGER_STRING = re.compile(r"^-?[0-9]+$")

NOT_MODELLED_V2 = "GET /fapi/v2/account fields the venue does not render: ccxt reads /fapi/v3/account (v2 is the older " \
                  "version; the OMS never calls it)"
KNOWN: dict[str, dict[str, str]] = {
    "spot_new_order_full": {
        "missing icebergQty": "the recorded order set an iceberg quantity, which Binance echoes only then; the venue "
                              "models no iceberg orders",
    },
    "spot_new_order_result": {
        "missing icebergQty": "as for FULL (the RESULT answer is FULL without `fills`)",
    },
    "futures_account_v2": {
        **{f"missing {key}": NOT_MODELLED_V2 for key in ("feeTier", "canTrade", "canDeposit", "canWithdraw",
                                                         "tradeGroupId", "updateTime", "multiAssetsMargin")},
        "missing assets[].marginAvailable": NOT_MODELLED_V2,
    },
}


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "decimal" if DECIMAL.match(value) else "str"
    return "list" if isinstance(value, list) else "object"


def differences(recorded, venue, path: str = "") -> set[str]:
    """What differs between a recorded answer and the venue's, key by key and type by type."""
    found: set[str] = set()
    if isinstance(recorded, dict) and isinstance(venue, dict):
        for key in recorded.keys() - venue.keys():
            found.add(f"missing {path}{key}")
        for key in venue.keys() - recorded.keys():
            found.add(f"extra {path}{key}")
        for key in recorded.keys() & venue.keys():
            found |= differences(recorded[key], venue[key], f"{path}{key}")
        return found
    if isinstance(recorded, list) and isinstance(venue, list):
        if recorded and venue:
            for item in venue:
                found |= differences(recorded[0], item, f"{path}[].")
        return found
    recorded_kind, venue_kind = kind(recorded), kind(venue)
    if recorded_kind == venue_kind:
        return found
    if recorded_kind == "decimal" and venue_kind == "int" and INTEGER_STRING.match(recorded):
        return found  # ccxt's recordings keep integers as strings
    found.add(f"type {path.rstrip('.')}: recorded {recorded_kind} {recorded!r}, venue {venue_kind} {venue!r}")
    return found


def recorded(name: str):
    return RECORDED["responses"][name.replace("_result", "_full")]["body"]


@pytest.fixture
def answers(venue_exchange, venue) -> dict:
    """The venue's answer to each recorded request, about objects like the recorded ones."""
    ex = venue_exchange
    hold_price(venue, "SOLUSDT", 240)
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    out = {}
    out["spot_new_order_full"] = ex.privatePostOrder({"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT",
                                                      "timeInForce": "GTC", "quantity": "0.05", "price": "200",
                                                      "newOrderRespType": "FULL"})
    out["spot_new_order_result"] = ex.privatePostOrder({"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "0.05", "price": "201",
                                                        "newOrderRespType": "RESULT"})
    sold = ex.privatePostOrder({"symbol": "SOLUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.1"})
    out["spot_get_order"] = ex.privateGetOrder({"symbol": "SOLUSDT", "orderId": sold["orderId"]})
    out["spot_open_order"] = ex.privateGetOpenOrders({"symbol": "SOLUSDT"})[0]
    out["spot_my_trade"] = ex.privateGetMyTrades({"symbol": "SOLUSDT"})[0]
    out["spot_account"] = ex.privateGetAccount()
    out["futures_new_order"] = ex.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "0.2", "price": "104001",
                                                        "newOrderRespType": "RESULT"})
    out["futures_get_order"] = ex.fapiPrivateGetOrder({"symbol": "BTCUSDT",
                                                       "orderId": out["futures_new_order"]["orderId"]})
    ex.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.009",
                             "newOrderRespType": "RESULT"})
    out["futures_user_trade"] = ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})[0]
    out["position_risk"] = ex.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})[0]
    out["futures_account_v3"] = ex.fapiPrivateV3GetAccount()
    out["futures_account_v2"] = ex.fapiPrivateV2GetAccount()
    venue.control.settle_funding()
    out["income_funding_fee"] = ex.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})[0]
    return out


NAMES = ["spot_new_order_full", "spot_new_order_result", "spot_get_order", "spot_open_order", "spot_my_trade",
         "spot_account", "futures_new_order", "futures_get_order", "futures_user_trade", "position_risk",
         "futures_account_v3", "futures_account_v2", "income_funding_fee"]


def test_every_recording_is_compared():
    assert {n.replace("_result", "_full") for n in NAMES} == set(RECORDED["responses"])
    assert RECORDED["source"]["path"] == "ts/src/test/static/response/binance.json"
    assert re.fullmatch(r"[0-9a-f]{40}", RECORDED["source"]["commit"])


def test_the_venue_answers_as_binance_key_by_key_and_type_by_type(answers):
    found = {name: differences(recorded(name) if name != "spot_new_order_result" else
                               {k: v for k, v in recorded(name).items() if k != "fills"}, answers[name])
             for name in NAMES}

    unlisted = {name: sorted(diff - KNOWN.get(name, {}).keys()) for name, diff in found.items()}
    gone = {name: sorted(KNOWN.get(name, {}).keys() - diff) for name, diff in found.items()}
    assert not any(unlisted.values()), f"differences not listed in KNOWN: {unlisted}"
    assert not any(gone.values()), f"listed in KNOWN but no longer different (remove them): {gone}"


def test_the_comparison_sees_a_missing_key_an_extra_key_and_a_changed_type():
    recorded_body = {"orderId": "1", "price": "1.0", "fills": [{"qty": "1.0"}], "isWorking": True}
    venue_body = {"orderId": 1, "price": 1.0, "fills": [{"qty": "1.0", "extra": 0}], "time": 1}

    assert differences(recorded_body, venue_body) == {
        "missing isWorking", "extra time", "extra fills[].extra", "type price: recorded decimal '1.0', venue float 1.0"}
