"""Settings for chatops, read from the environment through django-environ.

With no variable set the app runs on its embedded default: SQLite, the in-memory channel
layer, Celery tasks run inline and e-mail printed to the console. Every variable is listed
in the README's configuration table.
"""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer may keep their variables in .env; production sets real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# Only ever used with DEBUG on; production refuses to start without SECRET_KEY.
_DEVELOPMENT_SECRET = "dev-only-secret-do-not-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (DEBUG=0).")
    SECRET_KEY = _DEVELOPMENT_SECRET

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "accounts.admin_site.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # django-axes: login throttling (failures per username and address, lockout, unlock in the admin)
    "axes",
    "rest_framework",
    # drf-spectacular: the API's OpenAPI schema; its sidecar serves Swagger UI from our own static files
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Ours, from the bottom layer up (docs/architecture.md): each imports only those listed before it.
    "moments",
    "accounts",
    "outbox",
    "tenants",
    "workforce",
    "conversations",
    "reporting",
    "integrations",
    "chatops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: the operations admin reads every tenant's rows (tenants/scoping.py).
    "chatops.middleware.OpsAdminAcrossTenantsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatops.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "chatops.asgi.application"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery broker --------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # Redis pub/sub (channels_redis', with consumers' own channels kept in their process): one PUBLISH per
    # group send, fanned out inside each process, no capacity after which events are dropped (the core
    # layer dropped every event past its capacity per process without a word). Pub/sub keeps nothing for a
    # process that is not listening: clients find out what they missed by sequence number and their
    # periodic ping (docs/performance.md, "Live-chat transport").
    # Pub/sub channels are shared by every database of a Redis server, so processes on another database
    # number (another deployment, or another pytest-xdist worker of the suite) get a prefix of their own
    # and never hear this one's events; database 0 keeps channels_redis' own prefix.
    _redis_database = urlsplit(REDIS_URL).path.strip("/") or "0"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chatops.channel_layer.GroupPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 5, "socket_timeout": 15}],
                "prefix": "asgi" if _redis_database == "0" else f"db{_redis_database}.asgi",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Counters every daphne process must agree on (the widget's message rate limit): in Redis when there is
# one, else in the process's memory (the embedded default runs one process).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chatops",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
if REDIS_URL:
    # kombu's Redis transport with the fix for the worker's crash when Redis restarts (see chatops/broker.py).
    CELERY_BROKER_TRANSPORT = "chatops.broker:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it has run, not when it arrives, and one whose process died goes back to
# the queue: a worker killed mid-task loses nothing (every task is safe to run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep reconnecting to Redis for as long as it is away, at startup and after a connection loss.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# --- Live chat clocks (seconds): what the protocol promises (conversations/protocol.py, "Presence") ----
# The fault tests (tests/faults/) shorten them in the processes they start; production keeps the defaults.
# A console that has not pinged for PROBE_AFTER is asked to ping; one silent for CLOSE_AFTER is closed
# (checked every WATCH_EVERY); a ping records the console as alive at most every TOUCH_EVERY.
CHAT_CONSOLE_PROBE_AFTER = env.float("CHAT_CONSOLE_PROBE_AFTER", default=20.0)
CHAT_CONSOLE_CLOSE_AFTER = env.float("CHAT_CONSOLE_CLOSE_AFTER", default=30.0)
CHAT_CONSOLE_WATCH_EVERY = env.float("CHAT_CONSOLE_WATCH_EVERY", default=2.0)
CHAT_CONSOLE_TOUCH_EVERY = env.float("CHAT_CONSOLE_TOUCH_EVERY", default=5.0)
# An agent is routable while a console of theirs has pinged within CONSOLE_ALIVE; one silent for
# AGENT_GRACE is set offline by the clock (run every CLOCK_EVERY) and their chats go back to the queue.
CHAT_CONSOLE_ALIVE_SECONDS = env.float("CHAT_CONSOLE_ALIVE_SECONDS", default=30.0)
CHAT_AGENT_GRACE_SECONDS = env.float("CHAT_AGENT_GRACE_SECONDS", default=60.0)
CHAT_CLOCK_EVERY = env.float("CHAT_CLOCK_EVERY", default=5.0)
# A chat's widget socket silent this long belonged to a daphne process that died: it no longer counts.
CHAT_VISITOR_SOCKET_SILENCE_SECONDS = env.float("CHAT_VISITOR_SOCKET_SILENCE_SECONDS", default=150.0)
# A widget's ping (every 20 s) records it as still there at most this often: well inside the silence above.
CHAT_VISITOR_TOUCH_EVERY = env.float("CHAT_VISITOR_TOUCH_EVERY", default=CHAT_VISITOR_SOCKET_SILENCE_SECONDS / 3)

CELERY_BEAT_SCHEDULE = {
    # A clock run that waited longer than its interval (no worker free) is dropped: the next one does its work.
    "live-chat-timers": {
        "task": "chatops.tasks.run_live_chat_timers",
        "schedule": CHAT_CLOCK_EVERY,
        "options": {"expires": 2 * CHAT_CLOCK_EVERY},
    },
    # E-mails whose first request to a worker was lost, their retries, and those whose worker died.
    "outbox-due": {"task": "outbox.tasks.deliver_due", "schedule": 15.0, "options": {"expires": 15}},
    # Webhook deliveries whose first request to a worker was lost, their retries, and those whose worker died.
    "webhooks-due": {
        "task": "integrations.tasks.deliver_due_webhooks",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    "onboarding-overdue-steps-daily": {
        "task": "tenants.tasks.email_overdue_onboarding_steps",
        "schedule": crontab(hour=7, minute=30),
    },
    # Each run sends the weekly (Monday) and monthly (1st) reports whose tenant's local clock has passed
    # 07:00; a report already recorded is never queued again, so the runs may overlap or repeat.
    "reports-due": {"task": "reporting.tasks.queue_due_reports", "schedule": crontab(minute="*/15")},
    # The coming week's short-staffed hours, to the operations managers.
    "staffing-short-hours-daily": {
        "task": "chatops.tasks.email_short_staffed_hours",
        "schedule": crontab(hour=7, minute=45),
    },
    # Tenants that turned "encrypt messages" on or off get their stored conversations converted.
    "encryption-converted": {
        "task": "conversations.tasks.convert_encryption",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Visitor marks are needed only while their day, week or month takes page views.
    "visitor-marks-pruned": {
        "task": "conversations.tasks.prune_visitor_marks",
        "schedule": crontab(hour=3, minute=17),
    },
    # Each tenant's closed conversations older than its retention period, with old page views and visitors.
    "expired-conversations-purged": {
        "task": "conversations.tasks.purge_expired_conversations",
        "schedule": crontab(hour=2, minute=43),
    },
}

# --- Live chat limits (the public widget) ---------------------------------------------------
CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = env.int("CHAT_MESSAGES_PER_VISITOR_PER_MINUTE", default=20)
CHAT_CONVERSATIONS_PER_IP_PER_HOUR = env.int("CHAT_CONVERSATIONS_PER_IP_PER_HOUR", default=20)
# A daphne process in which a database call has waited this long for a thread is saturated: it answers a
# chat message "overloaded" (try again after CHAT_OVERLOAD_RETRY_AFTER seconds) instead of queueing it
# behind the others (docs/performance.md, "Overload").
CHAT_OVERLOAD_WAIT_MS = env.int("CHAT_OVERLOAD_WAIT_MS", default=100)
CHAT_OVERLOAD_RETRY_AFTER = env.int("CHAT_OVERLOAD_RETRY_AFTER", default=2)
# Database threads per daphne process (conversations/threads.py): messages first, pings' checks when none waits.
CHAT_DATABASE_THREADS = env.int("CHAT_DATABASE_THREADS", default=6)

# --- E-mail ----------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="chatops <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (outbox/services.py): how long a sender holds an e-mail before another may take it, and the
# retries of a temporary refusal (the pause doubles from the first to the longest, with jitter).
EMAIL_OUTBOX_LEASE_SECONDS = env.int("EMAIL_OUTBOX_LEASE_SECONDS", default=300)
EMAIL_OUTBOX_MAX_ATTEMPTS = env.int("EMAIL_OUTBOX_MAX_ATTEMPTS", default=8)
EMAIL_OUTBOX_RETRY_SECONDS = env.int("EMAIL_OUTBOX_RETRY_SECONDS", default=30)
EMAIL_OUTBOX_RETRY_MAX_SECONDS = env.int("EMAIL_OUTBOX_RETRY_MAX_SECONDS", default=1800)

# --- REST API (integrations) ----------------------------------------------------------------------
# Read-only, JSON only, authenticated by a tenant's API token (integrations/api_auth.py); no sessions.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.api_auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api_auth.HasTenantToken"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api_auth.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Requests per API token (DRF's rate syntax: "600/min", "10000/hour", "100000/day"), counted in CACHES.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "chatops API",
    "DESCRIPTION": "A client company's leads, conversations, handoff reports, ratings and KPI figures; "
    "leads marked handled and knowledge-base articles added. Authorization: Bearer <token>.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Webhooks (integrations) ----------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_RETRY_SECONDS = env.int("WEBHOOK_RETRY_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=86400)
WEBHOOK_SECRET_OVERLAP_SECONDS = env.int("WEBHOOK_SECRET_OVERLAP_SECONDS", default=86400)
# Webhooks go to public https addresses only (integrations/addresses.py); plain http in development,
# and internal host names only where listed (a CRM on the development machine).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOWED_INTERNAL_HOSTS = env.list("WEBHOOK_ALLOWED_INTERNAL_HOSTS", default=[])

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username and address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (/accounts/login/, /admin/login/): LOGIN_FAILURE_LIMIT wrong passwords for one username
# from one address lock that pair for LOGIN_LOCKOUT_MINUTES (0: until an operations manager unlocks it in the
# admin, "Axes: access attempts", by deleting the row); a success resets the count.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES) if LOGIN_LOCKOUT_MINUTES else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "chatops.views.locked_out"
# The admin pages for lockouts are chatops' own (operations managers only): chatops/admin.py.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# The public address of the product, used in links sent by e-mail (invitations, reports).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# chatops' own origins (scheme://host[:port], exactly): their pages, such as the admin's widget preview,
# may run any tenant's widget. Default: SITE_URL's origin, and with DEBUG the dev server's on either name.
_site = urlsplit(SITE_URL)
_dev_origins = [f"http://{host}:8000" for host in ("127.0.0.1", "localhost")] if DEBUG else []
OWN_ORIGINS = env.list("OWN_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}", *_dev_origins])

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fi", _("Finnish")),
    ("pl", _("Polish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True
# Corrections to Django's date formats for our languages (moments/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["moments.formats"]

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names, compressed copies, and the console's ES-module imports rewritten to match.
        "BACKEND": "chatops.staticfiles.CompressedManifestModulesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production: DEBUG=0) ----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
if env.bool("BEHIND_TLS_PROXY", default=False):
    # The load balancer terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every successful sign-in at INFO; its warnings (lockouts) are what matters.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Staffing (workforce/staffing.py): the share of paid shift time not spent on chats (breaks, training,
# meetings, coaching, short absences), added on top of the agents needed on the floor; and the highest
# occupancy planned for. Shrinkage is 0 unless set: contact centres plan about 30 % over a week's hours,
# but per hour with whole agents it counts a lone agent on shift as nobody at work (see the module docstring).
STAFFING_SHRINKAGE = env.float("STAFFING_SHRINKAGE", default=0.0)
STAFFING_OCCUPANCY_CAP = env.float("STAFFING_OCCUPANCY_CAP", default=0.85)
STAFFING_PLANNING_ZONE = env.str("STAFFING_PLANNING_ZONE", default="Europe/Helsinki")

# Encryption at rest (conversations/sealing.py) for tenants with "encrypt messages at rest": Fernet keys,
# newest first, comma-separated, each as id:key. New text is sealed with the first; every listed key opens.
CHATOPS_ENCRYPTION_KEYS = env.str("CHATOPS_ENCRYPTION_KEYS", default="")
# Rows re-encrypted or converted per transaction by rotate_encryption and the flag's conversion task.
CHATOPS_ENCRYPTION_BATCH = env.int("CHATOPS_ENCRYPTION_BATCH", default=500)
