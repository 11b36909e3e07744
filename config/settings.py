"""Yidi settings: one file, everything from the environment.

Defaults give the embedded set-up (SQLite, jobs run in-process, DEBUG on);
production sets DJANGO_DEBUG=0 and must then provide DJANGO_SECRET_KEY.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.storage import s3_storage_setting

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0/1, true/false, yes/no or on/off, not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


DEBUG = env_bool("DJANGO_DEBUG", True)
TESTING = "pytest" in sys.modules or env_bool("YIDI_TESTING", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=0 a secret key is required: "
            'generate one with  python -c "import secrets; print(secrets.token_urlsafe(50))"  '
            "and put it in the environment."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug-and-tests-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if not DEBUG else ["*"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "core.admin_app.AdminConfig",  # django.contrib.admin, its modules discovered by config.urls
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "filings",
    "reimbursement",
    "clearing",
    "cooperation",
    "monitoring",
]

MIDDLEWARE = [
    "core.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.otp.OTPRequiredMiddleware",
    "core.passwords.PasswordChangeRequiredMiddleware",
    "core.middleware.IdleTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # AxesMiddleware should be the last middleware.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Background threads and the web request share the file: wait for locks
    # instead of failing at once, and use WAL so readers never block.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("YIDI_DB_JIT", False):
    # The portal's queries are short; PostgreSQL's JIT compiler, set off by the plan cost of a
    # big region's list, spent 450-540 ms compiling per request at a big city's volume.
    # YIDI_DB_JIT=1 gives it back (a reporting replica may want it).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (options.get("options", "") + " -c jit=off").strip()
if env_str("DATABASE_REPLICA_URL"):
    # A read replica (streaming replication) for the read-only pages of 运行监测: their reads go
    # there (core.db_routers), every write and every transaction stays on the primary. The same
    # options as the primary; in tests it is a mirror of the default database (no own test copy).
    DATABASES["replica"] = dj_database_url.parse(
        env_str("DATABASE_REPLICA_URL"),
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be the same kind of database as DATABASE_URL (its read replica)")
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "core.validators.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "core.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "core.passwords.UsernameDerivedValidator"},
    {"NAME": "core.passwords.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Encryption at rest of ID numbers and bank accounts (core.crypto): AES-GCM keys as
# "id:base64,id:base64" (the first seals, all open: rotate by putting a new key first and
# running manage.py rotate_field_keys), and the key of the blind index used to search.
# Unset, both are a fixed, public development key — fine for development, tests and
# benchmarks; check --deploy refuses it in production.
YIDI_FIELD_KEYS = env_str("YIDI_FIELD_KEYS")
YIDI_BLIND_INDEX_KEY = env_str("YIDI_BLIND_INDEX_KEY")

# Second factor (core.otp): TOTP for every staff account, required in production.
# Off by default only outside production (DJANGO_DEBUG=1, and the test suite, whose
# force_login sessions have no device; tests that need it turn it on).
YIDI_OTP_REQUIRED = env_bool("YIDI_OTP_REQUIRED", not DEBUG and not TESTING)
OTP_TOTP_ISSUER = "异地就医经办服务平台"
# Wrong codes are failed logins: django-axes locks the username after 5, so django-otp's
# own back-off (which would refuse a right code typed a second after a wrong one) is off.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# django-axes: lock by username only. A counter office shares one public
# address, so locking by IP would lock out every clerk behind it.
AXES_ENABLED = env_bool("YIDI_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# axes.W006 warns that username-only locking ignores the IP: that is the point here.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Sessions end after 30 idle minutes (core.middleware.IdleTimeoutMiddleware);
# the cookie itself is capped at one working day.
# The province this deployment serves (its province-level centre and every city in it).
YIDI_HOME_PROVINCE = env_str("YIDI_HOME_PROVINCE", "320000")
# Audit records are kept at least 6 months (等保 三级); older ones are purged by an audited job.
YIDI_AUDIT_RETENTION_DAYS = env_int("YIDI_AUDIT_RETENTION_DAYS", 365)
if YIDI_AUDIT_RETENTION_DAYS < 183:
    raise ImproperlyConfigured("YIDI_AUDIT_RETENTION_DAYS must be at least 183 (six months)")
YIDI_IDLE_TIMEOUT = timedelta(minutes=env_int("YIDI_IDLE_TIMEOUT_MINUTES", 30))
SESSION_COOKIE_AGE = 10 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
# Third-party front-end code comes from npm packages (package.json), served by
# Django/whitenoise under static/vendor/ (core.staticfinders.VENDOR_FILES):
# agency networks are closed, nothing comes from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "core.staticfinders.ProjectAppDirectoriesFinder",
    "core.staticfinders.VendorFinder",
]
# Serve static files straight from their sources (no collectstatic): debugging,
# tests and the single-machine trial of `make run`. Production collects them
# into STATIC_ROOT with hashed, compressed names.
STATIC_FROM_SOURCE = env_bool("DJANGO_STATIC_FROM_SOURCE", DEBUG or TESTING)
if STATIC_FROM_SOURCE:
    STATIC_ROOT = None  # nothing is collected: whitenoise serves through the finders alone
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if STATIC_FROM_SOURCE
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Several hosts share generated documents and uploads through an S3-compatible bucket
# (YIDI_S3_BUCKET and friends: config/storage.py, docs/deployment.md); local disk otherwise.
_S3_STORAGE = s3_storage_setting(os.environ)
if _S3_STORAGE:
    STORAGES["default"] = _S3_STORAGE
WHITENOISE_USE_FINDERS = STATIC_FROM_SOURCE
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# The largest settlement file the upload page takes (the small imports take 5 MB: core.safe_files).
YIDI_SETTLEMENT_UPLOAD_MAX_MB = env_int("YIDI_SETTLEMENT_UPLOAD_MAX_MB", 1024)

# --- Security -----------------------------------------------------------------
# With DEBUG off the TLS-only settings are on unless DJANGO_HTTPS=0 (plain HTTP
# behind a trusted proxy, or a local trial).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from this server, nothing inline —
# no <script>/<style> blocks, no style="" or on…="" attributes (issue 14). Bootstrap's
# CSS draws its checkboxes and selects with data: SVG images; htmx requests stay on
# the same origin. A page that truly needs an inline block uses the request's nonce
# ({{ request.csp_nonce }}) and adds csp.constants.NONCE to its directive with @csp_update.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
# Browser features the portal never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(self), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
if not HTTPS and not DEBUG:
    # A deliberate plain-HTTP deployment: do not nag about what was switched off.
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]

# --- Cache, Celery and jobs ---------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The cache is per process unless CACHE_URL names a Redis database of its own
# (never the broker's: clearing the cache must not drop queued jobs).
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Home-page figures are kept this many seconds, and counted afresh as soon as a row they count
# changes (core.figures.kept_figures). Only with a shared cache: a per-process one cannot hear of
# another process's change, so without CACHE_URL they are counted on every request (0).
YIDI_HOME_FIGURES_TTL = env_int("YIDI_HOME_FIGURES_TTL", 60 if CACHE_URL else 0)

# "celery": jobs go to the Celery broker; "thread": run in a background thread
# of this process (the embedded default, no server needed); "sync": run
# inside the caller after commit (tests).
YIDI_JOB_RUNNER = env_str("YIDI_JOB_RUNNER") or ("sync" if TESTING else "celery" if REDIS_URL else "thread")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("YIDI_TASK_TIME_LIMIT", 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_TASK_DEFAULT_QUEUE = env_str("YIDI_CELERY_QUEUE", "yidi")
# Settlement imports (a 1M-row month holds a core for minutes) have a queue of their own
# and their own worker, so notices and short jobs never wait behind them.
YIDI_CELERY_IMPORT_QUEUE = env_str("YIDI_CELERY_IMPORT_QUEUE", f"{CELERY_TASK_DEFAULT_QUEUE}-imports")
# A job's row is touched every YIDI_JOB_HEARTBEAT_SECONDS by the process running it;
# silent for YIDI_JOB_STALE_SECONDS means that process is gone (a killed worker, a
# restarted `make run`): the sweep (beat, or the thread runner's keeper thread,
# every YIDI_JOB_SWEEP_SECONDS) runs the job once more or, after
# YIDI_JOB_MAX_ATTEMPTS runs, fails it with the reason (core/jobs.py).
YIDI_JOB_HEARTBEAT_SECONDS = env_int("YIDI_JOB_HEARTBEAT_SECONDS", 30)
YIDI_JOB_STALE_SECONDS = env_int("YIDI_JOB_STALE_SECONDS", 120)
YIDI_JOB_SWEEP_SECONDS = env_int("YIDI_JOB_SWEEP_SECONDS", 60)
YIDI_JOB_MAX_ATTEMPTS = env_int("YIDI_JOB_MAX_ATTEMPTS", 2)
YIDI_JOB_QUEUE_TIMEOUT = env_int("YIDI_JOB_QUEUE_TIMEOUT", 6 * 60 * 60)
if YIDI_JOB_STALE_SECONDS < 2 * YIDI_JOB_HEARTBEAT_SECONDS or YIDI_JOB_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured(
        "YIDI_JOB_STALE_SECONDS must be at least twice YIDI_JOB_HEARTBEAT_SECONDS, and YIDI_JOB_MAX_ATTEMPTS at least 1"
    )
# Acks late: a message is acknowledged when its job ends, so a lost worker's job is
# delivered again. Redis redelivers an unacknowledged message after the visibility
# timeout; no job runs longer than the hard limit, so a little more than that is enough
# (the heartbeat sweep above finds a dead job within minutes anyway, and a delivery of a
# job that is still alive elsewhere is dropped).
# An unreachable Redis fails the enqueue (and so the job, with a Chinese reason) within
# seconds instead of holding the request for the system's two-minute connect timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 120, "socket_connect_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Beat's schedule (run `celery -A config beat`): the stale-job sweep by interval, the daily jobs at a
# time of day (weekday 0 = Sunday); config.celery makes Celery's schedule of it, so that settings,
# and every process that never sends a job, need not import Celery. Each task is also a management command.
YIDI_BEAT_SCHEDULE: dict = {
    "core-recover-stale-jobs": {"task": "core.recover_stale_jobs", "every": timedelta(seconds=YIDI_JOB_SWEEP_SECONDS)},
    "core-verify-audit": {"task": "core.verify_audit_chain", "at": "02:00"},
    "core-purge-audit": {"task": "core.purge_audit", "at": "02:30", "weekday": 0},
    "filings-expire-temporary": {"task": "filings.expire_filings", "at": "00:30"},
    "reimbursement-refresh-deadlines": {"task": "reimbursement.refresh_deadline_flags", "at": "01:00"},
    "clearing-cover-overdue": {"task": "clearing.cover_overdue_with_advances", "at": "01:30"},
    "cooperation-daily": {"task": "cooperation.daily", "at": "01:45"},
}

# --- Forms and UI -------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Import previews wait in the default storage (the shared bucket on several hosts), never a host's /tmp.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
# Cells starting with = + - @ are prefixed so spreadsheets do not run them.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}
