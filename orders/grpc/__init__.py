"""The gRPC adapter: `oms.OrderService` over orders.services and the selectors (see server.py)."""
