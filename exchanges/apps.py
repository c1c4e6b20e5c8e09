from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self) -> None:
        from exchanges import ohlcv
        from infra import ports

        ports.provide_candles(ohlcv.candles_list)
