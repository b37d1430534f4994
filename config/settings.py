"""Settings, read from the environment only (see README, "Configuration").

A bad value stops start-up with one line naming the variable and the reason.
"""

import os
import re
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from evidence.core.secrets import SecretFileError, read_secret  # Django-free, safe before apps load

BASE_DIR = Path(__file__).resolve().parent.parent


def fail(name: str, why: str) -> None:
    """Stop start-up with one line: which variable, and why."""
    sys.exit(f"configuration error: {name}: {why}")


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    fail(name, f"expected true or false, got {value!r}")
    return False  # unreachable


def envint(name: str, default: int, minimum: int = 0) -> int:
    raw = os.getenv(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fail(name, f"expected a whole number, got {raw!r}")
    if value < minimum:
        fail(name, f"must be at least {minimum}, got {value}")
    return value


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE."""
    try:
        return read_secret(name, default)
    except SecretFileError as exc:
        fail(exc.variable, exc.why)
    return default  # unreachable


def database_from_url(name: str, url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # As SQLAlchemy and dj-database-url: sqlite:///relative/path, sqlite:////absolute/path.
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            fail(name, "expected sqlite:///relative/path or sqlite:////absolute/path")
        path = Path(url[len("sqlite:///") :])
        return sqlite_database(path if path.is_absolute() else BASE_DIR / path)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        if not parts.path.strip("/"):
            fail(name, "PostgreSQL URL needs a database name, e.g. postgres://user@host/db")
        try:
            import dj_database_url

            config = dj_database_url.parse(url, conn_max_age=60)
        except ValueError as exc:
            fail(name, str(exc))
        config["ENGINE"] = "django.db.backends.postgresql"
        return dict(config)
    fail(name, f"unsupported scheme {parts.scheme or '(none)'!r}; use postgres://... or sqlite:///PATH")
    return {}  # unreachable


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # One writer at a time: take the write lock at BEGIN, wait for it rather than fail.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        },
        "TEST": {"NAME": None},
    }


DEBUG = envbool("DEBUG", "false")
DEVELOPMENT_SECRET_KEY = "insecure-dev-key-set-SECRET_KEY-in-production"  # noqa: S105  (refused below)
SECRET_KEY = envsecret("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
SECRET_MIN_LENGTH = 50  # Django's own deploy check asks for 50 characters, 5 of them different
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    fail("SECRET_KEY", "not set; set SECRET_KEY or SECRET_KEY_FILE (the development key is refused with DEBUG off)")
if not DEBUG and (len(SECRET_KEY) < SECRET_MIN_LENGTH or len(set(SECRET_KEY)) < 5):
    fail("SECRET_KEY", f"too short or too plain; use at least {SECRET_MIN_LENGTH} random characters")
ALLOWED_HOSTS = [
    h.strip() for h in os.getenv("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # runserver leaves static files to WhiteNoise, as in production
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: stored as SHA-512 digests, with an expiry; revoked by deleting the row
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, never a CDN
    "ledger",
    "evidence",  # the history of the evidence tables before the split (migrations only)
    "evidence.core",
    "evidence.sources",
    "evidence.readmodels",
    "evidence.compliance",
    "exports",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files in every mode (DEBUG or not)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.admin_access.AdminNeedsAGroupMiddleware",  # signed in, in no group: 403 on every admin page
    "evidence.core.access_evidence.AccessActorMiddleware",  # access.* entries name who made the change
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --- Production HTTP hardening (README, "Production"): all off by default for the embedded demo ------
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes and scrapes inside the cluster
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
if envbool("TRUST_X_FORWARDED_PROTO", "false"):  # behind a TLS-terminating proxy that sets it
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("https://", "http://")):
        fail("CSRF_TRUSTED_ORIGINS", f"{_origin!r} needs its scheme, e.g. https://ledger.example.com")
# Error reports (DEBUG pages, mail to admins) hide settings and headers that can carry secrets,
# including URLs with passwords (REDIS_URL, DATABASE_URL) and Authorization headers.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.errors.SecretsHiddenFilter"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
            ]
        },
    }
]

_database_url = os.getenv("DATABASE_URL", "").strip()
DATABASES = {
    "default": database_from_url("DATABASE_URL", _database_url)
    if _database_url
    else sqlite_database(BASE_DIR / "ledger.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# PostgreSQL role that the application connects as: INSERT and SELECT only on ledger tables.
LEDGER_APP_ROLE = os.getenv("LEDGER_APP_ROLE", "ledger_app")

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"  # `manage.py collectstatic` fills it (the Dockerfile does)
# WhiteNoise serves STATIC_ROOT; until collectstatic has run (a fresh clone, runserver, tests) it
# serves the apps' own static directories instead, so the admin is styled with DEBUG off too.
WHITENOISE_USE_FINDERS = not STATIC_ROOT.is_dir()
if WHITENOISE_USE_FINDERS:  # ... and that is expected, not worth a warning at every start
    warnings.filterwarnings("ignore", message=f"No directory at: {re.escape(str(STATIC_ROOT))}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # gzip and Brotli copies made by collectstatic; no manifest, so pages render before it has run.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = os.getenv("REDIS_URL", "").strip()
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "redis+socket"):
    fail("REDIS_URL", f"unsupported scheme {urlsplit(REDIS_URL).scheme or '(none)'!r}; use redis://host:port/db")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # no broker: tasks run inline, in the caller's process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A producer never waits long on a broker outage: its record is already durable in the queue table.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Seconds between checkpoints: the beat schedule with a broker; without one, the longest an inline
# append leaves the unsigned tail before it signs (or LEDGER_CHECKPOINT_ENTRIES entries, if sooner).
LEDGER_CHECKPOINT_INTERVAL = envint("LEDGER_CHECKPOINT_INTERVAL", 300, minimum=1)
LEDGER_CHECKPOINT_ENTRIES = envint("LEDGER_CHECKPOINT_ENTRIES", 1000, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "ledger-sequence": {"task": "ledger.tasks.sequence", "schedule": 10.0},
    "evidence-harvest-due": {"task": "evidence.tasks.harvest_due", "schedule": 60.0},
    "evidence-project": {"task": "evidence.tasks.project", "schedule": 30.0},
    "ledger-checkpoint": {
        "task": "ledger.tasks.checkpoint",
        "schedule": float(LEDGER_CHECKPOINT_INTERVAL),
    },
}

# --- Ledger ---------------------------------------------------------------------------------
LEDGER_SIGNING_KEY = os.getenv("LEDGER_SIGNING_KEY", str(BASE_DIR / "var" / "ledger-signing.key"))
LEDGER_ORIGIN = os.getenv("LEDGER_ORIGIN", "evidence-ledger.local/ledger")
LEDGER_MAX_PAYLOAD_BYTES = envint("LEDGER_MAX_PAYLOAD_BYTES", 1024 * 1024, minimum=1024)
# Every signed checkpoint is also written here as <size>.note (create-only): the copy outside the database.
LEDGER_CHECKPOINT_DIR = os.getenv("LEDGER_CHECKPOINT_DIR", str(BASE_DIR / "var" / "checkpoints"))
# RFC 3161 timestamp authority asked for a token over each checkpoint it signs (optional). A TSA that
# does not answer within LEDGER_TSA_TIMEOUT seconds leaves that checkpoint signed but not timestamped.
LEDGER_TSA_URL = os.getenv("LEDGER_TSA_URL", "").strip()
LEDGER_TSA_CERT = os.getenv("LEDGER_TSA_CERT", "").strip()  # PEM; tokens must be signed by it (else: embedded)
LEDGER_TSA_TIMEOUT = envint("LEDGER_TSA_TIMEOUT", 10, minimum=1)

# --- Audit packs ----------------------------------------------------------------------------
PACK_STORAGE_DIR = os.getenv("PACK_STORAGE_DIR", str(BASE_DIR / "var" / "packs"))
# The operator's PAdES certificate: PEM certificate + PEM key, or a PKCS#12 file with PACK_SIGNING_KEY="".
PACK_SIGNING_CERT = os.getenv("PACK_SIGNING_CERT", str(BASE_DIR / "var" / "pack-signing.crt"))
PACK_SIGNING_KEY = os.getenv("PACK_SIGNING_KEY", str(BASE_DIR / "var" / "pack-signing.key"))
PACK_SIGNING_KEY_PASSWORD = envsecret("PACK_SIGNING_KEY_PASSWORD")
PACK_TSA_URL = os.getenv("PACK_TSA_URL", "").strip()  # RFC 3161 timestamp authority, optional

# --- Evidence sources -----------------------------------------------------------------------
EVIDENCE_SOURCES_FILE = os.getenv("EVIDENCE_SOURCES_FILE", "")
GITHUB_WEBHOOK_SECRET = envsecret("GITHUB_WEBHOOK_SECRET")
GITLAB_WEBHOOK_TOKEN = envsecret("GITLAB_WEBHOOK_TOKEN")
ARGOCD_WEBHOOK_TOKEN = envsecret("ARGOCD_WEBHOOK_TOKEN")
FLUX_WEBHOOK_TOKEN = envsecret("FLUX_WEBHOOK_TOKEN")
INCIDENT_WEBHOOK_SECRET = envsecret("INCIDENT_WEBHOOK_SECRET")  # /hooks/incident/ (HMAC-SHA256)
WEBHOOK_MAX_BODY_BYTES = envint("WEBHOOK_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)  # larger: 413

# --- DORA metrics (docs/dora.md) -----------------------------------------------------------
# A deployment followed within this many hours by a hotfix, a revert or a rollback of the same
# application and environment counts as a failed change.
DORA_FAILURE_WINDOW_HOURS = envint("DORA_FAILURE_WINDOW_HOURS", 72, minimum=1)
# Pull requests whose title or head branch matches are hotfixes / reverts (Python regular expressions).
DORA_HOTFIX_PATTERN = os.getenv("DORA_HOTFIX_PATTERN", r"(?i)^(hotfix\b|\[hotfix\]|hotfix/)")
DORA_REVERT_PATTERN = os.getenv("DORA_REVERT_PATTERN", r'(?i)^revert\b|^Revert "')
# GitHub/GitLab issues (from webhook deliveries) with this label are incidents.
DORA_INCIDENT_LABEL = os.getenv("DORA_INCIDENT_LABEL", "incident").strip()
# The environment of a labelled issue that carries no `environment:<name>` label.
DORA_INCIDENT_ENVIRONMENT = os.getenv("DORA_INCIDENT_ENVIRONMENT", "prod").strip()
for _name in ("DORA_HOTFIX_PATTERN", "DORA_REVERT_PATTERN"):
    try:
        re.compile(globals()[_name])
    except re.error as _exc:
        fail(_name, f"not a regular expression: {_exc}")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",  # `Authorization: Token <token>`
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["evidence.core.permissions.ReadsEvidence"],  # no group: 403, anonymous: 401
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.getenv("API_THROTTLE_ANON", "60/minute"),
        "user": os.getenv("API_THROTTLE_USER", "6000/minute"),
    },
}
API_TOKEN_TTL_DAYS = envint("API_TOKEN_TTL_DAYS", 90, minimum=1)  # a token lapses this long after issue
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS), "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance evidence ledger API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["evidence.core.permissions.ReadsEvidence"],  # like every endpoint: no group, 403
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOG_FORMAT = os.getenv("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in ("json", "text"):
    fail("LOG_FORMAT", f"expected json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}

# --- Operations -----------------------------------------------------------------------------
METRICS_TOKEN = envsecret("METRICS_TOKEN")  # when set, /metrics wants `Authorization: Bearer <token>`
READY_MAX_SEQUENCER_BACKLOG = envint("READY_MAX_SEQUENCER_BACKLOG", 10000, minimum=1)
