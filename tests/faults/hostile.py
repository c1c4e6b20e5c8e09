"""Hostile request values for the gRPC fuzz runs, and what a clean refusal of them looks like."""
from __future__ import annotations

import math

import grpc
from hypothesis import strategies as st

CLEAN_REFUSALS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                  grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                  grpc.StatusCode.ALREADY_EXISTS}
# A refusal quotes at most infra.errors.ECHO_LIMIT characters of any value: a 10 KB field never
# comes back whole (the longest fixed text, a list of known symbols, is well under this).
MAX_DETAILS = 600

HOSTILE_TEXT = ["", " ", "x" * 10240, "'; DROP TABLE orders_order; --", "\" OR 1=1 --", "$(rm -rf /)", "`id`",
                "a|b&&c;d", "../../etc/passwd", "%s%n%x", "{{7*7}}", "<script>alert(1)</script>", "\x00", "\n\r\t",
                "ünïcødé ✓ 💥", "Ⅻ١٢٣", "\u202e\u200b", "null", "None", "-1", "é" * 10240, "1e308", "NaN"]
HOSTILE_NUMBERS = [math.nan, math.inf, -math.inf, -1.0, -0.0, 0.0, 1e308, 1e-30, 5e-324, 1.7976931348623157e308,
                   0.01, 20000.0, 0.1 + 0.2]
HOSTILE_DECIMALS = ["", "NaN", "nan", "Infinity", "-inf", "-0.01", "0", "0E-50", "1e308", "1E+400", "1e-30",
                    "0.01", "20000", "1" * 10240, "0x10", "1_000", "١٢", " 0.01 ", "0.01; DROP TABLE x", "1/3",
                    "sNaN", "--1", "+0.01"]
HOSTILE_INTS = [0, 1, -1, 2, 99, 100, 1000, 1001, 2**31 - 1, -(2**31)]
HOSTILE_INT64 = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)]


def text(valid: list[str]):
    """A valid value, a hostile one, or any text at all (no surrogates: protobuf strings are UTF-8)."""
    plain = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
    return st.one_of(st.sampled_from(valid), st.sampled_from(HOSTILE_TEXT), plain)


def requests(message, valid: dict, hostile: dict, *, max_fields: int = 4):
    """`message`s built from a valid request with up to `max_fields` of its fields replaced by hostile values
    (so valid requests stay common enough for the accepted path to be checked too)."""
    @st.composite
    def build(draw):
        fields = dict(valid)
        for name in sorted(draw(st.sets(st.sampled_from(sorted(hostile)), max_size=max_fields))):
            fields[name] = draw(hostile[name])
        return message(**fields)
    return build()


def assert_clean_refusal(refused: grpc.RpcError) -> None:
    """A status a client can act on, with a short human message and no stack trace."""
    assert refused.code() in CLEAN_REFUSALS, (refused.code(), (refused.details() or "")[:300])
    details = refused.details()
    assert details and "Traceback" not in details, details
    assert len(details) <= MAX_DETAILS, (len(details), details[:300])
