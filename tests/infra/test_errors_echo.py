"""infra.errors.echo: how refusal messages quote a caller's value."""
from infra.errors import ECHO_LIMIT, echo


def test_a_short_value_is_quoted_whole():
    assert echo("BTC/USDX") == "'BTC/USDX'"
    assert echo("BTC/USDX", quote=False) == "BTC/USDX"
    assert echo(12.5) == "12.5"


def test_a_long_value_is_cut_to_its_start_and_says_how_long_it_was():
    shown = echo("x" * 10240)
    assert shown == repr("x" * ECHO_LIMIT) + "… (10240 characters)"
    assert echo("1" * 10240, quote=False).startswith("1" * ECHO_LIMIT + "…")
    assert len(echo("é" * 10240)) < 100 and len(echo(10**400)) < 100  # non-strings are cut too
