"""The instrument catalog: what each venue trades and its filters, filled by `sync_markets`."""
from django.db import models

from accounts.models import MONEY, Market


class Instrument(models.Model):
    exchange = models.CharField(max_length=32)
    market = models.CharField(max_length=16, choices=Market.choices)
    symbol = models.CharField(max_length=32, help_text="exchange-native symbol, e.g. BTCUSDT")
    ccxt_symbol = models.CharField(max_length=64, help_text="e.g. BTC/USDT or BTC/USDT:USDT")
    base = models.CharField(max_length=16)
    quote = models.CharField(max_length=16)
    tick_size = models.DecimalField(**MONEY)
    step_size = models.DecimalField(**MONEY)
    min_quantity = models.DecimalField(**MONEY, default=0)
    min_notional = models.DecimalField(**MONEY, default=0)
    contract_size = models.DecimalField(**MONEY, default=1)
    # The venue's own bounds (Binance filters; null when the venue publishes none): the limit price band around the
    # market price per side (spot PERCENT_PRICE_BY_SIDE; USD-M PERCENT_PRICE, the same both sides), the largest
    # order value of a LIMIT order (spot NOTIONAL maxNotional) and the open orders per symbol (MAX_NUM_ORDERS).
    bid_multiplier_up = models.DecimalField(**MONEY, null=True, blank=True)
    bid_multiplier_down = models.DecimalField(**MONEY, null=True, blank=True)
    ask_multiplier_up = models.DecimalField(**MONEY, null=True, blank=True)
    ask_multiplier_down = models.DecimalField(**MONEY, null=True, blank=True)
    max_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exchange", "market", "symbol"], name="uniq_instrument")]
        indexes = [models.Index(fields=["exchange", "market", "ccxt_symbol"], name="instrument_ccxt")]
        ordering = ["exchange", "market", "symbol"]

    def __str__(self) -> str:
        return f"{self.exchange} {self.market} {self.symbol}"
