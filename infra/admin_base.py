"""Behaviour shared by every admin page: ledger rows read-only, service refusals shown as messages,
actions that report per object what happened."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from infra.errors import ServiceError


class NoWritePermissions:
    """Nobody adds, changes or deletes these rows here (not even superusers); viewing needs view permission."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoWritePermissions, admin.ModelAdmin):
    pass


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
