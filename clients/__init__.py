"""Client libraries for the OMS gRPC API."""
