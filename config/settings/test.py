"""Test settings: fast hashing, in-memory email, jobs in-process, no real providers."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="test-media-"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file rather than memory, so a Celery worker process started by a test can open it too.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.mkdtemp(prefix="test-db-"), "test.sqlite3")}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
SCHEDULE_IN_PROCESS = False  # tests run the reaper themselves
WEBHOOK_ALLOW_PRIVATE_URLS = True  # receivers run on 127.0.0.1; the address tests turn it off
# Tests opt in to throttling where they test it.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": [], "TEST_REQUEST_DEFAULT_FORMAT": "json"}
OPENAI_API_KEY = ""
TRANSCRIPTION_ENGINE = "local"
RAZORPAY_KEY_ID = ""
RAZORPAY_KEY_SECRET = ""
RAZORPAY_WEBHOOK_SECRET = ""
GOOGLE_CLIENT_ID = ""
FACEBOOK_APP_ID = ""
FACEBOOK_APP_SECRET = ""
