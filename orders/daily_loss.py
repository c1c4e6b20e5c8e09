"""The daily realized-loss limit (RiskLimit.max_daily_loss): once an account's net realized PnL since the start of the
UTC day (fills' realized PnL − fees + funding, `orders.selectors_pnl.realized_since`) is below −max_daily_loss, the
account moves to REDUCING, recorded with both numbers. Nothing moves it back: an operator does, and while the loss
stands the next fill moves it again (raise the limit, or wait for the next UTC day).

Checked after each recorded fill and funding payment commits (orders.services), so the fold it reads is complete."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from accounts.models import RiskLimit, TradingState
from accounts.services import trading_state_set
from orders.selectors_pnl import realized_since
from orders.validation import num

log = logging.getLogger(__name__)


def start_of_day_utc(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def daily_loss_check(account_id: int) -> bool:
    """Move the account to REDUCING if today's loss passed its limit; True when it did."""
    limit = (RiskLimit.objects.select_related("account").filter(account_id=account_id, max_daily_loss__isnull=False)
             .first())
    if limit is None or limit.max_daily_loss is None or limit.account.trading_state != TradingState.ACTIVE:
        return False  # no limit, or already REDUCING/HALTED: nothing to tighten
    net = realized_since(account=limit.account, since=start_of_day_utc())
    if net >= -limit.max_daily_loss:
        return False
    reason = (f"daily loss limit: realized PnL today (UTC, after fees and funding) is {num(net)}, below "
              f"-{num(limit.max_daily_loss)} (max_daily_loss {num(limit.max_daily_loss)})")
    row = trading_state_set(account=limit.account.name, state=TradingState.REDUCING, reason=reason, tighten_only=True)
    log.warning("account %s moved to REDUCING: %s", limit.account.name, reason)
    return row.trading_state == TradingState.REDUCING
