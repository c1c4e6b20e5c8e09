"""A local Binance-compatible venue: the part of Binance's spot (/api/v3) and USD-M futures (/fapi)
REST API that ccxt's `binance` class uses, with HMAC signing, Binance filters and error codes, a
seeded random-walk market, order matching, balances, positions, rate limits and fault injection.

State lives in memory (optionally snapshotted to a file); nothing here touches the Django ORM."""
