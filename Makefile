# The two commands are `make demo` and `make test`; README.md explains both and everything else.
SHELL := /bin/bash
VENV := .venv
PYTEST_ARGS ?=

.PHONY: demo test run lint fmt worker beat venv dev-venv

## demo: create .venv, migrate, load the demo data and serve at http://127.0.0.1:8000 (embedded default)
demo:
	@bash scripts/serve.sh --seed

## test: create .venv, check PostgreSQL/Redis/Chromium, ruff, pytest (REQUIRE_SERVICES=1 to insist on services)
test:
	@bash scripts/test.sh $(PYTEST_ARGS)

## run: migrate and serve without demo data (HOST, PORT; configuration from the environment)
run:
	@bash scripts/serve.sh

## lint: ruff's checks and formatting check
lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## fmt: fix what ruff can fix and format the code
fmt: dev-venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## worker: a Celery worker, started again whenever it stops (needs REDIS_URL; several may run on one Redis)
worker: venv
	@bash scripts/supervise.sh $(VENV)/bin/celery -A chatops worker --loglevel=INFO

## beat: the Celery scheduler, started again whenever it stops (run exactly one per deployment)
beat: venv
	@mkdir -p var
	@bash scripts/supervise.sh $(VENV)/bin/celery -A chatops beat --loglevel=INFO --schedule=var/celerybeat-schedule

venv:
	@bash scripts/venv.sh requirements.txt

dev-venv:
	@bash scripts/venv.sh requirements-dev.txt
