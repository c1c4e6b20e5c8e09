"""Shared plumbing every process uses: the application error type, logs, metrics, Redis pub/sub, health, the
process supervisor, grpc.aio helpers, embedded servers. A plain package, not a Django app."""
