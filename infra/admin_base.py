"""Behaviour shared by every admin page: ledger rows read-only, service refusals shown as messages,
actions that report per object what happened."""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponseBadRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from infra.errors import ServiceError


class NoWritePermissions:
    """Nobody adds, changes or deletes these rows here (not even superusers); viewing needs view permission."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(NoWritePermissions, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ServiceErrorsAsMessages:
    """A service refusal on save becomes an error message on the same form, and nothing is saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, f"Not saved: {exc}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def permission_check(perm: str) -> Callable:
    """For `@admin.action(permissions=[name])`: ModelAdmin.has_<name>_permission needing Django permission `perm`."""
    def check(self, request) -> bool:
        return request.user.has_perm(perm)
    return check


def report_each(modeladmin, request, objects: Iterable, label: Callable, do: Callable[[object], str]) -> None:
    """Runs `do` per object and tells the user, per object, what happened or why it was refused."""
    for obj in objects:
        try:
            outcome = do(obj)
        except ServiceError as exc:
            modeladmin.message_user(request, f"{label(obj)}: refused: {exc.message}", messages.WARNING)
        except Exception as exc:  # e.g. broker unreachable: say so rather than fail the whole batch
            modeladmin.message_user(request, f"{label(obj)}: failed: {exc.__class__.__name__}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{label(obj)}: {outcome}", messages.SUCCESS)


# ---- numbers and times as people read them ----------------------------------------------------------


def _places(increment: Decimal) -> int:
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number_text(value: Decimal | None, increment: Decimal | None = None) -> str:
    """`value` at the increment's decimal places (step 0.0001: 0.0500; tick 0.01: 3000.00), never dropping a digit
    that is not zero (an average price off the tick keeps its digits up to 8 places, then is rounded); without an
    increment, trailing zeros dropped (0.05). Never in exponent form."""
    if value is None:
        return "-"
    value = Decimal(value)
    exact = value.normalize()
    exact_exponent = exact.as_tuple().exponent
    own = max(0, -exact_exponent) if isinstance(exact_exponent, int) else 0
    wanted = _places(increment) if increment else 0
    places = max(wanted, min(own, max(wanted, 8)))
    return f"{value.quantize(Decimal(1).scaleb(-places)):,.{places}f}" if places else f"{value.quantize(Decimal(1)):,f}"


def number_html(value: Decimal | None, increment: Decimal | None = None) -> str:
    """number_text with the exact stored value in the tooltip (and for copying)."""
    if value is None:
        return "-"
    return format_html('<span class="oms-num" title="{}">{}</span>', Decimal(value).normalize().__format__("f"),
                       number_text(value, increment))


def utc_ms(moment: datetime | None) -> str:
    """2026-12-07 19:16:06.123 UTC"""
    if moment is None:
        return "-"
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


def utc_s(moment: datetime | None) -> str:
    """2026-12-07 19:16:06 UTC (lists where seconds are enough)"""
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def duration_text(seconds: float) -> str:
    """1.2 s, 45 s, 3 min 5 s, 2 h 10 min, 3 d 4 h"""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(seconds)
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if s >= size:
            rest = (s % size) // sub_size
            return f"{s // size} {unit}" + (f" {rest} {sub}" if rest else "")
    return f"{s} s"


def badge(text: str, colour: str) -> str:
    return format_html('<span class="oms-badge" style="background:{}">{}</span>', colour, text)


# ---- lists that stay fast on millions of rows ---------------------------------------------------------


def table_estimate(model) -> int:
    """PostgreSQL's own estimate of the table's rows (pg_class.reltuples, kept by autovacuum/ANALYZE); -1 unknown."""
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cur.fetchone()
    return int(row[0]) if row and row[0] is not None else -1


class EstimatedCountPaginator(Paginator):
    """Never counts a whole table: an unfiltered list of a big table takes PostgreSQL's estimate, a filtered one
    counts at most COUNT_CAP + 1 rows (`capped` then says "more than COUNT_CAP")."""

    COUNT_CAP = 1_000  # "more than 1,000" says as much to a person as the exact count, at a tenth of its cost

    @cached_property
    def estimated(self) -> bool:
        qs = self.object_list
        return isinstance(qs, QuerySet) and not qs.query.where and table_estimate(qs.model) > self.COUNT_CAP

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        if self.estimated:
            return table_estimate(qs.model)
        return qs.order_by()[: self.COUNT_CAP + 1].count()  # SELECT COUNT(*) FROM (… LIMIT 1001)

    @property
    def capped(self) -> bool:
        return not self.estimated and self.count > self.COUNT_CAP

    def count_text(self) -> str:
        if self.estimated:
            return f"about {self.count:,}"
        return f"more than {self.COUNT_CAP:,}" if self.capped else f"{self.count:,}"


class DateRangeFilter(admin.FieldListFilter):
    """From / before dates (UTC) of a datetime field: `<field>__gte` and `<field>__lt`, as YYYY-MM-DD (or an ISO
    time); the "before" day is included (the range ends at the end of that day)."""

    template = "admin/oms/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_from, self.lookup_to = f"{field_path}__gte", f"{field_path}__lt"
        super().__init__(field, request, params, model, model_admin, field_path)
        # FieldListFilter took our parameters into used_parameters (a list each, as the query string gave them).
        self.values = {name: (raw[-1] if isinstance(raw, list) else raw) for name, raw in self.used_parameters.items()}
        self.others = [(k, v) for k, values in request.GET.lists() for v in values
                       if k not in (self.lookup_from, self.lookup_to)]
        self.title = f"{self.title} (UTC)"

    def expected_parameters(self):
        return [self.lookup_from, self.lookup_to]

    @staticmethod
    def moment(raw: str, *, end: bool) -> datetime:
        raw = raw.strip()
        try:
            if len(raw) == 10:
                day = date.fromisoformat(raw)
                return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)
            parsed = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise IncorrectLookupParameters(f"not a date: {raw!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def queryset(self, request, queryset):
        if raw := self.values.get(self.lookup_from):
            queryset = queryset.filter(**{self.lookup_from: self.moment(raw, end=False)})
        if raw := self.values.get(self.lookup_to):
            queryset = queryset.filter(**{self.lookup_to: self.moment(raw, end=True)})
        return queryset

    def has_output(self):
        return True

    def choices(self, changelist):
        yield {"from_name": self.lookup_from, "from_value": self.values.get(self.lookup_from, ""),
               "to_name": self.lookup_to, "to_value": self.values.get(self.lookup_to, ""), "others": self.others,
               "clear_url": changelist.get_query_string(remove=[self.lookup_from, self.lookup_to])}


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # exact, without padding zeros
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


class OmsListAdmin(admin.ModelAdmin):
    """Lists for operators on tables of millions of rows: estimated or capped counts, no facet counts, and CSV
    export of exactly the rows the filters and search select (`csv_fields`: plain columns, never a secret),
    streamed."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/oms/change_list.html"
    csv_fields: list[str] = []
    list_per_page = 50

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle" aria-label="Select all objects on '
                                         'this page for an action">'))
    def action_checkbox(self, obj):
        """Django's checkbox, written out: its form widget renders a template per row (a third of a page's time)."""
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" '
                           'aria-label="Select this object for an action - {}">', ACTION_CHECKBOX_NAME, obj.pk, obj.pk)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export.csv", self.admin_site.admin_view(self.csv_export_view), name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"csv_export": bool(self.csv_fields), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def csv_rows(self, queryset: QuerySet) -> Iterator[list]:
        yield list(self.csv_fields)
        for row in queryset.values_list(*self.csv_fields).iterator(chunk_size=2000):
            yield [_csv_value(v) for v in row]

    def csv_export_view(self, request):
        if not self.csv_fields or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(f"bad filter: {exc}")
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(r) for r in self.csv_rows(changelist.get_queryset(request))),
                                         content_type="text/csv; charset=utf-8")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}s-{stamp}.csv"'
        return response


class ReadOnlyListAdmin(NoWritePermissions, OmsListAdmin):
    pass
