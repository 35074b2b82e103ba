"""The embedded default: SQLite, local media, in-process jobs, offline engine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# An SPA's dev server (Vite, Create React App / Next.js) may call the API from the browser.
if DEBUG and not env.list("CORS_ALLOWED_ORIGINS", default=[]):
    CORS_ALLOWED_ORIGINS = ["http://localhost:5173", "http://localhost:3000"]
    CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

# A webhook receiver on this machine is what development needs; base.py decided before DEBUG was known here.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)

# A developer's own Prometheus (or curl) reads /metrics without a token; once METRICS_TOKEN is set,
# it is required here too.
METRICS_OPEN_WITHOUT_TOKEN = True
