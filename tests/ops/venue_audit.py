"""Reading the local venue's audit trail in tests."""


def posts_of(venue, order_id: str) -> list[dict]:
    """Every order request the venue received for this client order id (one means: sent exactly once)."""
    return [r for r in venue.control.audit(order_id) if r["method"] == "POST" and r["path"] == "/api/v3/order"]
