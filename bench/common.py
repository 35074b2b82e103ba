"""Shared pieces of the benchmarks: a production-like environment, databases, a gunicorn server, key figures."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The interpreter of the service's own processes (manage.py, gunicorn, Celery): `make prod-check`
# points it at a venv holding requirements.txt alone, so nothing the dev tools bring can hide a gap.
PYTHON = os.environ.get("SERVER_PYTHON") or sys.executable
MYSQL_URL = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
# The admin's static files are not collected for a benchmark: whitenoise need not say so.
STATIC_FILES_WARNING = "No directory at"
warnings.filterwarnings("ignore", STATIC_FILES_WARNING, UserWarning)


@dataclass(frozen=True)
class Row:
    """One key figure of a benchmark, for the summary table of `python -m bench`."""

    figure: str
    value: str
    baseline: str = ""  # what the figure is compared with, measured in the same run
    ratio: float | None = None  # value / baseline
    target: str = ""
    met: bool | None = None


def production_env(**extra: str) -> dict[str, str]:
    """Production settings on local MariaDB and Redis, plain HTTP on loopback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": MYSQL_URL,
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11"),
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        # Measure the request path, not the throttle refusing it.
        "THROTTLE_RATES": "user=100000000/min,anon=100000000/min",
        "PYTHONWARNINGS": f"ignore:{STATIC_FILES_WARNING}",
        "REMAP_SIGTERM": "SIGQUIT",  # as deploy/Dockerfile runs workers: SIGTERM hands jobs back
    }
    env.update(extra)
    return env


def ensure_database(env: dict[str, str]) -> None:
    import MySQLdb

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    MySQLdb.connect(host="127.0.0.1", user="root").cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"
    )
    manage(env, "migrate", "--noinput", "-v", "0")


@contextmanager
def throwaway_database(suffix: str) -> Iterator[None]:
    """A fresh, migrated database for this process (`<name>_<suffix>` next to the configured
    MySQL/MariaDB one; SQLite keeps its test settings), dropped at the end."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"{name}_{suffix}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


# 0..99,999 from five copies of the digits (MySQL/MariaDB have no generate_series).
DIGITS = "(" + " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10)) + ")"
NUMBERS = (
    "SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n "
    f"FROM {DIGITS} a, {DIGITS} b, {DIGITS} c, {DIGITS} e, {DIGITS} f"
)


def copy_rows(model, template_pk, *, rows: int, copied: dict[str, str]) -> None:
    """`rows` (at most 100,000) copies of one template row, each with the column expressions in
    `copied` (of `n`, 0 to rows - 1, and the template's columns as `t.<column>`): one INSERT ... SELECT."""
    from django.db import connection

    assert rows <= 100_000, "NUMBERS counts to 99,999"

    table, quote = model._meta.db_table, connection.ops.quote_name
    # An auto-increment key is left to the database unless `copied` says otherwise.
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and field.column not in copied)]
    columns = [field.column for field in fields]
    select = ", ".join(copied.get(column, f"t.{quote(column)}") for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "
            f"SELECT {select} FROM {table} t, ({NUMBERS}) numbers WHERE t.id = %s AND n < %s",
            [model._meta.pk.get_db_prep_value(template_pk, connection), rows],
        )


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], *, workers: int = 2) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_CMD_ARGS": "--log-level warning",
        },
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health/", server)
    return server, base


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback only)
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def print_rows(title: str, rows: list[Row]) -> None:
    """A benchmark's key figures, when it runs on its own."""
    width = max(len(row.figure) for row in rows)
    print(f"\n{title}")
    for row in rows:
        line = row.value
        if row.ratio is not None:
            line += f" against {row.baseline}: ratio {row.ratio:.2f}"
        if row.target:
            line += f" (target {row.target}{'' if row.met is None else ', met' if row.met else ', MISSED'})"
        print(f"  {row.figure.ljust(width)}  {line}")
