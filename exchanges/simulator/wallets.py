"""Trading keys and what each one holds: spot balances (free/locked), the futures wallet, one-way
positions and per-symbol leverage. Every key starts funded with the demo balances."""
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .instruments import DEFAULT_LEVERAGE

D = Decimal
DEMO_SPOT = {"USDT": D("100000"), "BTC": D("2"), "ETH": D("20"), "XRP": D("5000"), "SOL": D("50"), "BNB": D("10")}
DEMO_FUTURES = {"USDT": D("100000")}
DEMO_KEY, DEMO_SECRET = "demo", "demo"
ZERO = D("0")


@dataclass
class Position:
    amt: Decimal = ZERO
    entry: Decimal = ZERO
    update_time: int = 0
    realized: Decimal = ZERO  # accumulated realized PnL before fees (ACCOUNT_UPDATE's `cr`)


@dataclass
class Account:
    api_key: str
    secret: str
    created_ms: int
    spot: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]
    wallet: dict[str, Decimal] = field(default_factory=dict)  # futures wallet balance per asset
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    update_time: int = 0

    @classmethod
    def funded(cls, api_key: str, secret: str, now_ms: int) -> "Account":
        return cls(api_key, secret, now_ms, spot={a: [v, ZERO] for a, v in DEMO_SPOT.items()},
                   wallet=dict(DEMO_FUTURES), update_time=now_ms)

    def spot_row(self, asset: str) -> list[Decimal]:
        return self.spot.setdefault(asset, [ZERO, ZERO])

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position())

    def leverage_for(self, symbol: str) -> int:
        return self.leverage.get(symbol, DEFAULT_LEVERAGE)

    def state(self) -> dict:
        return {
            "api_key": self.api_key, "secret": self.secret, "created_ms": self.created_ms, "update_time": self.update_time,
            "spot": {a: [str(f), str(lk)] for a, (f, lk) in self.spot.items()},
            "wallet": {a: str(v) for a, v in self.wallet.items()},
            "positions": {s: [str(p.amt), str(p.entry), p.update_time, str(p.realized)] for s, p in self.positions.items()},
            "leverage": self.leverage,
        }

    @classmethod
    def from_state(cls, s: dict) -> "Account":
        return cls(s["api_key"], s["secret"], s["created_ms"], update_time=s["update_time"],
                   spot={a: [D(f), D(lk)] for a, (f, lk) in s["spot"].items()},
                   wallet={a: D(v) for a, v in s["wallet"].items()},
                   positions={k: Position(D(a), D(e), t, D(r[0]) if r else ZERO)
                              for k, (a, e, t, *r) in s["positions"].items()},
                   leverage=dict(s["leverage"]))


def parse_keys(text: str) -> dict[str, str]:
    """`key:secret` pairs separated by commas or newlines (a keys file holds one per line; # comments)."""
    keys = {}
    for raw in text.replace(",", "\n").splitlines():
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        key, sep, secret = item.partition(":")
        if not sep or not key.strip() or not secret.strip():
            raise ValueError("each key must be written as key:secret")
        keys[key.strip()] = secret.strip()
    return keys


def load_keys(path: str | None, env_value: str | None) -> dict[str, str]:
    keys = {}
    if path:
        keys.update(parse_keys(Path(path).read_text()))
    if env_value:
        keys.update(parse_keys(env_value))
    return keys
