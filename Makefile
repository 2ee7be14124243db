# PRISMA Berlin: two commands set everything up on a fresh Debian machine.
#   make run    install what is missing, migrate, load LOR data, serve with a worker
#   make test   install what is missing, run lint and the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PORT ?= 8000
PY := .venv/bin/python
SERVICES := source scripts/services.sh

.PHONY: run test setup setup-test lint messages check-migrations

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

messages:
	@$(SERVICES) >/dev/null; $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0

run: setup messages
	@$(SERVICES); export DJANGO_SETTINGS_MODULE=prisma.settings.local; \
	  scripts/run.sh

lint: setup-test
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/lint-imports --no-cache
	@$(SERVICES) >/dev/null; DJANGO_SETTINGS_MODULE=prisma.settings.test .venv/bin/mypy

check-migrations: setup-test
	@$(SERVICES); DJANGO_SETTINGS_MODULE=prisma.settings.test \
	  $(PY) manage.py makemigrations --check --dry-run -v 1

test: setup-test messages lint check-migrations
	@$(SERVICES); .venv/bin/pytest $(PYTEST_ARGS)
