import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")

app = Celery("oms_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
