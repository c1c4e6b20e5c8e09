from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from accounts.models import MONEY
from infra.commands import duration_seconds
from orders.validation import DECIMAL_TEXT_RULE, decimal_from_text


class Money(serializers.DecimalField):
    """An exact decimal string without trailing zeros ("0.1", not "0.100000000000000000")."""

    default_error_messages = {"invalid": DECIMAL_TEXT_RULE}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY["max_digits"])
        kwargs.setdefault("decimal_places", MONEY["decimal_places"])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) <= self.MAX_STRING_LENGTH and decimal_from_text(data) is None:
            self.fail("invalid")  # other scripts' digits, underscores, exponents: not an exact decimal string
        super().to_internal_value(data)  # the checks (a finite number within the digits); keep the value as sent
        return Decimal(data.strip()) if isinstance(data, str) else Decimal(repr(data) if isinstance(data, float) else data)

    def to_representation(self, value):
        if value is None:
            return None
        # Products (price × quantity) carry more places than the ledger keeps: round to them.
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_HALF_EVEN)
        return "0" if value == 0 else format(value.normalize(), "f")


class TimeOrDuration(serializers.CharField):
    """A time in UTC: ISO 8601 (UTC when it has no offset) or a duration back from now (90m, 24h, 7d, 2w), as the
    operations commands read --since."""

    RULE = "must be an ISO 8601 time (2026-12-07T00:00:00Z) or a duration back from now like 90m, 24h, 7d or 2w"
    MAX_OFFSET = timedelta(hours=14)

    def to_internal_value(self, data) -> datetime:
        text = super().to_internal_value(data)
        seconds = duration_seconds(text)
        try:
            if seconds is not None:
                return timezone.now() - timedelta(seconds=seconds)
            parsed = parse_datetime(text)
            if parsed is None or (parsed.utcoffset() is not None and abs(parsed.utcoffset()) > self.MAX_OFFSET):
                raise ValueError
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (ValueError, OverflowError):  # impossible dates (a 31st of February), years past 9999
            raise serializers.ValidationError(f"{self.RULE}, not {text[:64]!r}") from None
