"""Accounts, credentials (write-only), members, API tokens, trading controls, and the synced balances and
positions. Every control change goes through accounts.services, which records who and when."""
from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts import services
from accounts.models import (
    Account,
    AccountMember,
    ApiToken,
    Balance,
    ControlChange,
    Credential,
    Market,
    Position,
    RiskLimit,
    TradingSwitch,
)
from accounts.selectors import position_figures, position_last_price_lookup
from exchanges import problems as account_problems
from exchanges import stream_state
from exchanges.increments import increments
from infra.admin_base import (
    DateRangeFilter,
    ReadOnlyInline,
    ReadOnlyListAdmin,
    ServiceErrorsAsMessages,
    number_html,
    permission_check,
    report_each,
    utc_ms,
    utc_s,
)
from infra.errors import ServiceError
from orders import services as order_services
from orders import venue_requests
from orders.admin_pnl import account_pnl_html
from venues.supported import base_url_check, exchange_check


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved form instance the row a service saved (for redirects and the history log)."""
    obj.pk = saved.pk
    obj.refresh_from_db()


# ---- accounts ---------------------------------------------------------------------------------------


class AccountMemberInline(admin.TabularInline):
    model = AccountMember
    extra = 0
    fields = ["user", "role"]
    autocomplete_fields = ["user"]


class CredentialStatusInline(ReadOnlyInline):
    model = Credential
    verbose_name_plural = "credentials (write-only)"
    fields = ["key_hint", "updated_at"]
    readonly_fields = fields


def _checked(check, value):
    """venues.supported's check as a form field's validation (the service runs the same one on save)."""
    try:
        return check(value)
    except ServiceError as exc:
        raise forms.ValidationError(exc.message) from None


class HttpsURLField(forms.URLField):
    def __init__(self, **kwargs):
        super().__init__(**{"assume_scheme": "https", **kwargs})


class AccountForm(forms.ModelForm):
    base_url = HttpsURLField(required=False, help_text=Account._meta.get_field("base_url").help_text)

    class Meta:
        model = Account
        fields = ["name", "exchange", "sandbox", "base_url", "enabled", "disabled_reason"]
        field_classes = {"base_url": HttpsURLField}  # also when the admin shows base_url read-only

    def clean_exchange(self):
        return _checked(exchange_check, self.cleaned_data.get("exchange"))

    def clean_base_url(self):
        return _checked(base_url_check, self.cleaned_data.get("base_url"))


def _ago(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return f"{datetime.fromtimestamp(stamp, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"


@admin.register(Account)
class AccountAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = AccountForm
    list_display = ["name", "exchange", "sandbox", "enabled", "disabled_reason", "trading_state", "credentials",
                    "problems", "updated_at"]
    list_filter = ["exchange", "sandbox", "enabled", "trading_state"]
    search_fields = ["name"]
    inlines = [CredentialStatusInline, AccountMemberInline]
    actions = ["test_connectivity", "enable_trading", "disable_trading", "sync_now"]

    has_act_permission = permission_check("accounts.change_account")
    # Read-only here: set on the overview, through the REST API or `manage.py trading_state`
    # (accounts.services.trading_state_set, which records the change).
    STATE_FIELDS = ["trading_state", "trading_state_reason", "trading_state_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credential")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "exchange", "sandbox", "base_url"]
        return ["name", "exchange", "sandbox", "base_url", "enabled", "disabled_reason", *self.STATE_FIELDS,
                "set_credentials", "problems", "user_streams"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        venue = [] if request.user.has_perm(services.VENUE_PERMISSION) else ["sandbox", "base_url"]
        return ["name", "exchange", *venue, *self.STATE_FIELDS, "set_credentials", "problems", "user_streams",
                "positions_and_pnl"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Positions and PnL (the ledger's books, computed from fills)",
                             {"fields": ["positions_and_pnl"]})]

    @admin.display(description="positions, holdings, daily PnL")
    def positions_and_pnl(self, account: Account) -> str:
        return account_pnl_html(account)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        try:  # one look at the problems for the page, not one per row
            found = account_problems.current(changelist.result_list)
        except Exception:  # noqa: BLE001 - the list still shows without them
            found = {}
        for account in changelist.result_list:
            account.oms_problems = found.get(account.name, [])
        return changelist

    @admin.display(description="problems")
    def problems(self, account: Account) -> str:
        """Why a shared process (market data, the workers' sync) skips this account: "none" when all is well."""
        found = getattr(account, "oms_problems", None)
        if found is None:
            found = account_problems.of(account)
        if not found:
            return "none"
        return format_html_join(mark_safe("<br>"), "<strong>{}</strong>: {}{}", (
            (p["where"], p["error"], f" (last seen {p['last_seen']})" if p.get("last_seen") else "") for p in found))

    @admin.display(description="user-data streams")
    def user_streams(self, account: Account) -> str:
        """Each market's stream as the workers report it: state, since when, last event, reconnects, holder."""
        rows = []
        for market in Market.values:
            f = stream_state.snapshot(account.pk, market)
            rows.append((market, f["state"] + (" (live)" if f["live"] else ""), _ago(f["since"]), _ago(f["last_event"]),
                         f["reconnects"], f["holder"] or "-"))
        return format_html_join(mark_safe("<br>"), "<strong>{}</strong>: {} since {}, last event {}, {} reconnects, "
                                                   "held by {}", rows)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description="credentials")
    def credentials(self, account: Account) -> str:
        cred = getattr(account, "credential", None)
        return f"…{cred.key_hint}, changed {cred.updated_at:%Y-%m-%d %H:%M} UTC" if cred else "not set"

    @admin.display(description="credentials")
    def set_credentials(self, account: Account) -> str:
        cred = getattr(account, "credential", None)
        if cred:
            url = reverse("admin:accounts_credential_change", args=[cred.pk])
            return format_html('…{} (last changed {} UTC) — <a href="{}">replace</a>', cred.key_hint,
                               f"{cred.updated_at:%Y-%m-%d %H:%M}", url)
        url = reverse("admin:accounts_credential_add") + f"?account={account.pk}"
        return format_html('not set — <a href="{}">set credentials</a>', url)

    def save_model(self, request, obj, form, change):
        if not change:
            _adopt(obj, services.account_create(name=obj.name, exchange=obj.exchange, sandbox=obj.sandbox,
                                                base_url=obj.base_url, user=request.user))
            return
        venue = {f: form.cleaned_data[f] for f in ("sandbox", "base_url") if f in form.changed_data}
        if venue:  # through the service: it checks the venue permission and records before and after
            services.account_set_venue(account=obj.name, user=request.user, **venue)
        if {"enabled", "disabled_reason"} & set(form.changed_data):
            services.account_set_enabled(account=obj.name, enabled=obj.enabled, reason=obj.disabled_reason,
                                         user=request.user)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not AccountMember:
            return super().save_formset(request, form, formset, change)
        members = formset.save(commit=False)
        for member in formset.deleted_objects:  # through the services, so each grant and removal is recorded
            services.member_remove(account=form.instance.name, user=member.user, by=request.user)
        for member in members:
            services.member_add(account=form.instance.name, user=member.user, role=member.role, by=request.user)

    @admin.action(description="Test connectivity (a worker logs in to the venue)", permissions=["act"])
    def test_connectivity(self, request, queryset):
        def check(account: Account) -> str:
            venue_requests.account_check_request(account.pk)
            return "connectivity check queued; a refused key disables the account with the venue's reason"

        report_each(self, request, queryset, lambda a: a.name, check)

    @admin.action(description="Enable trading", permissions=["act"])
    def enable_trading(self, request, queryset):
        report_each(self, request, queryset, lambda a: a.name, lambda a: "enabled" if services.account_set_enabled(
            account=a.name, enabled=True, user=request.user).enabled else "still disabled")

    @admin.action(description="Disable trading", permissions=["act"])
    def disable_trading(self, request, queryset):
        reason = f"disabled by {request.user.get_username()} in the admin"
        report_each(self, request, queryset, lambda a: a.name, lambda a: "disabled" if not services.account_set_enabled(
            account=a.name, enabled=False, reason=reason, user=request.user).enabled else "still enabled")

    @admin.action(description="Sync balances and positions now", permissions=["act"])
    def sync_now(self, request, queryset):
        report_each(self, request, queryset, lambda a: a.name,
                    lambda a: venue_requests.account_sync_request(a.pk) or "sync queued")


# ---- credentials: write-only -------------------------------------------------------------------------


class CredentialForm(forms.ModelForm):
    """The secrets are typed in and handed to the service; the form never renders a stored value."""

    api_key = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=True)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=True)
    passphrase = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, strip=True,
                                 help_text="only for venues that use one")

    class Meta:
        model = Credential
        fields = ["account"]


@admin.register(Credential)
class CredentialAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = CredentialForm
    list_display = ["account", "key", "updated_at"]
    list_select_related = ["account"]
    search_fields = ["account__name"]

    def get_fields(self, request, obj=None):
        return ["account", "api_key", "secret", "passphrase", *(["key_hint", "updated_at"] if obj else [])]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "key_hint", "updated_at"] if obj else []

    @admin.display(description="API key")
    def key(self, cred: Credential) -> str:
        return f"…{cred.key_hint}"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        _adopt(obj, services.credential_set(account=obj.account.name, api_key=data["api_key"], secret=data["secret"],
                                            passphrase=data.get("passphrase", ""), user=request.user))

    def construct_change_message(self, request, form, formsets, add=False):
        return [{"changed": {"fields": ["credentials (write-only)"]}}] if not add else [{"added": {}}]


# ---- API tokens -------------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    has_revoke_permission = permission_check("accounts.change_apitoken")

    def get_fields(self, request, obj=None):
        return (["user", "name", "expires_at"] if obj is None else
                ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"])

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        return False  # a token is created or revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays as the record

    def save_model(self, request, obj, form, change):
        token = services.api_token_create(user=obj.user, name=obj.name, by=request.user, expires_at=obj.expires_at)
        _adopt(obj, ApiToken.objects.get(digest=ApiToken.digest_of(token)))
        request.new_api_token = token

    def response_add(self, request, obj, post_url_continue=None):
        # Shown once on this page; never put in a message (messages can live in a cookie).
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", {
            **self.admin_site.each_context(request), "title": "API token created", "token": request.new_api_token,
            "token_user": obj.user, "changelist_url": reverse("admin:accounts_apitoken_changelist")})

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        report_each(self, request, queryset, str, lambda t: "revoked" if services.api_token_revoke(
            token_id=t.pk, user=request.user).revoked_at else "not revoked")


@admin.register(AccountMember)
class AccountMemberAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    list_display = ["user", "account", "role"]
    list_filter = ["role", "account"]
    search_fields = ["user__username", "account__name"]
    list_select_related = ["user", "account"]
    autocomplete_fields = ["user", "account"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "account"] if obj else []  # another user or account is another membership

    def save_model(self, request, obj, form, change):
        _adopt(obj, services.member_add(account=obj.account.name, user=obj.user, role=obj.role, by=request.user))

    def delete_model(self, request, obj):
        services.member_remove(account=obj.account.name, user=obj.user, by=request.user)

    def delete_queryset(self, request, queryset):
        for member in queryset.select_related("user", "account"):
            services.member_remove(account=member.account.name, user=member.user, by=request.user)


# ---- risk and control -------------------------------------------------------------------------------


class RiskLimitForm(forms.ModelForm):
    allowed_symbols = forms.CharField(required=False, help_text="comma-separated native symbols; empty = every symbol")

    class Meta:
        model = RiskLimit
        fields = ["account", *services.RISK_LIMIT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_symbols"] = ", ".join(self.instance.allowed_symbols or [])


@admin.register(RiskLimit)
class RiskLimitAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = RiskLimitForm
    list_display = ["account", "max_order_notional", "max_open_orders", "max_position_notional", "allowed_symbols",
                    "price_band_pct", "max_daily_loss", "updated_at", "updated_by"]
    list_select_related = ["account", "updated_by"]
    search_fields = ["account__name"]
    readonly_fields = ["updated_at", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", *self.readonly_fields] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # clear the fields instead, so the change is recorded

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in services.RISK_LIMIT_FIELDS if f in form.changed_data or not change}
        _adopt(obj, services.risk_limit_update(account=obj.account.name, user=request.user, **fields))


class TradingSwitchForm(forms.ModelForm):
    cancel_open_orders = forms.BooleanField(required=False, label="Also cancel every open order",
                                            help_text="on every account, when switching the kill switch on")

    class Meta:
        model = TradingSwitch
        fields = ["kill_switch", "reason"]


@admin.register(TradingSwitch)
class TradingSwitchAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = TradingSwitchForm
    list_display = ["__str__", "reason", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request):
        return False  # one row, made on first view

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        TradingSwitch.current()
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        _adopt(obj, services.kill_switch_set(on=obj.kill_switch, reason=obj.reason, user=request.user))
        if obj.kill_switch and form.cleaned_data.get("cancel_open_orders"):
            cancelled = order_services.order_cancel_all(
                source="admin", reason=f"kill switch by {request.user.get_username()}: {obj.reason}")
            self.message_user(request, f"Cancel requested for {len(cancelled)} open order(s).", messages.WARNING)


@admin.register(ControlChange)
class ControlChangeAdmin(ReadOnlyListAdmin):
    list_display = ["at_ms", "what", "user", "account", "before", "after"]
    list_display_links = ["at_ms"]
    list_filter = ["what", "account", "user", ("at", DateRangeFilter)]
    search_fields = ["what", "account__name", "user__username"]
    list_select_related = ["user", "account"]
    csv_fields = ["id", "at", "what", "user__username", "account__name", "before", "after"]

    @admin.display(description="at (UTC)", ordering="at")
    def at_ms(self, row: ControlChange) -> str:
        return utc_ms(row.at)


# ---- synced from the venue: read-only ---------------------------------------------------------------


class SyncedAdmin(ReadOnlyListAdmin):
    actions = ["sync_now"]
    has_sync_permission = permission_check("accounts.change_account")

    @admin.action(description="Sync these accounts from the venue now", permissions=["sync"])
    def sync_now(self, request, queryset):
        accounts = Account.objects.filter(pk__in=queryset.values("account_id"))
        report_each(self, request, accounts, lambda a: a.name,
                    lambda a: venue_requests.account_sync_request(a.pk) or "sync queued")


@admin.register(Balance)
class BalanceAdmin(SyncedAdmin):
    list_display = ["account", "market", "asset", "free_col", "locked_col", "total_col", "last_sync"]
    list_filter = ["account", "market"]
    search_fields = ["asset", "account__name"]
    list_select_related = ["account"]
    csv_fields = ["account__name", "market", "asset", "free", "locked", "updated_at"]

    @admin.display(description="free", ordering="free")
    def free_col(self, row):
        return number_html(row.free)

    @admin.display(description="locked", ordering="locked")
    def locked_col(self, row):
        return number_html(row.locked)

    @admin.display(description="total")
    def total_col(self, row):
        return number_html(row.total)

    @admin.display(description="last sync (UTC)", ordering="updated_at")
    def last_sync(self, row):
        return utc_s(row.updated_at)


@admin.register(Position)
class PositionAdmin(SyncedAdmin):
    list_display = ["account", "symbol", "side", "size_col", "entry_col", "mark", "pnl", "pnl_percentage", "leverage",
                    "margin_col", "liquidation_col", "last_sync"]
    list_filter = ["account", "side"]
    search_fields = ["symbol", "account__name"]
    list_select_related = ["account"]
    csv_fields = ["account__name", "symbol", "side", "size", "entry_price", "mark_price", "unrealized_pnl", "leverage",
                  "margin", "liquidation_price", "updated_at"]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        found = increments()  # one catalog read per page
        last_price = position_last_price_lookup()  # and at most one read of the price feed
        for row in changelist.result_list:
            row.oms_increments = found.get((row.account.exchange, "futures", row.symbol), (None, None))
            row._figures = position_figures(row, last_price=last_price(row))
        return changelist

    @admin.display(description="size", ordering="size")
    def size_col(self, row):
        return number_html(row.size, getattr(row, "oms_increments", (None, None))[0])

    @admin.display(description="entry price", ordering="entry_price")
    def entry_col(self, row):
        return number_html(row.entry_price, getattr(row, "oms_increments", (None, None))[1])

    @admin.display(description="margin", ordering="margin")
    def margin_col(self, row):
        return number_html(row.margin)

    @admin.display(description="liquidation price", ordering="liquidation_price")
    def liquidation_col(self, row):
        return number_html(row.liquidation_price, getattr(row, "oms_increments", (None, None))[1])

    @staticmethod
    def _figures(row):
        # As gRPC and REST show them (accounts.selectors.position_figures); the price feed only without a mark.
        # Worked out once per row for its three columns (for the whole page at once in get_changelist_instance).
        if not hasattr(row, "_figures"):
            row._figures = position_figures(row, last_price=position_last_price_lookup()(row))
        return row._figures

    @admin.display(description="mark price", ordering="mark_price")
    def mark(self, row):
        return number_html(self._figures(row).mark_price, getattr(row, "oms_increments", (None, None))[1])

    @admin.display(description="unrealized PnL", ordering="unrealized_pnl")
    def pnl(self, row):
        return number_html(self._figures(row).unrealized_pnl)

    @admin.display(description="PnL %")
    def pnl_percentage(self, row):
        return number_html(self._figures(row).pnl_percentage)

    @admin.display(description="last sync (UTC)", ordering="updated_at")
    def last_sync(self, row):
        return utc_s(row.updated_at)
