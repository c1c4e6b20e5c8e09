"""OMS settings: everything comes from the environment.

Defaults are production-safe (DEBUG off, secure cookies when not DEBUG); the
embedded PostgreSQL/Redis are used only when DATABASE_URL / REDIS_URL are unset.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from infra import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# Secrets may come from files (Docker Compose / Kubernetes secrets): NAME_FILE names a file holding NAME's value.
SECRET_FILE_VARIABLES = ("DJANGO_SECRET_KEY", "OMS_FERNET_KEYS", "OMS_METRICS_TOKEN", "OMS_VENUE_CONTROL_TOKEN",
                         "OMS_VENUE_KEYS")
for _name in SECRET_FILE_VARIABLES:
    _path = os.environ.get(f"{_name}_FILE", "").strip()
    if _path and not os.environ.get(_name):
        try:
            os.environ[_name] = Path(_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{_name}_FILE: {_path} cannot be read: {exc.strerror}") from None

DEBUG = env_bool("OMS_DEBUG", False)
# Only the web tier signs anything (sessions, CSRF tokens): it refuses to start without a key
# (oms_project/wsgi.py). The gRPC server, workers, beat, market data and migrate need none, and
# docker-compose.yml gives them none; Django refuses any use of an empty key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and (DEBUG or env_bool("OMS_DEV", False)):
    SECRET_KEY = "dev-only-insecure-key-not-for-production-use-0123456789abcdef"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("OMS_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("OMS_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# Where the processes listen (used by `manage.py up`, grpcserve and the README).
OMS_HTTP_ADDR = os.environ.get("OMS_HTTP_ADDR", "127.0.0.1:8000")
OMS_GRPC_ADDR = os.environ.get("OMS_GRPC_ADDR", "127.0.0.1:50051")
OMS_VENUE_ADDR = os.environ.get("OMS_VENUE_ADDR", "127.0.0.1:8765")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "oms_project",
    "accounts",
    "exchanges",
    "orders",
    "execution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "infra.request_limits.RequestLimitsMiddleware",  # NUL in the URL, oversized bodies: 400/413 before any view
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from STATIC_ROOT (the admin's), no separate server
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # refuses a locked-out login (below)
]

# Admin sign-in: django-axes counts failed logins per (user name, client address) in the database and locks that
# pair out for a while after too many; a success resets the count. `manage.py axes_reset` lifts every lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("OMS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("OMS_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = True  # attempts and lockouts are listed in the admin
AXES_VERBOSE = False  # no start-up banner in every process; failures and lockouts are still logged (WARNING)

ROOT_URLCONF = "oms_project.urls"
WSGI_APPLICATION = "oms_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_url()
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("OMS_DB_CONN_MAX_AGE", "60")))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url()
OMS_PUBSUB_PREFIX = os.environ.get("OMS_PUBSUB_PREFIX", "oms")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("OMS_STATIC_ROOT", BASE_DIR / "var" / "static"))

# Secrets at rest: comma-separated Fernet keys, newest first (MultiFernet rotation).
OMS_FERNET_KEYS = [k.strip() for k in os.environ.get("OMS_FERNET_KEYS", "").split(",") if k.strip()]
if not OMS_FERNET_KEYS and env_bool("OMS_DEV", False):
    OMS_FERNET_KEYS = [embedded.dev_fernet_key()]

# Security headers: on unless explicitly running in DEBUG or behind a TLS-terminating proxy that says otherwise.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Local development (OMS_DEV=1) serves plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("OMS_SECURE_SSL_REDIRECT", not env_bool("OMS_DEV", False))
    SESSION_COOKIE_SECURE = env_bool("OMS_SECURE_COOKIES", not env_bool("OMS_DEV", False))
    CSRF_COOKIE_SECURE = env_bool("OMS_SECURE_COOKIES", not env_bool("OMS_DEV", False))
    SECURE_HSTS_SECONDS = int(os.environ.get("OMS_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes and scrapers speak plain HTTP inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Celery: Redis broker; the orders queue is latency-sensitive (prefetch 1, acks late).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# A prefix of its own keeps the broker's queues apart too (a test run beside `make run`, deployments sharing one
# Redis); the default prefix keeps the historic key names ("orders", "sync", "unacked"), so no queued task is lost.
if OMS_PUBSUB_PREFIX != "oms":
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{OMS_PUBSUB_PREFIX}:"
CELERY_TASK_ROUTES = {
    "orders.tasks.order_submit": {"queue": "orders"},
    "orders.tasks.order_cancel": {"queue": "orders"},
    "orders.tasks.*": {"queue": "sync"},
}
CELERY_TASK_DEFAULT_QUEUE = "sync"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic work, defined here (one beat): poll working orders as they fall due, refresh balances/positions
# and the instrument catalog. Expiry keeps a stopped worker from facing a pile of stale ticks.
CELERY_BEAT_SCHEDULE = {
    "orders-sync-due": {"task": "orders.tasks.orders_sync_due", "schedule": 1.0, "options": {"expires": 5}},
    "accounts-sweep-due": {"task": "orders.tasks.accounts_sweep_due", "schedule": 1.0, "options": {"expires": 5}},
    "accounts-sync-all": {"task": "orders.tasks.accounts_sync_all",
                          "schedule": float(os.environ.get("OMS_BALANCE_SYNC_SECONDS", "30")), "options": {"expires": 30}},
    "markets-sync-all": {"task": "orders.tasks.markets_sync_all", "schedule": 3600.0, "options": {"expires": 600}},
    "accounts-funding-sync-all": {"task": "orders.tasks.accounts_funding_sync_all",
                                  "schedule": float(os.environ.get("OMS_FUNDING_SYNC_SECONDS", "600")),
                                  "options": {"expires": 300}},
}
# Operations: settle orders a crash left pending; compare open orders, balances and positions (report only).
CELERY_BEAT_SCHEDULE.update({
    "recover-pending": {"task": "oms_project.tasks.recover_pending", "schedule": 30.0, "options": {"expires": 30}},
    "reconcile-light": {"task": "oms_project.tasks.reconcile_light", "schedule": 300.0, "options": {"expires": 300}},
})
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING below (JSON lines)
# Celery's Django fixup closes a task's database connections before and after every task unless DB_REUSE_MAX
# is set, and a new PostgreSQL connection costs more than an order submission's queries. Keep them: the
# request-cycle rules (CONN_MAX_AGE, health checks) apply around each task instead (oms_project/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000

# Execution: how the workers talk to venues.
OMS_LANE_THREADS = int(os.environ.get("OMS_LANE_THREADS", "8"))  # order-lane threads per worker on the orders queue
OMS_VENUE_TIMEOUT_SECONDS = float(os.environ.get("OMS_VENUE_TIMEOUT_SECONDS", "10"))  # every venue HTTP call
OMS_RECV_WINDOW_MS = int(os.environ.get("OMS_RECV_WINDOW_MS", "5000"))  # a signed request older than this is refused
# After an unanswered order request, "not found" is trusted only once recvWindow + this grace has passed.
OMS_UNKNOWN_GRACE_SECONDS = float(os.environ.get("OMS_UNKNOWN_GRACE_SECONDS", "5"))
# ccxt's own per-process limiter spaces binance orders ~10 ms apart; the shared Redis limiter already enforces
# the venue's weight and order limits across processes, so it stays off (bench/ccxt_limiter.py: 90 orders
# took 910 ms with it, 97 ms without).
OMS_CCXT_RATE_LIMIT = env_bool("OMS_CCXT_RATE_LIMIT", False)
OMS_RATE_LIMIT_MAX_WAIT_SECONDS = float(os.environ.get("OMS_RATE_LIMIT_MAX_WAIT_SECONDS", "2"))
OMS_MARKETS_TTL_SECONDS = int(os.environ.get("OMS_MARKETS_TTL_SECONDS", "3600"))
# User-data streams (execution/user_streams.py): consumed by workers on the sync queue, one per account and market
# in the deployment (a lease another worker takes over this long after its holder died).
OMS_USER_STREAMS = env_bool("OMS_USER_STREAMS", True)
OMS_USER_STREAM_LEASE_SECONDS = float(os.environ.get("OMS_USER_STREAM_LEASE_SECONDS", "6"))
# Sync sweeps (execution/sweeps.py): every this many seconds while the stream is live (a safety net), at most
# this often while it is down, and never more than this share of the account's published request weight.
OMS_SYNC_SWEEP_LIVE_SECONDS = float(os.environ.get("OMS_SYNC_SWEEP_LIVE_SECONDS", "20"))
OMS_SYNC_SWEEP_MIN_SECONDS = float(os.environ.get("OMS_SYNC_SWEEP_MIN_SECONDS", "1"))
OMS_SYNC_WEIGHT_SHARE = float(os.environ.get("OMS_SYNC_WEIGHT_SHARE", "0.2"))
OMS_BALANCE_SYNC_MIN_SECONDS = float(os.environ.get("OMS_BALANCE_SYNC_MIN_SECONDS", "2"))  # between two after fills
# USD-M funding payments (execution/funding.py): an account with none recorded is read this far back at first.
OMS_FUNDING_LOOKBACK_HOURS = float(os.environ.get("OMS_FUNDING_LOOKBACK_HOURS", str(7 * 24)))
OMS_CANDLES_CACHE_SECONDS = float(os.environ.get("OMS_CANDLES_CACHE_SECONDS", "2"))  # REST/gRPC candles from the venue
OMS_TRADES_PAGE = int(os.environ.get("OMS_TRADES_PAGE", "1000"))  # trades per request (Binance's largest page)
OMS_MARKETDATA_INTERVAL_SECONDS = float(os.environ.get("OMS_MARKETDATA_INTERVAL_SECONDS", "1"))
OMS_WORKER_CONCURRENCY = int(os.environ.get("OMS_WORKER_CONCURRENCY", "2"))  # worker processes `up` starts
# Recovery leaves orders younger than this to the worker handling them; reconciliation skips orders
# changed within OMS_RECONCILE_SETTLE_SECONDS (in motion) and scans trades OMS_RECONCILE_LOOKBACK_HOURS back.
OMS_RECOVERY_MIN_AGE_SECONDS = float(os.environ.get("OMS_RECOVERY_MIN_AGE_SECONDS", "2"))
OMS_RECONCILE_SETTLE_SECONDS = float(os.environ.get("OMS_RECONCILE_SETTLE_SECONDS", "10"))
OMS_RECONCILE_LOOKBACK_HOURS = float(os.environ.get("OMS_RECONCILE_LOOKBACK_HOURS", "24"))
# Trades of every catalog symbol are scanned when the venue lists at most this many (else the traded ones).
OMS_RECONCILE_CATALOG_SCAN_MAX = int(os.environ.get("OMS_RECONCILE_CATALOG_SCAN_MAX", "50"))

# Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g. 10.0.0.0/8); none by
# default, so throttles key on the connecting address. Failed authentications (gRPC and REST) allowed per client.
OMS_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("OMS_TRUSTED_PROXIES", "").split(",") if p.strip()]
OMS_AUTH_FAILURE_RATE = os.environ.get("OMS_AUTH_FAILURE_RATE", "20/min")


def _check_rate_settings() -> None:
    import ipaddress

    for proxy in OMS_TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"OMS_TRUSTED_PROXIES: {proxy!r} is not an address or network") from None
    count, _, period = OMS_AUTH_FAILURE_RATE.partition("/")
    if not count.strip().isdigit() or period.strip()[:1].lower() not in ("s", "m", "h", "d"):
        raise ImproperlyConfigured(f"OMS_AUTH_FAILURE_RATE must look like 20/min, got {OMS_AUTH_FAILURE_RATE!r}")


_check_rate_settings()

# Shared cache (throttle counters, idempotency locks) so every web process sees the same numbers.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": OMS_PUBSUB_PREFIX}}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "orders.api.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "orders.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "orders.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["orders.api.throttling.UserRateThrottle", "orders.api.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("OMS_API_USER_RATE", "1200/min"),
        "anon": os.environ.get("OMS_API_ANON_RATE", "60/min"),
    },
    "EXCEPTION_HANDLER": "orders.api.errors.exception_handler",
    # JSON nested too deeply for the parser is a 400 (orders/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["orders.api.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": "Orders, fills, balances and positions of the accounts the caller is a member of. "
                   "Authenticate with `Authorization: Bearer <token>`. Errors: `{\"error\": {\"code\", \"message\", \"field\"}}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files: the docs work on a network without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"StatusEnum": "orders.models.Status", "SideEnum": "orders.models.Side"},
}
# Server-sent events: how long one stream lives before the browser reconnects, and the heartbeat period.
OMS_SSE_MAX_SECONDS = int(os.environ.get("OMS_SSE_MAX_SECONDS", "300"))
OMS_SSE_HEARTBEAT_SECONDS = float(os.environ.get("OMS_SSE_HEARTBEAT_SECONDS", "15"))
OMS_SSE_AUTH_RECHECK_SECONDS = float(os.environ.get("OMS_SSE_AUTH_RECHECK_SECONDS", "5"))  # a revoked token ends it
# Event streams hold no thread in the events process (uvicorn on oms_project.asgi at OMS_EVENTS_ADDR, run by `up`);
# the WSGI web tier redirects them there when OMS_EVENTS_URL is set, else serves at most OMS_SSE_WSGI_MAX_STREAMS
# per process itself (each holds a thread). Caps per events process and per user.
OMS_EVENTS_ADDR = os.environ.get("OMS_EVENTS_ADDR", "127.0.0.1:8001")
OMS_EVENTS_URL = os.environ.get("OMS_EVENTS_URL", "")
OMS_SSE_MAX_STREAMS = int(os.environ.get("OMS_SSE_MAX_STREAMS", "1000"))
OMS_SSE_MAX_STREAMS_PER_USER = int(os.environ.get("OMS_SSE_MAX_STREAMS_PER_USER", "8"))
OMS_SSE_WSGI_MAX_STREAMS = int(os.environ.get("OMS_SSE_WSGI_MAX_STREAMS", "2"))

# Observability: JSON log lines (OMS_LOG_FORMAT=plain for humans); /metrics optionally behind a bearer token.
OMS_LOG_FORMAT = os.environ.get("OMS_LOG_FORMAT", "json")
OMS_METRICS_TOKEN = os.environ.get("OMS_METRICS_TOKEN", "")
# /metrics on the web port: with OMS_METRICS_TOKEN only for bearers of it; without one it answers 404 unless
# OMS_METRICS_OPEN=1 (on by default only for local development, OMS_DEV=1). Processes without the web tier serve
# their own samples on OMS_METRICS_PORT, which docker-compose.yml keeps on its private network.
OMS_METRICS_OPEN = env_bool("OMS_METRICS_OPEN", env_bool("OMS_DEV", False))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "infra.jsonlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain" if OMS_LOG_FORMAT == "plain" else "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OMS_LOG_LEVEL", "INFO")},
    # ccxt logs request headers (the API key) at DEBUG: never below INFO. Celery's per-task lines (beat's "sending
    # due task", the worker's "received"/"succeeded") come three a second for the order poller alone: WARNING
    # unless asked for.
    "loggers": {
        "ccxt": {"level": "INFO"},
        **{name: {"level": os.environ.get("OMS_CELERY_TASK_LOG_LEVEL", "WARNING")}
           for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")},
    },
}

# gRPC server (manage.py grpcserve). Auth is required unless explicitly turned off; when unset it is
# off only for a loopback bind address (see orders/grpc/server.py).
OMS_GRPC_REQUIRE_AUTH = os.environ.get("OMS_GRPC_REQUIRE_AUTH", "").strip().lower() or None
OMS_GRPC_TLS_CERT = os.environ.get("OMS_GRPC_TLS_CERT", "")
OMS_GRPC_TLS_KEY = os.environ.get("OMS_GRPC_TLS_KEY", "")
OMS_GRPC_WORKERS = int(os.environ.get("OMS_GRPC_WORKERS", "32"))
OMS_GRPC_MAX_STREAMS = int(os.environ.get("OMS_GRPC_MAX_STREAMS", "0")) or None  # order streams; default: half the workers
# Price streams run on the event loop (no thread each): their own cap, by default the concurrent-RPC limit less the
# order streams and 64 unary calls. Per API token: a few order streams, more price streams; 0 = no cap.
OMS_GRPC_MAX_PRICE_STREAMS = int(os.environ.get("OMS_GRPC_MAX_PRICE_STREAMS", "0")) or None
OMS_GRPC_MAX_ORDER_STREAMS_PER_TOKEN = int(os.environ.get("OMS_GRPC_MAX_ORDER_STREAMS_PER_TOKEN", "4"))
OMS_GRPC_MAX_PRICE_STREAMS_PER_TOKEN = int(os.environ.get("OMS_GRPC_MAX_PRICE_STREAMS_PER_TOKEN", "32"))
OMS_GRPC_MAX_CONCURRENT_RPCS = int(os.environ.get("OMS_GRPC_MAX_CONCURRENT_RPCS", "256"))
OMS_GRPC_MAX_MESSAGE_BYTES = int(os.environ.get("OMS_GRPC_MAX_MESSAGE_BYTES", str(4 * 1024 * 1024)))
OMS_GRPC_STREAM_QUEUE_SIZE = int(os.environ.get("OMS_GRPC_STREAM_QUEUE_SIZE", "1000"))
OMS_GRPC_SHUTDOWN_GRACE_SECONDS = float(os.environ.get("OMS_GRPC_SHUTDOWN_GRACE_SECONDS", "10"))
# How often a long-lived stream looks its caller's token up again (a revoked token ends the stream).
OMS_GRPC_STREAM_AUTH_RECHECK_SECONDS = float(os.environ.get("OMS_GRPC_STREAM_AUTH_RECHECK_SECONDS", "5"))
OMS_GRPC_HEALTH_INTERVAL_SECONDS = float(os.environ.get("OMS_GRPC_HEALTH_INTERVAL_SECONDS", "5"))  # database/Redis check
# How long PlaceOrder/CancelOrder wait for the venue's answer before returning the current state.
OMS_PLACE_WAIT_SECONDS = float(os.environ.get("OMS_PLACE_WAIT_SECONDS", "3"))
# CPU time per stage of the order hot path (infra/cpu_stages.py), written to Redis for the benchmark; off in production.
OMS_CPU_STAGES = env_bool("OMS_CPU_STAGES", False)
