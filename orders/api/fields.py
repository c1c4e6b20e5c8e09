from decimal import ROUND_HALF_EVEN, Decimal

from rest_framework import serializers

from accounts.models import MONEY
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
