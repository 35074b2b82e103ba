"""Production: MySQL/MariaDB, Redis, Celery workers. Secrets and service addresses have no
defaults, so a missing one stops the process at boot."""

from .base import *  # noqa: F403
from .base import SIMPLE_JWT, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405

env("DATABASE_URL")  # required here; base.py configures MySQL/MariaDB from it
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# The admin's static files, served by whitenoise (run `collectstatic` at deploy).
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
)
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}  # noqa: F405

env("REDIS_URL")  # required here; base.py builds the Redis cache from it

CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
SCHEDULE_IN_PROCESS = False  # Celery beat runs the schedule

SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}

# Webhooks go to public https URLs only: no request forgery into the private network.
WEBHOOK_ALLOW_PRIVATE_URLS = False
WEBHOOK_REQUIRE_HTTPS = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": env.int("NUM_PROXIES", default=1)}  # noqa: F405

# /metrics needs METRICS_TOKEN; without one it is a 404, whatever the proxy routes to it.
METRICS_OPEN_WITHOUT_TOKEN = False

# HTTPS: behind a proxy that terminates TLS, Django sees plain HTTP and learns the scheme from the
# header the proxy sets (`https` when the client used TLS). That header must be set by the proxy and
# stripped from clients' requests; without it, SECURE_SSL_REDIRECT would redirect every request forever.
# Empty when TLS ends at gunicorn itself.
_proxy_ssl_header = env("SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
