"""REST endpoints. Viewsets declare queryset (from selectors, scoped to the caller), serializer and
filterset; write actions parse input, call one service, render the result."""
from __future__ import annotations

from functools import partial

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.models import Balance
from accounts.selectors import accounts_for_user, trading_states
from exchanges.models import Instrument
from infra import ports, pubsub
from infra.errors import InvalidInput, ServiceError
from orders import batches, reporting, selectors_portfolio, services
from orders.api import filters, idempotency
from orders.api import serializers as s
from orders.api.errors import refusal_item, validation_refusal
from orders.models import Fill, FundingPayment, Order, Status
from orders.selectors import order_list
from orders.venue_wait import amend_answered, order_answered, orders_answered
from venues.symbols import symbol_normalize


class ScopedViewSet(viewsets.GenericViewSet):
    """Shared behaviour: `scoped_queryset(user)` returns only what the caller's memberships allow, so a
    foreign id is simply not found. Schema generation (no real user) gets an empty queryset."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.scoped_queryset(self.request.user)

    def scoped_queryset(self, user):
        raise NotImplementedError

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="List orders", description="Newest first. `search` matches an order id, client order id "
                                                          "or exchange order id exactly."),
    retrieve=extend_schema(summary="One order with its fills and event history", responses=s.OrderDetailSerializer),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Order
    serializer_class = s.OrderSerializer
    filterset_class = filters.OrderFilter
    search_fields = ["=id", "=client_order_id", "=exchange_order_id"]
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")  # as the selector and ListOrders: a total order, so pages are stable

    def list(self, request, *args, **kwargs):
        # The paginated OrderSerializer list, rendered from values() rows (see serializers.order_rows).
        queryset = self.filter_queryset(self.get_queryset()).values(*s.order_row_columns())
        return self.get_paginated_response(s.order_rows(self.paginate_queryset(queryset)))

    def scoped_queryset(self, user):
        queryset = order_list(user=user).select_related("account")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("fills", Fill.objects.select_related("account", "order")), "events")
        return queryset

    def get_serializer_class(self):
        return s.OrderDetailSerializer if self.action == "retrieve" else s.OrderSerializer

    @extend_schema(
        summary="Place an order",
        description="Answers with the venue's outcome (NEW, FILLED, REJECTED...) when it comes within a few "
                    "seconds, else with PENDING_NEW: look the order up rather than placing it again.",
        request=s.OrderPlaceInput,
        responses={201: s.OrderSerializer},
        parameters=[OpenApiParameter(idempotency.HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="retries with the same key return the first result; "
                                                 "another body with the same key is 409")],
    )
    def create(self, request):
        data = dict(self.validated(s.OrderPlaceInput))
        data["exchange"] = data["exchange"] or None
        place = partial(services.order_place, **data, user=request.user, source="api")
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            order, replayed = place(), False
        else:
            order, replayed = idempotency.place_once(user=request.user, key=key, data=data, place=place)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        order = order_answered(order, pending=Status.PENDING_NEW)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(summary="Request cancellation", request=None, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = services.order_cancel(order_id=self.get_object().pk, user=request.user, source="api")
        return Response(s.OrderSerializer(order_answered(order, pending=Status.PENDING_CANCEL)).data)

    @extend_schema(
        summary="Amend an order's price and/or quantity",
        description="A working LIMIT order keeps its id, client order id and (for these venues) exchange order id. "
                    "USD-M: a new price and/or quantity. Spot: a quantity decrease only (the venue keeps the order and "
                    "its queue place only then); a new spot price needs a cancel and a new order. Checked as a "
                    "placement is (tick, step, minimums, price band, risk); the new quantity must exceed what already "
                    "filled. Answers once the venue confirmed or refused (event AMENDED or AMEND_REFUSED), or with "
                    "amend_pending true when that takes longer. 400 names the field; 409 for an order that is not "
                    "a working LIMIT order or has an amend on its way.",
        request=s.OrderAmendInput, responses={200: s.OrderAmendResultSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        order = services.order_amend(order_id=self.get_object().pk, **self.validated(s.OrderAmendInput),
                                     user=request.user, source="api")
        answered = amend_answered(order)
        return Response(s.OrderAmendResultSerializer(
            {"order": answered, "amend_pending": answered.amend_request is not None}).data)

    @extend_schema(summary="Cancel every open order of an account and/or symbol", request=s.OrderCancelAllInput,
                   responses={200: s.CancelAllResultSerializer})
    @action(detail=False, methods=["post"], url_path="cancel-all", filterset_class=None, pagination_class=None)
    def cancel_all(self, request):
        orders = services.order_cancel_all(**self.validated(s.OrderCancelAllInput), user=request.user, source="api")
        return Response({"orders": s.OrderSerializer(orders, many=True).data})

    @extend_schema(
        summary="Place up to 50 orders, each on its own",
        description="Each order is read, validated, risk-checked and placed as POST /orders/ would (one refused order "
                    "does not sink the others); each result carries the order or the error and HTTP status the single "
                    "call would have answered. 200 when every order was placed, 207 when some were refused; an empty "
                    "batch or one of more than 50 is refused whole (400, field `orders`) and places nothing. A "
                    "client_order_id repeated within the batch is refused for the later order. Retries are made safe "
                    "by each order's client_order_id; an Idempotency-Key header is refused (400).",
        request=s.OrderBatchInput, responses={200: s.BatchResultSerializer, 207: s.BatchResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="batch", filterset_class=None, pagination_class=None)
    def batch(self, request):
        if request.headers.get(idempotency.HEADER) is not None:  # it names one order; a retried batch would place anew
            raise InvalidInput("is not taken by batches: give each order a client_order_id, and a retried batch "
                               "returns the orders already placed", field=idempotency.HEADER)
        items = request.data.get("orders") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise InvalidInput("must be a list of orders", field="orders")
        results = batches.orders_place_batch(orders=[_placement(item) for item in items], user=request.user,
                                             source="api")
        return _batch_response(results, pending=Status.PENDING_NEW, ok_status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Request cancellation of up to 50 orders by id, each on its own",
        description="Each result is the order (PENDING_CANCEL, or as the venue answered) or the error a single "
                    "cancel gives (404 not found, 409 no longer cancellable). 200 when every order was cancellable, "
                    "207 otherwise; an empty list or one of more than 50 is refused whole (400, field `order_ids`).",
        request=s.OrderCancelBatchInput, responses={200: s.BatchResultSerializer, 207: s.BatchResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="cancel-batch", filterset_class=None, pagination_class=None)
    def cancel_batch(self, request):
        ids = self.validated(s.OrderCancelBatchInput)["order_ids"]
        results = batches.orders_cancel_batch(order_ids=ids, user=request.user, source="api")
        return _batch_response(results, pending=Status.PENDING_CANCEL, ok_status=status.HTTP_200_OK)


def _placement(data) -> dict | InvalidInput:
    """One order of a batch as POST /orders/ reads it, or the refusal it would answer."""
    serializer = s.OrderPlaceInput(data=data)
    if not serializer.is_valid():
        return validation_refusal(serializer.errors)
    placement = dict(serializer.validated_data)
    placement["exchange"] = placement["exchange"] or None
    return placement


def _batch_response(results, *, pending: str, ok_status: int) -> Response:
    """A result per item, the accepted orders as the venue answered them within one shared wait; 207 when some item
    was refused."""
    answered = iter(orders_answered([r.order for r in results if r.ok], pending=pending))
    items = []
    for result in results:
        if result.ok:
            items.append({"index": result.index, "status": ok_status, "order": s.OrderSerializer(next(answered)).data})
        else:
            code, error = refusal_item(result.error)
            items.append({"index": result.index, "status": code, "error": error})
    accepted = sum(r.ok for r in results)
    body = {"results": items, "accepted": accepted, "refused": len(results) - accepted}
    return Response(body, status=status.HTTP_200_OK if accepted == len(results) else status.HTTP_207_MULTI_STATUS)


@extend_schema_view(list=extend_schema(summary="List fills", description="Newest first."))
class FillViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Fill
    serializer_class = s.FillSerializer
    filterset_class = filters.FillFilter
    ordering_fields = ["executed_at"]
    ordering = "-executed_at"

    def scoped_queryset(self, user):
        return Fill.objects.filter(account__in=accounts_for_user(user)).select_related("account", "order")


@extend_schema_view(list=extend_schema(
    summary="USD-M funding payments", description="Paid (negative) or received (positive) per account, symbol and "
    "funding time, as the venue booked them (Binance: income type FUNDING_FEE). Newest first."))
class FundingViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = FundingPayment
    serializer_class = s.FundingPaymentSerializer
    filterset_class = filters.FundingFilter
    ordering_fields = ["paid_at"]
    ordering = "-paid_at"

    def scoped_queryset(self, user):
        return FundingPayment.objects.filter(account__in=accounts_for_user(user)).select_related("account")


@extend_schema_view(list=extend_schema(summary="Balances per account and market (free, locked, total)"))
class BalanceViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Balance
    serializer_class = s.BalanceSerializer
    filterset_class = filters.BalanceFilter
    ordering_fields = ["id"]
    ordering = "id"

    def scoped_queryset(self, user):
        return Balance.objects.filter(account__in=accounts_for_user(user)).select_related("account")


def query_of(request, serializer_class) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class PositionListView(APIView):
    @extend_schema(
        summary="Open positions, the ledger's beside the venue's, and spot holdings",
        description="Every open USD-M position of the accounts asked about, in one page (`next` is always null): "
                    "side, size, entry, mark and PnL from the ledger's fills (`source` ledger) where the ledger holds "
                    "the position, else the venue's (`source` venue: traded outside the OMS); `venue_*` is the "
                    "venue's last report beside them. `holdings`: spot assets held, at their average cost.",
        parameters=[s.PositionQuerySerializer], responses=s.PositionPageSerializer)
    def get(self, request):
        query = query_of(request, s.PositionQuerySerializer)
        try:
            book = selectors_portfolio.portfolio(user=request.user, **query)
        except ServiceError as exc:
            raise filters.as_query_parameter(exc) from None
        return Response(s.PositionPageSerializer({"next": None, "previous": None, "results": book.positions,
                                                  "holdings": book.holdings}).data)


class PnlView(APIView):
    @extend_schema(
        summary="Profit and loss over a time range, from the ledger",
        description="Realized PnL, fees (quote; `other_fees` per other asset), funding, net (realized - fees + "
                    "funding), unrealized (open positions now), volume and trade count of the fills and funding "
                    "payments from `since` to `until`, in total and per UTC day or symbol (`group_by`).",
        parameters=[s.PnlQuerySerializer], responses=s.PnlSerializer)
    def get(self, request):
        try:
            read = selectors_portfolio.pnl_read(user=request.user, **query_of(request, s.PnlQuerySerializer))
        except ServiceError as exc:
            raise filters.as_query_parameter(exc) from None
        return Response(s.PnlSerializer(read).data)


@extend_schema_view(list=extend_schema(summary="Accounts the caller may see"),
                    retrieve=extend_schema(summary="One account"))
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = reporting.Account
    serializer_class = s.AccountSerializer
    lookup_field = "name"
    filterset_fields = ["exchange", "enabled"]
    ordering_fields = ["name"]
    ordering = "name"

    def scoped_queryset(self, user):
        return reporting.accounts_with_role(user=user)


@extend_schema_view(list=extend_schema(summary="The instrument catalog"))
class InstrumentViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Instrument
    queryset = Instrument.objects.all()
    serializer_class = s.InstrumentSerializer
    filterset_class = filters.InstrumentFilter
    search_fields = ["symbol", "ccxt_symbol"]
    ordering_fields = ["id"]
    ordering = "id"

    def scoped_queryset(self, user):
        return Instrument.objects.all()


class PriceListView(APIView):
    @extend_schema(
        summary="Latest prices",
        parameters=[OpenApiParameter("symbols", OpenApiTypes.STR, description="comma-separated; empty = all"),
                    OpenApiParameter("exchange", OpenApiTypes.STR), OpenApiParameter("market", OpenApiTypes.STR)],
        responses=s.PriceSerializer(many=True),
    )
    def get(self, request):
        symbols = {symbol_normalize(x) for x in request.query_params.get("symbols", "").split(",") if x.strip()}
        exchange, market = request.query_params.get("exchange", ""), request.query_params.get("market", "")
        prices = [p for _, p in sorted(pubsub.latest_prices().items())
                  if (not symbols or p.get("symbol") in symbols) and exchange in ("", p.get("exchange"))
                  and market in ("", p.get("market"))]
        return Response(s.PriceSerializer(prices, many=True).data)


class CandleListView(APIView):
    @extend_schema(
        summary="Candles of one instrument, from the venue",
        description="Oldest first; the last is the candle still open. Read from the venue through an account of "
                    "yours on that exchange and kept a few seconds (`OMS_CANDLES_CACHE_SECONDS`), so a dashboard can "
                    "draw a chart without an exchange connection of its own.",
        parameters=[s.CandleQuerySerializer],
        responses=s.CandleSerializer(many=True),
    )
    def get(self, request):
        query = s.CandleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(s.CandleSerializer(ports.candles(user=request.user, **query.validated_data), many=True).data)


class SummaryView(APIView):
    @extend_schema(summary="Dashboard home: open orders, today's fills and fees, exposure, unrealized PnL",
                   responses={200: OpenApiResponse(s.SummarySerializer)})
    def get(self, request):
        return Response(s.SummarySerializer(reporting.dashboard_summary(user=request.user)).data)


class TradingStateView(APIView):
    @extend_schema(summary="Trading states", description="The global state first, then each account the caller may "
                   "see: its own state and the one that governs its new orders (the stricter of the two).",
                   responses=s.TradingStateSerializer(many=True))
    def get(self, request):
        return Response(s.TradingStateSerializer(trading_states(request.user), many=True).data)

    @extend_schema(summary="Set a trading state (the global one, or an account's)",
                   description="ACTIVE: every order; REDUCING: only orders that reduce a position or holding; HALTED: "
                               "no new orders (cancels are always taken). Needs the permission 'Can set trading "
                               "states' (operations staff); recorded under Control changes with the caller.",
                   request=s.TradingStateInput, responses={200: s.TradingStateSerializer})
    def post(self, request):
        data = s.TradingStateInput(data=request.data)
        data.is_valid(raise_exception=True)
        account_services.trading_state_set(**data.validated_data, user=request.user)
        changed = next(r for r in trading_states() if r.account == data.validated_data["account"])
        return Response(s.TradingStateSerializer(changed).data)
