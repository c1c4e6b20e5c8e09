"""Each instrument's step (quantity) and tick (price), for showing numbers as people read them (the admin).
One query for the whole catalog (hundreds of rows): a page asks once, not once per row. No ccxt here."""
from __future__ import annotations

from decimal import Decimal

from exchanges.models import Instrument

Increments = dict[tuple[str, str, str], tuple[Decimal, Decimal]]


def increments() -> Increments:
    """(exchange, market, symbol) -> (step size, tick size)."""
    return {(e, m, s): (step, tick) for e, m, s, step, tick in
            Instrument.objects.values_list("exchange", "market", "symbol", "step_size", "tick_size")}
