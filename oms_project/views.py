"""Operational endpoints: `/healthz` for load balancers and orchestrators, `/metrics` for Prometheus."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from exchanges import health
from infra import metrics


def _may_see_detail(request) -> bool:
    """Staff (a session, or an API token of a staff user) and monitoring (OMS_METRICS_TOKEN) see the detail."""
    if request.user.is_authenticated and request.user.is_active and request.user.is_staff:
        return True
    from accounts.auth import bearer_token_parse, user_for_token

    sent = bearer_token_parse(request.headers.get("Authorization"))
    if not sent:
        return False
    token = settings.OMS_METRICS_TOKEN
    if token and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    user = user_for_token(sent)
    return bool(user and user.is_staff)


@require_GET
def healthz(request):
    """200 when the database and Redis answer, else 503. Anyone gets {"status": "up"|"down"}; staff and monitoring
    get the detail: "ok"/"degraded"/"down", database, Redis, venues, and the accounts the processes skip."""
    if not _may_see_detail(request):
        report = health.up_or_down()
        return JsonResponse(report, status=503 if report["status"] == "down" else 200)
    report = health.health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


@require_GET
def metrics_view(request):
    """Prometheus text for bearers of OMS_METRICS_TOKEN; without a token configured, 404 unless OMS_METRICS_OPEN."""
    token = settings.OMS_METRICS_TOKEN
    if token:
        from accounts.auth import bearer_token_parse

        sent = bearer_token_parse(request.headers.get("Authorization")) or ""
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("metrics need 'Authorization: Bearer <OMS_METRICS_TOKEN>'\n", status=401,
                                content_type="text/plain")
    elif not settings.OMS_METRICS_OPEN:
        return HttpResponse("not found\n", status=404, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
