"""What the whole-stack runs (`soak.py`, `scale_check.py`) share: fresh services, figures, verdicts."""

import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import manage


def fresh_services(env: dict[str, str], *, database: str, redis_dbs: tuple[int, ...]) -> None:
    """An empty, migrated MariaDB database and empty Redis databases for one run."""
    import MySQLdb
    import redis

    cursor = MySQLdb.connect(host="127.0.0.1", user="root").cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    for db in redis_dbs:
        redis.Redis(host="127.0.0.1", db=db).flushdb()
    manage(env, "migrate", "--noinput", "-v", "0")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else (values[0] if values else 0.0)


def verdict(checks: dict[str, tuple[object, object]]) -> bool:
    """Print each check (figure, expected) as ok or FAIL; True when all are ok."""
    passed = True
    for name, (value, expected) in checks.items():
        ok = value == expected
        passed &= ok
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {value}")
    return passed


def run_in_workdir(name: str, run: Callable[[Path], bool]) -> None:
    """Run in a fresh directory, removed when the run passed and kept (with its logs) when not; exit 0 or 1."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{name.split()[0]}-"))
    passed = run(workdir)
    if passed:
        shutil.rmtree(workdir)
    print(f"{name} passed" if passed else f"{name} FAILED (logs kept in {workdir})")
    raise SystemExit(0 if passed else 1)
