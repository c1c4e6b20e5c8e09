"""Operational endpoints: `/healthz` for load balancers and orchestrators, `/metrics` for Prometheus."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from oms_project import health, metrics


@require_GET
def healthz(request):
    """200 when the database and Redis answer (venues reported, "degraded" if one is unreachable); else 503."""
    report = health.health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


@require_GET
def metrics_view(request):
    token = settings.OMS_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("metrics need 'Authorization: Bearer <OMS_METRICS_TOKEN>'\n", status=401,
                                content_type="text/plain")
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
