"""Production settings plus a bare view to measure the framework's floor against."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
