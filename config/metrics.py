"""The service's own Prometheus counters, next to django-prometheus's request and database ones.
With several processes (gunicorn workers, Celery workers), set PROMETHEUS_MULTIPROC_DIR to a
directory they share and `/metrics` adds them up."""

from prometheus_client import Counter

transcriptions_total = Counter(
    "transcriptions_total", "Transcriptions that reached a final status.", ["status", "engine"]
)
transcribed_minutes_total = Counter(
    "transcribed_minutes_total", "Billable minutes of completed transcriptions.", ["engine"]
)
credited_rupees_total = Counter("credited_rupees_total", "Money credited to wallets by payments, in rupees.")
provider_errors_total = Counter(
    "provider_errors_total", "Calls to an outside provider that failed.", ["provider", "kind"]
)
