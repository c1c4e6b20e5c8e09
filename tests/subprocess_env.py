"""What a child process (grpcserve, celery worker, manage.py up) needs to reach the test database."""
from __future__ import annotations

from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    """The URL of the database this test runs on: TCP, or the unix socket directory the embedded server uses."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    socket_dir = db["HOST"] if db["HOST"].startswith("/") else db["OPTIONS"].get("host", "")
    if socket_dir:
        return f"postgresql://{auth}@/{db['NAME']}?host={socket_dir}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"
