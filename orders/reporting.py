"""Read-side figures for dashboards (REST summary, admin): derived from the ledger, never stored."""
from __future__ import annotations

from datetime import UTC, datetime, time

from django.db.models import Case, DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, When
from django.utils import timezone

from accounts.models import MONEY, Account, AccountMember, Balance, Credential, Position
from accounts.selectors import accounts_for_user
from orders.models import OPEN_STATUSES, Fill, Order

_MONEY = DecimalField(**MONEY)


def accounts_with_role(*, user) -> QuerySet[Account]:
    """The accounts the user may see, each with the user's `role` and whether credentials are set."""
    role = AccountMember.objects.filter(account=OuterRef("pk"), user=user).values("role")[:1]
    return (Account.objects.filter(pk__in=accounts_for_user(user).values("pk"))
            .annotate(role=Subquery(role), credentials_set=Exists(Credential.objects.filter(account=OuterRef("pk")))))


def dashboard_summary(*, user, now: datetime | None = None) -> dict:
    accounts = accounts_for_user(user)
    day_start = datetime.combine((now or timezone.now()).astimezone(UTC).date(), time.min, tzinfo=UTC)
    fills_today = Fill.objects.filter(account__in=accounts, executed_at__gte=day_start)
    positions = Position.objects.filter(account__in=accounts).exclude(size=0)
    signed_notional = Case(When(side=Position.Side.SHORT, then=-F("size") * F("mark_price")),
                           default=F("size") * F("mark_price"), output_field=_MONEY)
    return {
        "open_orders": Order.objects.filter(account__in=accounts, status__in=OPEN_STATUSES).count(),
        "filled_notional_today": list(
            fills_today.values("symbol")
            .annotate(notional=Sum(F("price") * F("quantity"), output_field=_MONEY)).order_by("symbol")),
        "fees_today": list(
            fills_today.exclude(fee=0).values(asset=F("fee_asset")).annotate(amount=Sum("fee")).order_by("asset")),
        "balance_exposure": list(
            Balance.objects.filter(account__in=accounts).values("asset")
            .annotate(amount=Sum(F("free") + F("locked"), output_field=_MONEY)).exclude(amount=0).order_by("asset")),
        "position_exposure": list(
            positions.values("symbol").annotate(notional=Sum(signed_notional)).order_by("symbol")),
        "unrealized_pnl": list(
            positions.values(account_name=F("account__name")).annotate(unrealized_pnl=Sum("unrealized_pnl"))
            .order_by("account_name")),
    }
