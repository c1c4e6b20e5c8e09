"""The admin's overview: is anything wrong, at a glance. Per account and market: the venue's REST health (as the
processes recorded it: the page asks the venue nothing while it renders), the user-data stream, the request weight
in use, open orders, orders pending longer than 10 s, the last reconciliation and its drift; the kill switch, the
global trading state and each account's (enabled, ACTIVE/REDUCING/HALTED) with the controls to change them (through
accounts.services, so each change is recorded under Control changes; a confirmation first); per process (worker,
beat, gRPC, market data): alive and when it last reported (infra.heartbeat). Each number links to the list behind
it. Reads go through the modules that own them (exchanges.venue_health, exchanges.stream_state, exchanges.ratelimit,
exchanges.problems, orders.selectors, orders.selectors_reconcile)."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts import services as account_services
from accounts.models import Account, Market, TradingState, TradingSwitch
from accounts.selectors import last_control_change, trading_state_effective
from exchanges import health, problems, ratelimit, stream_state, venue_health
from infra import heartbeat
from infra.admin_base import duration_text, utc_ms, utc_s
from infra.errors import ServiceError
from orders import selectors
from orders import services as order_services
from orders.selectors_reconcile import latest_runs

KILL_SWITCH_PERMISSION = "accounts.change_tradingswitch"
ACCOUNT_PERMISSION = "accounts.change_account"
TRADING_STATE_PERMISSION = account_services.TRADING_STATE_PERMISSION


OPEN_COUNT_CAP = 1_000  # past this, "more than 1,000" says as much as the exact number (the list counts alike)


def _counts(orders) -> dict[int, int]:
    """account id -> how many of these orders."""
    return dict(orders.order_by().values_list("account_id").annotate(n=Count("id")))


def _orders_url(**params) -> str:
    return reverse("admin:orders_order_changelist") + "?" + urlencode(params)


def _ago(stamp: float | None, now: float) -> str:
    return "never" if stamp is None else f"{duration_text(now - stamp)} ago"


def _rest_health(answers: dict, probe: dict | None, now: float) -> dict:
    """The venue's REST health from what was recorded (exchanges.venue_health), never from a request made now: the
    newest of the account's last answer, its last unanswered request and the latest /healthz probe decides up or
    down; `healthy` says when it was last known up."""
    seen = []  # (time, up, what)
    if answers["ok_at"]:
        seen.append((answers["ok_at"], True, "answered"))
    if answers["failed_at"]:
        seen.append((answers["failed_at"], False, f"no answer ({answers['error']})"))
    if probe and probe["at"]:
        result = probe["result"] or {}
        seen.append((probe["at"], bool(result.get("ok")), "probe up" if result.get("ok") else
                     f"probe down ({result.get('error') or result.get('status')})"))
    if not seen:
        return {"rest": "unknown", "rest_ok": None, "rest_seen": "no request recorded", "rest_healthy": ""}
    at, up, what = max(seen, key=lambda s: s[0])
    healthy = max([a for a in (answers["ok_at"], probe and probe["ok_at"]) if a], default=None)
    return {"rest": "up" if up else "down", "rest_ok": up, "rest_seen": f"{what} {_ago(at, now)}",
            "rest_healthy": "" if up else f"last healthy {_ago(healthy, now)}"}


def _count_text(n: int) -> str:
    return f"more than {OPEN_COUNT_CAP:,}" if n > OPEN_COUNT_CAP else f"{n:,}"


def _venue_rows(now: float, switch: TradingSwitch) -> list[dict]:
    found_problems = problems.current()
    # One query for the page, not one per row: open orders counted up to the cap per account (the open orders'
    # partial index), pending ones (a handful) through order_pending, the latest run per account and market.
    open_counts = selectors.open_order_counts(OPEN_COUNT_CAP)
    pending_counts = _counts(selectors.orders_pending_longer_than(selectors.PENDING_ALERT_SECONDS))
    markets = Market.values
    last_runs = {(r.account_id, r.market): r for r in latest_runs()}
    accounts = list(Account.objects.order_by("name"))
    roots = {account.pk: health.venue_of(account) for account in accounts}
    pairs = [(a.pk, m) for a in accounts for m in markets]
    # Redis: a round trip or two for the whole page, not five per row.
    answers, probes = venue_health.recorded(pairs, sorted({r for r in roots.values() if r}))
    streams, weights = stream_state.snapshots(pairs), ratelimit.weights_in_use(pairs)
    rows = []
    for account in accounts:
        for market in markets:
            pending = f"{pending_counts.get(account.pk, 0):,}"
            stream, weight = streams[(account.pk, market)], weights[(account.pk, market)]
            run = last_runs.get((account.pk, market))
            rows.append({
                "account": account, "market": market, "first": market == markets[0], "span": len(markets),
                "governing": trading_state_effective(
                    own=account.trading_state, own_reason=account.trading_state_reason,
                    global_state=switch.trading_state, global_reason=switch.trading_state_reason),
                "account_url": reverse("admin:accounts_account_change", args=[account.pk]),
                **_rest_health(answers[(account.pk, market)], probes.get(roots[account.pk]), now),
                "problems": [f"{p['where']}: {p['error']}" for p in found_problems.get(account.name, [])],
                "stream": stream["state"] if stream["state"] == "live" or not stream["live"] else f"{stream['state']} (live)",
                "stream_ok": stream["live"],
                "stream_last_event": _ago(stream["last_event"], now),
                "weight": f"{weight['used']:,.0f} / {weight['capacity']:,.0f} per {weight['window_seconds']} s",
                "weight_share": f"{100 * weight['used'] / weight['capacity']:.0f} %" if weight["capacity"] else "",
                "banned_for": weight["banned_for"],
                "open": _count_text(open_counts.get(account.pk, 0)),
                "open_url": _orders_url(**{"account__id__exact": account.pk, "open": "yes"}),
                "pending": pending, "pending_alert": pending != "0",
                "pending_url": _orders_url(**{"account__id__exact": account.pk,
                                              "pending_over": int(selectors.PENDING_ALERT_SECONDS)}),
                "run": run, "run_at": utc_s(run.started_at) if run else "never",
                "run_url": reverse("admin:orders_reconciliationrun_change", args=[run.pk]) if run else
                reverse("admin:orders_reconciliationrun_changelist"),
                "drift_alert": bool(run and run.drift_count and run.drift_count > run.fixed_count),
            })
    return rows


def _process_rows(now: float) -> list[dict]:
    try:
        beats = heartbeat.current(now)
    except Exception:  # noqa: BLE001 - Redis away: every process shows as unknown
        beats = {name: [] for name in heartbeat.PROCESSES}
    rows = []
    for name, entries in beats.items():
        alive = [e for e in entries if e["alive"]]
        last = entries[0] if entries else None
        rows.append({
            "name": name, "alive": bool(alive), "instances": len(alive),
            "last": f"{duration_text(last['age'])} ago ({last['host']} pid {last['pid']})" if last else "never",
            "since": utc_s(datetime.fromtimestamp(alive[0]["started"], tz=UTC)) if alive else "",
        })
    return rows


def overview_context(request) -> dict:
    now = time.time()
    switch = TradingSwitch.current()
    return {
        "title": "Overview",
        "database": health.check_database(), "redis": health.check_redis(),
        "switch": switch, "switch_change": (change := last_control_change("kill_switch_set")),
        "switch_at": utc_ms(change.at) if change else "never",
        "state_at": utc_ms(switch.trading_state_at) if switch.trading_state_at else "never",
        "states": TradingState.choices,
        "venue_rows": _venue_rows(now, switch), "process_rows": _process_rows(now),
        "may_kill": request.user.has_perm(KILL_SWITCH_PERMISSION),
        "may_trade": request.user.has_perm(ACCOUNT_PERMISSION),
        "may_set_state": request.user.has_perm(TRADING_STATE_PERMISSION),
        "kill_switch_url": reverse("admin:oms_kill_switch"),
        "kill_switch_changes_url": reverse("admin:accounts_controlchange_changelist") + "?what=kill_switch_set",
        "trading_state_url": reverse("admin:oms_trading_state"),
        "trading_state_changes_url": reverse("admin:accounts_controlchange_changelist") + "?what=trading_state_set",
        "now": utc_s(datetime.fromtimestamp(now, tz=UTC)),
        "stale_after": duration_text(heartbeat.STALE_AFTER),
    }


def overview_view(request):
    context = {**admin.site.each_context(request), **overview_context(request)}
    return TemplateResponse(request, "admin/oms/overview.html", context)


def _confirmed(request) -> bool:
    return request.POST.get("confirm") == "yes"


def kill_switch_view(request):
    """POST on=1|0, reason, cancel_open, confirm=yes: the kill switch through accounts.services (recorded)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(KILL_SWITCH_PERMISSION):
        raise PermissionDenied
    on = request.POST.get("on") == "1"
    reason = request.POST.get("reason", "").strip()
    if not _confirmed(request):
        messages.error(request, "Nothing changed: tick the confirmation box to change the kill switch.")
    elif on and not reason:
        messages.error(request, "Nothing changed: say why trading stops (the reason is recorded).")
    else:
        try:
            account_services.kill_switch_set(on=on, reason=reason, user=request.user)
            messages.warning(request, "Kill switch ON: every new order is refused." if on else
                             "Kill switch OFF: trading allowed.")
            if on and request.POST.get("cancel_open") == "1":
                cancelled = order_services.order_cancel_all(
                    source="admin", reason=f"kill switch by {request.user.get_username()}: {reason}")
                messages.warning(request, f"Cancel requested for {len(cancelled)} open order(s).")
        except ServiceError as exc:
            messages.error(request, f"Refused: {exc.message}")
    return HttpResponseRedirect(reverse("admin:oms_overview"))


def trading_state_view(request):
    """POST state, reason, account (an id; none: the global state), confirm=yes: a trading state through
    accounts.services (which checks the permission and records the change)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(TRADING_STATE_PERMISSION):
        raise PermissionDenied
    account_id = request.POST.get("account", "")
    account = Account.objects.filter(pk=int(account_id)).first() if account_id.isdigit() and len(account_id) < 10 else None
    scope = account.name if account else "global"
    if account_id and account is None:
        messages.error(request, "No such account.")
    elif not _confirmed(request):
        messages.error(request, f"Nothing changed ({scope}): tick the confirmation box to change the trading state.")
    else:
        try:
            row = account_services.trading_state_set(state=request.POST.get("state", ""),
                                                     account=account.name if account else "",
                                                     reason=request.POST.get("reason", ""), user=request.user)
            messages.warning(request, f"Trading state ({scope}): {row.trading_state}.")
        except ServiceError as exc:
            messages.error(request, f"Refused ({scope}): {exc.message}")
    return HttpResponseRedirect(reverse("admin:oms_overview"))


def account_trading_view(request, account_id: int):
    """POST enabled=1|0, reason, confirm=yes: an account's trading through accounts.services (recorded)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(ACCOUNT_PERMISSION):
        raise PermissionDenied
    account = Account.objects.filter(pk=account_id).first()
    enabled = request.POST.get("enabled") == "1"
    if account is None:
        messages.error(request, "No such account.")
    elif not _confirmed(request):
        messages.error(request, f"Nothing changed on {account.name}: tick the confirmation box first.")
    else:
        reason = request.POST.get("reason", "").strip() or (
            "" if enabled else f"disabled by {request.user.get_username()} on the overview")
        try:
            done = account_services.account_set_enabled(account=account.name, enabled=enabled, reason=reason,
                                                        user=request.user)
            messages.warning(request, f"{account.name}: trading {'enabled' if done.enabled else 'disabled'}.")
        except ServiceError as exc:
            messages.error(request, f"{account.name}: refused: {exc.message}")
    return HttpResponseRedirect(reverse("admin:oms_overview"))


def urls() -> list:
    view = admin.site.admin_view
    return [
        path("overview/", view(overview_view), name="oms_overview"),
        path("overview/kill-switch/", view(kill_switch_view), name="oms_kill_switch"),
        path("overview/trading-state/", view(trading_state_view), name="oms_trading_state"),
        path("overview/accounts/<int:account_id>/trading/", view(account_trading_view), name="oms_account_trading"),
    ]
