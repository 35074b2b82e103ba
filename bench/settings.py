"""Production settings plus a bare view to measure the framework's floor against."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Static files are not collected for a benchmark: admin pages name them without the manifest's hashes.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
