"""Trading accounts, who may use them, their secrets, and the balances/positions synced from the venue."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from accounts import crypto

MONEY = {"max_digits": 38, "decimal_places": 18}


class Market(models.TextChoices):
    SPOT = "spot", "Spot"
    FUTURES = "futures", "USD-M futures"


class TradingState(models.TextChoices):
    """What new orders an account (or every account) may place. Cancels are always allowed."""

    ACTIVE = "ACTIVE", "Active: every order"
    REDUCING = "REDUCING", "Reducing: only orders that reduce a position or holding"
    HALTED = "HALTED", "Halted: no new orders"


TRADING_STATE_STRICTNESS = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class Account(models.Model):
    """One set of credentials on one venue. `name` is what clients send as account_id (e.g. "main")."""

    name = models.SlugField(max_length=64, unique=True)
    exchange = models.CharField(max_length=32, help_text="ccxt exchange id, e.g. binance")
    sandbox = models.BooleanField(default=False, help_text="use the venue's testnet/sandbox")
    base_url = models.URLField(blank=True, help_text="override the venue's API host (e.g. the local venue)")
    enabled = models.BooleanField(default=True, help_text="trading allowed")
    disabled_reason = models.TextField(blank=True, help_text="why trading was disabled (e.g. venue refused the API key)")
    trading_state = models.CharField(max_length=16, choices=TradingState.choices, default=TradingState.ACTIVE)
    trading_state_reason = models.TextField(blank=True)
    trading_state_at = models.DateTimeField(null=True, blank=True, help_text="when the trading state last changed")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("change_account_venue", "Can change an account's venue URL and sandbox flag"),
            ("set_trading_state", "Can set trading states (ACTIVE, REDUCING, HALTED), per account and global"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.exchange}{' sandbox' if self.sandbox else ''})"


class Credential(models.Model):
    """API key and secret, encrypted at rest. Plaintext is only ever produced by `decrypted()` (workers)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="credential")
    api_key_encrypted = models.TextField()
    secret_encrypted = models.TextField()
    passphrase_encrypted = models.TextField(blank=True)
    key_hint = models.CharField(max_length=16, blank=True, help_text="last characters of the API key, for recognition")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"credential for {self.account.name} (…{self.key_hint})"

    def __repr__(self) -> str:
        return f"<Credential account={self.account_id} key=…{self.key_hint}>"

    def set_secrets(self, *, api_key: str, secret: str, passphrase: str = "") -> None:
        self.api_key_encrypted = crypto.encrypt(api_key)
        self.secret_encrypted = crypto.encrypt(secret)
        self.passphrase_encrypted = crypto.encrypt(passphrase) if passphrase else ""
        self.key_hint = api_key[-4:]

    def decrypted(self) -> dict[str, str]:
        out = {"apiKey": crypto.decrypt(self.api_key_encrypted), "secret": crypto.decrypt(self.secret_encrypted)}
        if self.passphrase_encrypted:
            out["password"] = crypto.decrypt(self.passphrase_encrypted)
        return out


class AccountMember(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        TRADER = "trader", "Trader"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="uniq_member_user_account")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} on {self.account.name}"


class ApiToken(models.Model):
    """Bearer token for gRPC and REST. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="first characters, to recognise a token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="refused from this time on; empty: no expiry")

    class Meta:
        permissions = [
            ("issue_token_for_others", "Can create API tokens for other users"),
        ]

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Balance(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="balances")
    market = models.CharField(max_length=16, choices=Market.choices)
    asset = models.CharField(max_length=32)
    free = models.DecimalField(**MONEY, default=0)
    locked = models.DecimalField(**MONEY, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "market", "asset"], name="uniq_balance")]
        ordering = ["account", "market", "asset"]

    @property
    def total(self):
        return self.free + self.locked

    def __str__(self) -> str:
        return f"{self.account.name} {self.market} {self.asset} {self.free}+{self.locked}"


class Position(models.Model):
    """A futures position (one-way mode: one row per account and symbol)."""

    class Side(models.TextChoices):
        LONG = "LONG", "Long"
        SHORT = "SHORT", "Short"
        FLAT = "FLAT", "Flat"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="positions")
    market = models.CharField(max_length=16, choices=Market.choices, default=Market.FUTURES)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=8, choices=Side.choices, default=Side.FLAT)
    size = models.DecimalField(**MONEY, default=0)
    entry_price = models.DecimalField(**MONEY, default=0)
    mark_price = models.DecimalField(**MONEY, default=0)
    unrealized_pnl = models.DecimalField(**MONEY, default=0)
    leverage = models.PositiveIntegerField(default=1)
    margin = models.DecimalField(**MONEY, default=0)
    liquidation_price = models.DecimalField(**MONEY, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "market", "symbol"], name="uniq_position")]
        ordering = ["account", "symbol"]

    def __str__(self) -> str:
        return f"{self.account.name} {self.symbol} {self.side} {self.size}"


class RiskLimit(models.Model):
    """Per-account pre-trade limits; a null field means "no limit"."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="risk_limit")
    max_order_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    max_position_notional = models.DecimalField(**MONEY, null=True, blank=True)
    allowed_symbols = models.JSONField(default=list, blank=True, help_text="empty = every symbol")
    price_band_pct = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True,
                                         help_text="limit price must be within this % of the last price")
    max_daily_loss = models.DecimalField(**MONEY, null=True, blank=True,
                                         help_text="in quote: when today's (UTC) realized PnL after fees and funding "
                                                   "falls below minus this, the account moves to REDUCING")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"risk limits for {self.account.name}"


class TradingSwitch(models.Model):
    """The global kill switch and the global trading state (a single row, pk=1). `updated_at`/`updated_by` are
    the kill switch's; the trading state keeps its own time (who changed it is under Control changes)."""

    kill_switch = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trading_state = models.CharField(max_length=16, choices=TradingState.choices, default=TradingState.ACTIVE)
    trading_state_reason = models.TextField(blank=True)
    trading_state_at = models.DateTimeField(null=True, blank=True, help_text="when the trading state last changed")

    @classmethod
    def current(cls) -> TradingSwitch:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def __str__(self) -> str:
        return "kill switch ON" if self.kill_switch else "trading allowed"


class ControlChange(models.Model):
    """Audit of every change to risk limits, the kill switch, trading states and account enablement: who, when,
    what."""

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="control_changes")
    what = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["-at"], name="ctrl_change_at")]

