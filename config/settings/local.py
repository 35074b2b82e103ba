"""The embedded default: SQLite, local media, in-process jobs, offline engine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
