"""django-celery-beat's admin pages, guarded: the periodic tasks (any registered task, any arguments, a "run now"
action) and the schedules they use are added, changed, deleted, enabled, disabled or run only by staff who also hold
`oms_project.schedule_periodic_tasks`; everyone else with view permission sees them read-only."""
from __future__ import annotations

from django.contrib import admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

SCHEDULE_PERMISSION = "oms_project.schedule_periodic_tasks"


class NeedsSchedulePermission:
    def _may_schedule(self, request) -> bool:
        return request.user.has_perm(SCHEDULE_PERMISSION)

    def has_add_permission(self, request, *args):
        return self._may_schedule(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._may_schedule(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_schedule(request) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        return super().get_actions(request) if self._may_schedule(request) else {}  # enable/disable/toggle/run


for _model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    _registered = admin.site._registry.get(_model)
    if _registered is None:  # django-celery-beat's admin not loaded: nothing to guard
        continue
    admin.site.unregister(_model)
    admin.site.register(_model, type(f"Guarded{type(_registered).__name__}",
                                     (NeedsSchedulePermission, type(_registered)), {}))


# ---- the overview, linked first on the admin's home page (oms_project/admin_overview.py) ----------------------

def _with_overview(get_urls):
    def urls():
        from oms_project import admin_overview

        return [*admin_overview.urls(), *get_urls()]
    return urls


admin.site.get_urls = _with_overview(admin.site.get_urls)  # type: ignore[method-assign]
admin.site.index_template = "admin/oms/index.html"
admin.site.site_header = "OMS operations"
admin.site.site_title = "OMS admin"
admin.site.index_title = "Home"
admin.site.enable_nav_sidebar = False  # the lists get the width (every order column in view at 1400 px); Home navigates
