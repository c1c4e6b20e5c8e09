"""Binance's error answers: `{"code": <negative int>, "msg": <text>}` with the HTTP status Binance uses."""


class VenueError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400, headers: dict | None = None):
        super().__init__(msg)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers or {}

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> VenueError:
    return VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def side_of(params: dict) -> str:
    """An order's `side` as sent, refused as Binance refuses a missing (-1102) or unknown (-1117) one."""
    side = params.get("side")
    if not side:
        raise mandatory("side")
    if side not in ("BUY", "SELL"):
        raise VenueError(-1117, "Invalid side.")
    return side


def illegal_chars(name: str, legal: str) -> VenueError:
    return VenueError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def bad_symbol() -> VenueError:
    return VenueError(-1121, "Invalid symbol.")


def filter_failure(name: str) -> VenueError:
    return VenueError(-1013, f"Filter failure: {name}")


def insufficient_balance() -> VenueError:
    return VenueError(-2010, "Account has insufficient balance for requested action.")


def order_missing() -> VenueError:
    return VenueError(-2013, "Order does not exist.")


def unknown_order() -> VenueError:
    return VenueError(-2011, "Unknown order sent.")


def invalid_key() -> VenueError:
    return VenueError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
