"""The events process: server-sent event streams on an event loop, so an open stream holds no thread
(`uvicorn oms_project.asgi:application`, started by `manage.py up` on OMS_EVENTS_ADDR). It serves the stream
routes and /healthz only; the API, the admin and everything else stay on the WSGI web tier."""
import json
import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")
django.setup(set_prefix=False)

from infra.secretkey import require_secret_key  # noqa: E402

require_secret_key()  # streams authenticate sessions too

SERVED = ("/api/v1/stream/", "/healthz")
NOT_HERE = json.dumps({"error": {"code": "not_found", "field": None, "message":
                                 "This server serves event streams only (/api/v1/stream/...); the API is on the web server."}
                       }).encode()


class EventsHandler(ASGIHandler):
    """Django's ASGI handler gives each request a thread of its own for its synchronous parts (middleware,
    authentication, the view's setup), alive until the response ends: for a stream, minutes. Here those short
    parts share one thread, and a stream waits on the event loop alone."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"only HTTP is served here, not {scope['type']}")
        await self.handle(scope, receive, send)


django_application = EventsHandler()


async def application(scope, receive, send):
    if scope["type"] != "http" or scope["path"].startswith(SERVED):
        return await django_application(scope, receive, send)
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": NOT_HERE})
