"""Python SDK and CLI for the OMS gRPC API (oms_client.py)."""
