"""Project settings, read once from the environment or a `.env` file (python-decouple).

Every variable is listed with a placeholder in `.env.example`; defaults here suit local development.
"""
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from decouple import Csv, config
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -----------------------------------------------------------------------------------------
DEBUG = config("DEBUG", default=False, cast=bool)

SECRET_KEY = config("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: set it in the environment or in .env "
            "(see .env.example)."
        )
    # Only ever used with DEBUG on, so a development server starts without any set-up.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

# JWTs are signed with a key of their own, so rotating it logs everyone out without touching
# sessions, password-reset links or anything else SECRET_KEY signs.
JWT_SIGNING_KEY = config("JWT_SIGNING_KEY", default="")
if not JWT_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY is required when DEBUG is off: set it in the environment or in .env "
            "to a long random string different from SECRET_KEY (see .env.example)."
        )
    JWT_SIGNING_KEY = "insecure-development-jwt-key-do-not-use-in-production"
if JWT_SIGNING_KEY == SECRET_KEY:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from SECRET_KEY.")

ALLOWED_HOSTS = config("ALLOWED_HOSTS", default="127.0.0.1,localhost", cast=Csv())
CSRF_TRUSTED_ORIGINS = config("CSRF_TRUSTED_ORIGINS", default="", cast=Csv())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",  # refresh tokens revoked by rotation and logout
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served locally: no CDN
    "accounts",
    "tickets",
    "tickets.sla",  # business calendars: working time for deadlines
    "tickets.escalation",  # on-call rotations, escalation chains and pages
    "notifications",
    "notifications.whatsapp",  # the WhatsApp channel: Cloud API, webhook, commands
    "notifications.email",  # the email channel
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware: a slash-less /api/ URL is served, not redirected (a redirected POST
    # comes back as a GET).
    "Incident.middleware.ApiTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not DEBUG:
    # Serves the collected admin static files under gunicorn, without a separate web server.
    # (With DEBUG on, runserver serves them from the apps.)
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "Incident.urls"

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

WSGI_APPLICATION = "Incident.wsgi.application"

# --- Database -------------------------------------------------------------------------------------
# An embedded SQLite file unless DATABASE_URL says otherwise (postgres://user@host:5432/name).
# Read through decouple, so a DATABASE_URL in .env counts as much as one in the environment.
DATABASES = {
    "default": dj_database_url.parse(
        config("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=config("DATABASE_CONN_MAX_AGE", default=60, cast=int),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = config("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Attachments ----------------------------------------------------------------------------------
# Files on tickets (tickets.attachments). Never served by URL: every download goes through the
# API's visibility checks. ATTACHMENT_STORAGE=local keeps them under ATTACHMENT_ROOT (outside
# STATIC_ROOT); =s3 in any S3-compatible bucket (django-storages; pip install -r
# requirements-s3.txt).
ATTACHMENT_ROOT = config("ATTACHMENT_ROOT", default=str(BASE_DIR / "attachments"))
ATTACHMENT_MAX_BYTES = config("ATTACHMENT_MAX_BYTES", default=16 * 1024 * 1024, cast=int)
# Allowed types, as the file's content shows them (tickets.filetypes), not as its name claims.
ATTACHMENT_TYPES = config("ATTACHMENT_TYPES", cast=Csv(), default=",".join((
    "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain",
    "audio/ogg", "audio/mpeg", "audio/mp4", "audio/amr", "video/mp4", "video/3gpp",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation")))


def attachment_storage() -> dict:
    """STORAGES["attachments"] from ATTACHMENT_STORAGE and its settings."""
    kind = config("ATTACHMENT_STORAGE", default="local")
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": ATTACHMENT_ROOT, "base_url": None}}
    if kind == "s3":
        bucket = config("ATTACHMENT_S3_BUCKET", default="")
        if not bucket:
            raise ImproperlyConfigured("ATTACHMENT_STORAGE=s3 needs ATTACHMENT_S3_BUCKET.")
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": config("ATTACHMENT_S3_ENDPOINT_URL", default="") or None,
            "region_name": config("ATTACHMENT_S3_REGION", default="") or None,
            "access_key": config("ATTACHMENT_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": config("ATTACHMENT_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": config("ATTACHMENT_S3_PREFIX", default=""),
            # Private objects; a name taken is never overwritten.
            "default_acl": "private", "querystring_auth": True, "file_overwrite": False}}
    raise ImproperlyConfigured(f"ATTACHMENT_STORAGE must be local or s3, not {kind!r}.")


# Static files, and attachments (above).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": attachment_storage(),
    # Hashed, compressed files in production (`collectstatic` first, as `make serve` does).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- HTTPS and cookies (production) -----------------------------------------------------------------
# Secure by default when DEBUG is off; SECURE_SSL_REDIRECT=False where a proxy already redirects.
SECURE_SSL_REDIRECT = config("SECURE_SSL_REDIRECT", default=not DEBUG, cast=bool)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = config("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000, cast=int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG, cast=bool)
# Only a header: the site joins browsers' preload list only if you submit it at hstspreload.org.
SECURE_HSTS_PRELOAD = config("SECURE_HSTS_PRELOAD", default=not DEBUG, cast=bool)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto.
if config("SECURE_PROXY_SSL_HEADER", default=False, cast=bool):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # JWT first, so an unauthenticated API call answers 401 with a WWW-Authenticate header;
    # sessions let a signed-in admin browse the API.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Only the token endpoints are throttled (failed attempts per client address): they are where
    # passwords are guessed.
    "DEFAULT_THROTTLE_RATES": {"auth": config("AUTH_THROTTLE_RATE", default="20/min")},
    # The client address is the socket's unless proxies are trusted to name it in X-Forwarded-For:
    # anyone can send that header, and a throttle keyed on it throttles nobody.
    "NUM_PROXIES": config("TRUSTED_PROXY_COUNT", default=0, cast=int),
    # JSON only: a form-encoded body (curl -d without a Content-Type) is a 415 saying so, not a
    # field named after the whole body.
    "DEFAULT_PARSER_CLASSES": ["Incident.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "Incident.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["Incident.filters.FilterBackend"],
    "EXCEPTION_HANDLER": "Incident.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "Incident.schema.bearer_first"],
    "TITLE": "Incident API",
    "DESCRIPTION": (
        "Ticket management whose every change notifies the right people on WhatsApp. "
        "Get a token from `POST /api/auth/token/`, then send the header "
        "`Authorization: Bearer <access>` with every other request (Swagger: **Authorize**)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "NotificationStatusEnum": "notifications.models.NotificationStatus",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
        "RoleEnum": "accounts.models.Role",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=config("JWT_ACCESS_MINUTES", default=30, cast=int)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=config("JWT_REFRESH_DAYS", default=1, cast=int)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": JWT_SIGNING_KEY,
    # Each refresh returns a new refresh token and blacklists the old one, so a stolen refresh
    # token stops working once its owner refreshes (and at logout).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password they were issued under: changing the password (admin,
    # changepassword, a reset) ends every access and refresh token issued before.
    "CHECK_REVOKE_TOKEN": True,
}

# --- WhatsApp Cloud API ---------------------------------------------------------------------------
# Without an access token the service runs in console mode: messages are printed, not sent, and
# logged as SKIPPED. See docs/whatsapp.md, "WhatsApp notifications".
WHATSAPP_ACCESS_TOKEN = config("WHATSAPP_ACCESS_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = config("WHATSAPP_PHONE_NUMBER_ID", default="")
# The WhatsApp Business Account that holds the templates (`manage.py whatsapp_templates`).
WHATSAPP_BUSINESS_ACCOUNT_ID = config("WHATSAPP_BUSINESS_ACCOUNT_ID", default="")
# The business number as people dial it (+ and digits): the profile's wa.me link for proving a
# number (docs/two-way.md, "Talking back on WhatsApp"). Optional.
WHATSAPP_BUSINESS_NUMBER = config("WHATSAPP_BUSINESS_NUMBER", default="")
# Meta stops serving each version about two years after its release: notifications.whatsapp.versions
# lists the days, and `manage.py check` warns 90 days ahead.
WHATSAPP_API_VERSION = config("WHATSAPP_API_VERSION", default="v25.0")
WHATSAPP_API_BASE_URL = config("WHATSAPP_API_BASE_URL", default="https://graph.facebook.com")
WHATSAPP_TIMEOUT = config("WHATSAPP_TIMEOUT", default=10, cast=float)
# Seconds before the first and second automatic retry of a send that can safely be repeated.
WHATSAPP_RETRY_BACKOFF = config("WHATSAPP_RETRY_BACKOFF", default="0.2,0.6", cast=Csv(float))
# How many messages of one event are sent at once: above the usual recipient count, so that an
# event costs about one round trip to Graph (bench/ measures it).
WHATSAPP_MAX_WORKERS = config("WHATSAPP_MAX_WORKERS", default=32, cast=int)
# More than this many WhatsApp notifications to one person within a minute: the rest wait and go
# as one digest (notifications.digests); 0 turns digests off.
WHATSAPP_DIGEST_AFTER = config("WHATSAPP_DIGEST_AFTER", default=3, cast=int)
# `auto` (free text while the recipient wrote to the business number in the last 24 hours, a
# template otherwise: the only mode that reaches someone who never wrote, and the default),
# `text` (always free text) or `template` (always templates).
WHATSAPP_MESSAGE_MODE = config("WHATSAPP_MESSAGE_MODE", default="auto")
# JSON overriding the templates of the notices table (NOTICES, notifications/messages.py), e.g.
# {"TICKET_CREATED": {"name": "ticket_created", "language": "en_US", "params": ["ticket_id", "title"]}}
WHATSAPP_TEMPLATES = config("WHATSAPP_TEMPLATES", default="")
# Which WhatsApp numbers must be proved (the code sent from that phone) before anything is sent to
# them or taken from them: `self` (numbers users set for themselves through the API), `all`, `none`.
WHATSAPP_REQUIRE_PROOF = config("WHATSAPP_REQUIRE_PROOF", default="self").strip().lower()
# Webhooks: the string you type in the App Dashboard, and the app secret that signs payloads.
WHATSAPP_WEBHOOK_VERIFY_TOKEN = config("WHATSAPP_WEBHOOK_VERIFY_TOKEN", default="")
WHATSAPP_APP_SECRET = config("WHATSAPP_APP_SECRET", default="")
# The WhatsApp phone simulator at /simulator/ (staff only; only in console mode): on with DEBUG,
# or with this set to True (e.g. a demo server with DEBUG off).
WHATSAPP_SIMULATOR = config("WHATSAPP_SIMULATOR", default=False, cast=bool)
# The seam that chooses the sender: a dotted path to a function returning a client. The default
# picks the Cloud API client when a token is set, the console client otherwise.
WHATSAPP_CLIENT_FACTORY = "notifications.whatsapp.clients.default_client"

# --- Notification channels and email ------------------------------------------------------------
# `whatsapp`, or `whatsapp,email` to email every recipient with an address as well.
NOTIFICATION_CHANNELS = config("NOTIFICATION_CHANNELS", default="whatsapp", cast=Csv())
# Email a user whose WhatsApp message was skipped or failed for good.
NOTIFICATION_EMAIL_FALLBACK = config("NOTIFICATION_EMAIL_FALLBACK", default=False, cast=bool)
EMAIL_BACKEND = config("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = config("EMAIL_HOST", default="localhost")
EMAIL_PORT = config("EMAIL_PORT", default=25, cast=int)
EMAIL_HOST_USER = config("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = config("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = config("EMAIL_USE_TLS", default=False, cast=bool)
EMAIL_TIMEOUT = config("EMAIL_TIMEOUT", default=10, cast=int)
DEFAULT_FROM_EMAIL = config("DEFAULT_FROM_EMAIL", default="Incident <noreply@localhost>")

# --- Delivery, shared state and scale-out (docs/scaling-out.md, "Scaling out") -----------------------------------
# `inline`: the request that changed a ticket sends its notifications after commit (nothing else to
# run). `celery`: it hands them to Celery workers on commit and answers at once.
NOTIFICATION_DELIVERY = config("NOTIFICATION_DELIVERY", default="inline").strip().lower()
# Redis for state every process must share: the login throttle's counts (Django's cache) and the
# pace of sends to Meta. CACHE_URL is accepted as another name for it. Unset: per-process memory.
REDIS_URL = config("REDIS_URL", default="") or config("CACHE_URL", default="")
# Seconds to connect to Redis and to wait for an answer: a Redis that is down or silent costs a
# login this long once (the throttle then counts per process), and /healthz at most this per check.
REDIS_TIMEOUT = config("REDIS_TIMEOUT", default=0.5, cast=float)
if REDIS_URL:
    # CACHE_KEY_PREFIX keeps installations that share one Redis apart.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL,
                          "KEY_PREFIX": config("CACHE_KEY_PREFIX", default="incident"),
                          "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT,
                                      "socket_timeout": REDIS_TIMEOUT}}}
# Meta's throughput per business number (80 messages a second unless Meta raised it), counted over
# every worker on every host when REDIS_URL is set.
WHATSAPP_MAX_MESSAGES_PER_SECOND = config("WHATSAPP_MAX_MESSAGES_PER_SECOND", default=80, cast=int)
# Celery (NOTIFICATION_DELIVERY=celery). The broker defaults to REDIS_URL.
CELERY_BROKER_URL = config("CELERY_BROKER_URL", default="") or REDIS_URL or "redis://127.0.0.1:6379/0"
# The queue the app servers fill and the workers read: one per installation sharing a Redis.
CELERY_TASK_DEFAULT_QUEUE = config("CELERY_QUEUE", default="notifications")
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it ends, so one whose worker dies is delivered again; the ledger's
# claims make the second run send only what the first had not claimed.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A ticket change must not wait on a broker that is down: fail fast, the rows stay QUEUED.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5,
                                   "max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Seconds between timer passes with workers (deadlines, escalation steps); inline, the recovery
# pass (every minute) is the timer pass.
TIMER_TICK_SECONDS = config("TIMER_TICK_SECONDS", default=5.0, cast=float)
# Seconds a WhatsApp page may go without a `delivered` report before it is emailed too.
PAGE_EMAIL_AFTER = config("PAGE_EMAIL_AFTER", default=120, cast=int)
# Meta's rate for a utility template to your recipients (any currency; blank: pages' cost is not
# shown on the insights page, only how many were charged).
def _price(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except ArithmeticError:
        raise ImproperlyConfigured(f"WHATSAPP_UTILITY_PRICE must be a number such as 0.0080, not "
                                   f"{value!r}.") from None


WHATSAPP_UTILITY_PRICE = config("WHATSAPP_UTILITY_PRICE", default="", cast=_price)
CELERY_BEAT_SCHEDULE = {
    # The recovery pass of deliver_pending_notifications, every minute, on whichever worker.
    "recover-notifications": {"task": "notifications.tasks.recover_notifications", "schedule": 60.0},
    # Deadlines and escalation steps: a page goes out at most this long after its moment.
    "tick-timers": {"task": "notifications.tasks.tick_timers", "schedule": TIMER_TICK_SECONDS},
}

# --- Logging --------------------------------------------------------------------------------------
# Plain lines while developing, JSON lines in production (DEBUG off) for log collectors.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "Incident.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain" if DEBUG else "json"}
    },
    "root": {"handlers": ["console"], "level": config("LOG_LEVEL", default="INFO")},
    # Django gives its own logger a console handler too; with root's that printed every 4xx/5xx
    # line and traceback twice. Everything goes through root's one handler instead.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
