"""The REST API (/api/v1/): thin DRF adapters over orders/accounts services and selectors."""
