"""Settings shared by every environment. Values come from the environment (or `.env`)."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # First: its `runserver` serves the ASGI application (HTTP and the WebSockets of live sessions).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "accounts.apps.AxesConfig",
    "accounts",
    "wallet",
    "audio",
    "transcriptions",
    "payments",
    "webhooks",
    "operations",
    "openai_api",
    "channels",
    "realtime",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.query_parameters.KnownQueryParametersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Innermost, so the lockout page it puts in place of the sign-in form is what the others see.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
# Live sessions are independent of each other: no channel layer (no messages between processes).
CHANNEL_LAYERS: dict = {}
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Audio lives on the local disk (MEDIA_ROOT) unless a bucket is named: then in that S3-compatible
# object store (AWS S3, Cloudflare R2, MinIO, SeaweedFS, Ceph), shared by every web and worker node.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default="") or None  # None: AWS itself
AWS_S3_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default="") or None  # None: boto3's own chain (roles)
AWS_S3_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="") or None
# "path" works with every S3-compatible server; AWS itself also takes "virtual".
AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default="path")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_FILE_OVERWRITE = True  # keys are UUIDs, never taken: no existence check before each upload
AWS_DEFAULT_ACL = None  # objects stay private; access only through signed URLs
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=900)
# A downloaded object spools to a temporary file past 1 MB, never whole in memory.
AWS_S3_MAX_MEMORY_SIZE = 1024 * 1024
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # READ COMMITTED: a locking read sees the latest committed row, and gap locks
    # (REPEATABLE READ's default) do not serialise unrelated inserts.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"charset": "utf8mb4", "isolation_level": "read committed"})
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    # W036: MariaDB cannot enforce allauth's two conditional unique constraints on EmailAddress (one
    # primary address per user, one owner per verified address). Both hold here without them: a
    # user's only address is the user's own email, written by allauth at sign-in, and `User.email`
    # is unique.
    SILENCED_SYSTEM_CHECKS = ["models.W036"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests, in-request jobs and their progress writes share one file. A transaction
    # that reads and then writes must not have to upgrade its lock (SQLite refuses that at once
    # with "database is locked" when another writer holds it), so each takes the write lock when
    # it begins and waits its turn for up to `timeout` seconds. WAL lets reads go on during a
    # write; NORMAL syncs at checkpoints rather than at every commit, which WAL keeps safe.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

# --- Cache --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # A cache outage degrades to the database instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Background work (Celery) -------------------------------------------------
# Without a broker, jobs run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:  # in-process runs still take a producer: from an in-memory broker, named in full
    CELERY_BROKER_URL = "memory://localhost/"
# The queue jobs go through: deployments (or test runs) that share one Redis keep apart by it.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
# Without a broker there is no beat either: the web process runs CELERY_BEAT_SCHEDULE itself.
SCHEDULE_IN_PROCESS = env.bool("SCHEDULE_IN_PROCESS", default=CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
# A message is acknowledged once its task has run, not when a worker takes it: one whose worker
# process dies goes back to the queue (tasks bound how often, see transcriptions/tasks.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish waits at most about 3 s for a broker that is down, then fails (and the caller says so).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TIMEZONE = TIME_ZONE
# A worker told to stop (SIGTERM, as a rolling deploy sends; with REMAP_SIGTERM=SIGQUIT in its
# environment) gives its running jobs this long to finish, then stops them and hands their messages
# back to the queue, where another worker resumes each at once. Without the remap, SIGTERM waits for
# every running job to end, up to its time limit.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=15.0)

# --- Auth, JWT and sign-in providers -----------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Axes first: it refuses a locked-out attempt before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(days=env.int("JWT_ACCESS_TOKEN_DAYS", default=7)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# A live API key is kept in the cache this long (0: never). A revocation marks it refused there at
# once; the time only bounds how long a key stays usable when that mark was lost (the cache out of
# reach of the revoking node), as each node reads it from the database again after this. Without
# Redis the cache is each process's own, where another process's mark cannot reach: never cached.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5 if REDIS_URL else 0)
# A wallet's details (balance, demo minutes, totals) are served from the cache this long (0: never),
# while no change to the wallet has been made: each change bumps the wallet's version in the cache.
# Without Redis the cache is each process's own, and a change made by another process (a command, a
# second server) would not show: never cached.
WALLET_DETAILS_CACHE_SECONDS = env.int("WALLET_DETAILS_CACHE_SECONDS", default=60 if REDIS_URL else 0)

GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID", default="")
FACEBOOK_APP_ID = env("FACEBOOK_APP_ID", default="")
FACEBOOK_APP_SECRET = env("FACEBOOK_APP_SECRET", default="")

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
# A sign-in whose email the provider vouches for (Google's `email_verified`) reaches the user
# who already has that email, whichever provider they first came with.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_STORE_TOKENS = False  # a provider token is used once, to sign in, and never kept
# The apps (client ids and secrets) are built from the three settings above on each request by
# `SocialAccountAdapter.list_apps`; these are only per-provider options.
SOCIALACCOUNT_PROVIDERS = {
    "google": {},
    # Only the profile fields we keep (allauth's default list asks Graph for much more).
    "facebook": {"FIELDS": ["id", "email", "name", "first_name", "last_name"]},
}

# --- Admin sign-in lockout (django-axes) ---------------------------------------
# Only staff have passwords, for the admin. After AXES_FAILURE_LIMIT failures within the cool-off,
# an account is locked whichever address tries it, and an address whichever account it tries (the
# right password included: 429 and a page saying for how long). Every try while locked starts the
# cool-off again; a success once it is over forgets the failures. Attempts are kept in the database,
# so every web node sees them, and listed in the admin (access attempts, failures, sign-ins).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # a lasting record of lockouts: attempts are forgotten after the cool-off
# The admin's form and Django's authenticate() name it `username` (axes would look for `email`).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
# The address the throttles count against (X-Forwarded-For trusted only as far as NUM_PROXIES), not
# django-ipware's guess from headers any client can send; no AXES_IPWARE_* setting applies.
AXES_CLIENT_IP_CALLABLE = "config.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Log lines name the account and address (as the admin's lists do); passwords are always masked.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# --- REST framework and API docs ----------------------------------------------
DEFAULT_THROTTLE_RATES = {
    "user": "1000/min",
    "anon": "60/min",
    "upload": "30/min",
    "transcribe": "30/min",
    "login": "20/min",
    "webhook_test": "10/min",
}


def _parse_throttle_rates(raw: str) -> dict[str, str | None]:
    rates: dict[str, str | None] = dict(DEFAULT_THROTTLE_RATES)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        scope, _, rate = item.partition("=")
        rates[scope.strip()] = rate.strip() or None
    return rates


REST_FRAMEWORK = {
    # `Bearer sk-…` is an API key, any other bearer token a JWT (each class leaves the other's alone).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_key_authentication.ApiKeyAuthentication",
        "accounts.authentication.CachedUserJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only (anything else is 415); the upload endpoint takes multipart instead.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.UserRateThrottle",
        "config.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": _parse_throttle_rates(env("THROTTLE_RATES", default="")),
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    # OPTIONS is answered by the CORS middleware for preflights; the API documents itself at /api/schema/.
    "DEFAULT_METADATA_CLASS": None,
    # How many proxies append to X-Forwarded-For: per-IP throttling trusts only what they add.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Transcription API",
    "DESCRIPTION": "Pay-per-minute audio transcription: sign-in, wallet, uploads and transcripts. "
    "Try it in a browser at [/try/](/try/): an API key, a file, and live text from the microphone.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Swagger UI and Redoc from our own static files: the docs work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},  # no badge from validator.swagger.io
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The OpenAI-compatible API's enums, named apart from /api's; and the ledger's line type keeps
    # its name now that other components have a `type` enum too.
    "ENUM_NAME_OVERRIDES": {
        "TypeEnum": "wallet.models.Transaction.Type",
        "OpenAIResponseFormatEnum": "openai_api.serializers.RESPONSE_FORMATS",
        "OpenAITimestampGranularityEnum": "openai_api.serializers.GRANULARITIES",
        "OpenAITaskEnum": "openai_api.serializers.TASKS",
        "OpenAIUsageTypeEnum": "openai_api.serializers.USAGE_TYPES",
        "OpenAISegmentTypeEnum": "openai_api.serializers.SEGMENT_TYPES",
        "OpenAIModelObjectEnum": "openai_api.serializers.MODEL_OBJECTS",
        "OpenAIListObjectEnum": "openai_api.serializers.LIST_OBJECTS",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=CORS_ALLOWED_ORIGINS)

# --- Money and minutes --------------------------------------------------------
RATE_PER_MINUTE = Decimal(env.str("RATE_PER_MINUTE", default="1.00"))
DEMO_MINUTES = Decimal(env.str("DEMO_MINUTES", default="10"))
CURRENCY = "INR"

# --- Audio --------------------------------------------------------------------
MAX_UPLOAD_MB = env.int("MAX_UPLOAD_MB", default=100)
MAX_AUDIO_MINUTES = env.int("MAX_AUDIO_MINUTES", default=60)
# Uploaded audio is deleted this many days after upload (0: kept for ever); transcripts stay.
AUDIO_RETENTION_DAYS = env.int("AUDIO_RETENTION_DAYS", default=30)
AUDIO_RETENTION_INTERVAL_SECONDS = env.int("AUDIO_RETENTION_INTERVAL_SECONDS", default=3600)
# On: a job's original audio is deleted as soon as the job completes or fails (its text, and its
# redacted copy of the audio if any, stay). Off: the audio follows AUDIO_RETENTION_DAYS.
AUDIO_DELETE_AFTER_TRANSCRIPTION = env.bool("AUDIO_DELETE_AFTER_TRANSCRIPTION", default=False)
# How long a signed URL for a direct upload (`POST /api/audio/uploads/`) may be used.
DIRECT_UPLOAD_EXPIRY_SECONDS = env.int("DIRECT_UPLOAD_EXPIRY_SECONDS", default=3600)
# How often beat tries again to delete stored files whose deletion failed (the object store away).
STORED_FILE_DELETION_RETRY_SECONDS = env.int("STORED_FILE_DELETION_RETRY_SECONDS", default=300)
# Uploads always stream to a temporary file on disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Transcription ------------------------------------------------------------
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="") or None
OPENAI_TRANSCRIPTION_MODEL = env("OPENAI_TRANSCRIPTION_MODEL", default="whisper-1")
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=120.0)
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=2)
TRANSCRIPTION_ENGINE = env("TRANSCRIPTION_ENGINE", default="") or ("openai" if OPENAI_API_KEY else "local")
# The offline engine: Whisper `base` (multilingual) or `tiny.en` (English only, faster), both
# installed by requirements.txt. Threads per job (0: one per CPU core this process may use; with
# several jobs at once, cores / worker concurrency); beam size 1 is greedy decoding, 5 Whisper's own.
LOCAL_WHISPER_MODEL = env("LOCAL_WHISPER_MODEL", default="base")
LOCAL_WHISPER_THREADS = env.int("LOCAL_WHISPER_THREADS", default=0)
LOCAL_WHISPER_BEAM_SIZE = env.int("LOCAL_WHISPER_BEAM_SIZE", default=1)
TRANSCRIPTION_CHUNK_SECONDS = env.int("TRANSCRIPTION_CHUNK_SECONDS", default=600)
# How long a `/v1/audio/transcriptions` request waits for a worker to finish its job, polling its row,
# holding one of gunicorn's threads (not a worker: gthread's timeout does not end it). Under the
# OpenAI SDKs' own 600 s, so they get the answer naming the job rather than time out and send the
# file again. A job that takes longer goes on and is charged as usual; the request answers 504
# `transcription_still_running` naming it.
OPENAI_API_WAIT_SECONDS = env.int("OPENAI_API_WAIT_SECONDS", default=540)
TRANSCRIPTION_CONCURRENCY = env.int("TRANSCRIPTION_CONCURRENCY", default=4)

# Every job ends in bounded time. Running, it may take a base plus a multiple of its audio's length
# (soft limit: the job fails, nothing charged; a minute later its worker process is killed).
TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS = env.int("TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS", default=300)
TRANSCRIPTION_TIME_LIMIT_PER_AUDIO_SECOND = env.float("TRANSCRIPTION_TIME_LIMIT_PER_AUDIO_SECOND", default=1.0)
# Pending this long (no worker took it), a job is queued again, once; then failed, nothing charged.
TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS = env.int("TRANSCRIPTION_QUEUE_TIMEOUT_SECONDS", default=1800)
# How often beat sends webhook deliveries that are due (retries, and any whose queueing was lost).
WEBHOOK_DISPATCH_INTERVAL_SECONDS = env.int("WEBHOOK_DISPATCH_INTERVAL_SECONDS", default=15)
# A running job proves its process alive every TRANSCRIPTION_HEARTBEAT_SECONDS; one silent for
# TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS is orphaned (its worker died) and the reaper, run every
# TRANSCRIPTION_REAPER_INTERVAL_SECONDS, queues it again once, then fails it. So a dead worker's job
# runs again within timeout + interval (90 s), whatever the audio's length.
TRANSCRIPTION_HEARTBEAT_SECONDS = env.int("TRANSCRIPTION_HEARTBEAT_SECONDS", default=15)
TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS = env.int("TRANSCRIPTION_HEARTBEAT_TIMEOUT_SECONDS", default=60)
TRANSCRIPTION_REAPER_INTERVAL_SECONDS = env.int("TRANSCRIPTION_REAPER_INTERVAL_SECONDS", default=30)
# Live sessions (`/v1/realtime`): one closes after REALTIME_IDLE_SECONDS without a client event, and
# when its audio reaches REALTIME_MAX_MINUTES. A process transcribes at most
# REALTIME_TRANSCRIBE_CONCURRENCY utterances at once (each engine run uses every core it may).
# A session's record beats like a running job's, so the reaper settles a session whose process died.
REALTIME_IDLE_SECONDS = env.int("REALTIME_IDLE_SECONDS", default=60)
REALTIME_MAX_MINUTES = env.int("REALTIME_MAX_MINUTES", default=MAX_AUDIO_MINUTES)
REALTIME_MAX_FRAME_BYTES = 15 * 1024 * 1024
# What the server itself reads of one WebSocket message (daphne's runserver; uvicorn's --ws-max-size):
# a frame over REALTIME_MAX_FRAME_BYTES but within this gets an `error` event and the session goes on.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = 20 * 1024 * 1024
REALTIME_TRANSCRIBE_CONCURRENCY = env.int("REALTIME_TRANSCRIBE_CONCURRENCY", default=1)
# With manual commits (no turn detection), audio a client has not committed after this long is
# committed as an utterance of its own: a session never holds more (7.7 MB of samples at 120 s).
REALTIME_MAX_UNCOMMITTED_SECONDS = env.int("REALTIME_MAX_UNCOMMITTED_SECONDS", default=120)
# How long a browser's one-use secret (`POST /v1/realtime/client_secrets`) may wait to open its session.
REALTIME_CLIENT_SECRET_SECONDS = 60
# How often beat replays every wallet's ledger (`audit_ledger`), and how often it compares the
# payments and refunds of the last PAYMENTS_RECONCILE_WINDOW_HOURS with Razorpay's (`reconcile_payments`,
# only with Razorpay keys); the operations dashboard shows the last run of each.
LEDGER_AUDIT_INTERVAL_SECONDS = env.int("LEDGER_AUDIT_INTERVAL_SECONDS", default=86400)
PAYMENTS_RECONCILE_INTERVAL_SECONDS = env.int("PAYMENTS_RECONCILE_INTERVAL_SECONDS", default=3600)
PAYMENTS_RECONCILE_WINDOW_HOURS = env.int("PAYMENTS_RECONCILE_WINDOW_HOURS", default=48)
CELERY_BEAT_SCHEDULE = {
    "reap-transcriptions": {"task": "transcriptions.reap", "schedule": TRANSCRIPTION_REAPER_INTERVAL_SECONDS},
    "purge-expired-audio": {"task": "audio.purge_expired", "schedule": AUDIO_RETENTION_INTERVAL_SECONDS},
    "clean-up-storage": {"task": "audio.clean_up_storage", "schedule": STORED_FILE_DELETION_RETRY_SECONDS},
    "dispatch-webhooks": {"task": "webhooks.dispatch_due", "schedule": WEBHOOK_DISPATCH_INTERVAL_SECONDS},
    "audit-ledger": {"task": "wallet.audit_ledger", "schedule": LEDGER_AUDIT_INTERVAL_SECONDS},
    "reconcile-payments": {"task": "payments.reconcile", "schedule": PAYMENTS_RECONCILE_INTERVAL_SECONDS},
}
_LONGEST_JOB_SECONDS = (
    TRANSCRIPTION_TIME_LIMIT_BASE_SECONDS + TRANSCRIPTION_TIME_LIMIT_PER_AUDIO_SECOND * MAX_AUDIO_MINUTES * 60 + 60
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis gives a message that was taken but never acknowledged (its whole worker died) to another
    # worker after this long; longer than the longest job, or a running job would be delivered twice.
    "visibility_timeout": int(_LONGEST_JOB_SECONDS) + 600,
    # A broker that vanishes without closing the connection fails a publish instead of hanging it.
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}

# --- Webhooks to API clients' servers -----------------------------------------
# Loopback, private and link-local URLs are refused unless this is on (development and tests only;
# production turns it off whatever the environment says).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=False)
# A delivery is tried again with growing waits for this long, then fails and disables its endpoint.
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
# How long delivered and failed deliveries stay listed (GET /api/webhooks/{id}/deliveries/).
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)

# --- Payments (Razorpay) ------------------------------------------------------
RAZORPAY_KEY_ID = env("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env("RAZORPAY_WEBHOOK_SECRET", default="")
RAZORPAY_BASE_URL = env("RAZORPAY_BASE_URL", default="https://api.razorpay.com")
RAZORPAY_TIMEOUT_SECONDS = env.float("RAZORPAY_TIMEOUT_SECONDS", default=10.0)

# --- Metrics ------------------------------------------------------------------
# `/metrics` (revenue, minutes, internals) answers only `Authorization: Bearer <METRICS_TOKEN>`,
# whatever the proxy in front routes; with no token it is a 404 unless a settings module opens it.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_OPEN_WITHOUT_TOKEN = False
# prometheus_client reads this from the environment when the apps load, right after these settings,
# and writes each process's values there: make sure it exists in every process (web, worker, beat).
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
else:
    # Set but empty (as `.env.example` has it) would make prometheus_client write into the current directory.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

# --- Logging ------------------------------------------------------------------
# `json` gives one JSON object a line (for log shippers); `plain` is for a terminal.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "server_http_line": {"()": "config.logging.ServerHttpLineFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "request_id", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print every record of `django.*` a second
        # time, unformatted, such as runserver's (daphne's) access line: the root handler prints them.
        "django": {"handlers": []},
        "django.channels.server": {"filters": ["server_http_line"]},
        # Our request line replaces Django's own per-request warnings for 4xx/5xx.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # Three lines a window (duration, silence removed, language): the job's own log line says enough.
        "faster_whisper": {"level": "WARNING"},
        # Each failed admin sign-in and each lockout ("AXES: Locking out ..."), not every sign-in's chatter.
        "axes": {"level": "WARNING"},
    },
}
