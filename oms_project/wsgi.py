import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after the app: settings are configured now)

try:  # the web tier signs sessions and CSRF tokens: it does not start without a key
    settings.SECRET_KEY  # noqa: B018
except ImproperlyConfigured:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required by the web tier "
                               "(OMS_DEV=1 uses a local development key)") from None
