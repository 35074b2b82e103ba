PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint lock worker beat system-packages service-packages prod-venv prod-check soak scale-check bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

## Pin every package, with its hashes, from requirements.in and requirements-dev.in (after editing them).
lock: $(VENV)/.installed-dev
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements.in -o requirements.txt
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements-dev.in \
		-c requirements.txt -o requirements-dev.txt

system-packages:
	./scripts/install-system-packages.sh

service-packages:
	./scripts/install-system-packages.sh --service

## Set everything up and run the service on its embedded defaults (SQLite, local media, in-process jobs);
## runserver is daphne's here: HTTP and the WebSockets of live sessions from one process, on ADDRESS.
ADDRESS ?= 127.0.0.1:8000
run: service-packages $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py runserver $(ADDRESS)

## Run the test suite (DATABASE_URL picks the database; SQLite by default), in PYTEST_WORKERS processes
## (pytest-xdist; each has its own test database; 0 runs it in this one).
PYTEST_WORKERS ?= 2
test: system-packages $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test

## A Celery worker for production-style background work (needs CELERY_BROKER_URL). SIGTERM (or
## Ctrl+C) hands its running jobs back to the queue after CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT.
worker: $(VENV)/.installed
	REMAP_SIGTERM=SIGQUIT $(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

## Celery beat: the reaper, webhook retries, storage clean-up, the daily ledger audit and the hourly
## reconciliation (CELERY_BEAT_SCHEDULE; needs CELERY_BROKER_URL). Its schedule file keeps when each last ran.
beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

## A new venv holding requirements.txt alone, for the service in the production checks (drivers use the dev venv).
PROD_VENV := .venv-prod
prod-venv:
	rm -rf $(PROD_VENV)
	$(PYTHON) -m venv $(PROD_VENV)
	$(PROD_VENV)/bin/pip install --quiet --upgrade pip
	$(PROD_VENV)/bin/pip install --quiet -r requirements.txt

## Boot the production settings (MariaDB, Redis, gunicorn, a Celery worker) and drive a full flow over HTTP.
prod-check: system-packages $(VENV)/.installed-dev prod-venv
	SERVER_PYTHON=$(PROD_VENV)/bin/python $(BIN)/python scripts/prod_check.py

## Production settings under load for SOAK_MINUTES (default 5) while workers, MariaDB, Redis and OpenAI fail in turn.
SOAK_MINUTES ?= 5
soak: system-packages $(VENV)/.installed-dev prod-venv
	SERVER_PYTHON=$(PROD_VENV)/bin/python $(BIN)/python scripts/soak.py --minutes $(SOAK_MINUTES)

## Two web nodes and two workers sharing nothing on disk, against MariaDB, Redis and SeaweedFS (SCALE_ARGS to size it).
scale-check: system-packages $(VENV)/.installed-dev prod-venv
	SERVER_PYTHON=$(PROD_VENV)/bin/python $(BIN)/python scripts/scale_check.py $(SCALE_ARGS)

## Every benchmark against local MariaDB and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL), one summary table.
bench: system-packages $(VENV)/.installed-dev
	$(BIN)/python -m bench $(BENCH_ARGS)
