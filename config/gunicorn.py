"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi`. Each can be set from the environment."""

import multiprocessing
import os


def _setting(name: str, default):
    return type(default)(os.environ.get(name) or default)  # unset and empty both mean the default


# Loopback unless told otherwise: the proxy in front runs on the same host, or GUNICORN_BIND says where.
bind = _setting("GUNICORN_BIND", "127.0.0.1:8000")
workers = _setting("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
# Threads (gunicorn's gthread worker): a `/v1` request waiting for its job, or an upload on a slow
# link, holds one thread, not a whole worker process, and the worker's main loop keeps answering
# the arbiter meanwhile, so `timeout` only ends a worker that stopped, not a long request.
threads = _setting("GUNICORN_THREADS", 8)
timeout = _setting("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
max_requests = _setting("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
# Request line and headers only: bodies are limited by Django (MAX_UPLOAD_MB) and the proxy.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = _setting("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app logs one structured line per request
errorlog = "-"
preload_app = False


def child_exit(server, worker):
    # With several workers, Prometheus metrics live in PROMETHEUS_MULTIPROC_DIR; drop a dead worker's gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
