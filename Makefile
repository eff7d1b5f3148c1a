# Development commands. `make` alone lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The first interpreter found that is Python 3.11 or newer; override with `make venv PYTHON=...`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
# Extra pytest arguments: make test ARGS="-k sign_in -x"
ARGS ?=
# The browser tests' live server; tests/localcloud-test.json allows 8000-8012.
LIVE_PORT ?= 8001
CHROMIUM ?= /usr/bin/chromium

.PHONY: help venv dev services services-down spa test screenshots servers load bench chromium lint fmt clean-data env-from-stack

help: ## List the commands
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'
	@echo
	@echo "Without DATABASE_URL, a project-local Postgres runs on 127.0.0.1:54329 (devtools/README.md)."

dev: venv ## Start Postgres and the local Cognito stack, migrate, serve http://localhost:8000
	@devtools/services.sh exec dev -- devtools/dev.sh

test: venv chromium ## Run the whole suite against fresh test services (ARGS="..." for pytest)
	@DJANGO_DEBUG=true DJANGO_LIVE_TEST_SERVER_ADDRESS=localhost:$(LIVE_PORT) \
		devtools/services.sh exec test -- $(PY) -m pytest $(ARGS)

# Every page (the app's and the hosted UI's) at 390 and 1280 px, into screenshots/<width>/ (git-ignored).
screenshots: venv chromium ## Screenshots of every page at 390 and 1280 px into screenshots/
	@rm -rf screenshots
	@SCREENSHOTS_DIR=$(CURDIR)/screenshots DJANGO_DEBUG=true DJANGO_LIVE_TEST_SERVER_ADDRESS=localhost:$(LIVE_PORT) \
		devtools/services.sh exec test -- $(PY) -m pytest -q -p no:cacheprovider \
		tests/ui/test_every_page.py
	@echo "Screenshots in screenshots/390 and screenshots/1280"

servers: venv ## Two gunicorn servers on one Postgres and one localcloud (tests/servers; also in `make test`)
	@DJANGO_DEBUG=true devtools/services.sh exec test -- $(PY) -m pytest tests/servers $(ARGS)

# Locust, headless: LOAD_SECONDS per worker count (LOAD_WORKERS), LOAD_USERS people; bench/load.py.
load: venv ## Load test: a realistic mix against gunicorn with 1, 2 and 4 workers (0 errors or it fails)
	@devtools/services.sh exec test -- $(PY) bench/load.py

# Each script moves to a *_bench database of its own (never `app`); gunicorn listens on BENCH_PORT (83xx).
# localcloud adds LOCALCLOUD_LATENCY_MS to every Cognito call (the API bench's (b)); BENCH picks scripts.
LOCALCLOUD_LATENCY_MS ?= 20
BENCH ?= api directory avatars
bench: venv ## Benchmarks (bench/README.md): the API under gunicorn, directory search at 100k, avatars
	@DJANGO_DEBUG=true LOCALCLOUD_LATENCY_MS=$(LOCALCLOUD_LATENCY_MS) devtools/services.sh exec test -- \
		bash -c 'for b in $(BENCH); do $(PY) bench/$$b.py || exit 1; done'


services: venv ## Start only the dev services, for `python manage.py runserver`
	@devtools/services.sh up dev
	@echo
	@echo "Services up. Load their settings into your shell, then use manage.py as usual:"
	@echo "  set -a; . .run/dev.env; set +a"
	@echo "  export DJANGO_DEBUG=true"
	@echo "  $(PY) manage.py migrate && $(PY) manage.py createcachetable"
	@echo "  $(PY) manage.py runserver localhost:8000"
	@echo "Stop them with: make services-down"

# The single-page app (spa/README.md) on its own origin; its config comes from the dev stack's env.
SPA_PORT ?= 5173
spa: venv ## Serve the single-page app on http://localhost:5173 (needs `make dev` or `make services` running)
	@if [ ! -f .run/dev.env ]; then echo "spa: start the stack first (make dev, or make services) in another terminal" >&2; exit 1; fi
	@set -a; . .run/dev.env; set +a; exec $(PY) spa/serve.py --port $(SPA_PORT)

services-down: ## Stop the services started by `make services`
	@devtools/services.sh down dev

venv: $(STAMP) ## Create .venv and install requirements (again only when they change)

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x $(PY) ]; then \
		if [ -z "$(PYTHON)" ]; then echo "Python 3.11 or newer is required (set PYTHON=...)" >&2; exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

chromium: # The browser tests drive Debian's Chromium (Playwright cannot download one here)
	@if [ -x "$(CHROMIUM)" ] || [ -n "$${CHROMIUM_PATH:-}" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "warning: $(CHROMIUM) not found; the browser tests will fail." >&2; \
		echo "  Install it (sudo apt-get install chromium) or set CHROMIUM_PATH." >&2; \
	fi

lint: venv ## Check lint and formatting (ruff) and the CloudFormation template (cfn-lint)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint --include-checks I -- infra/template.yaml

# The deployed stack's Outputs (and the web client's secret) as an env file: infra/README.md.
STACK ?=
ENV_FILE ?= .env.$(STACK)
env-from-stack: venv ## Write a deployed stack's settings to ENV_FILE (default .env.STACK): make env-from-stack STACK=name
	@if [ -z "$(STACK)" ]; then echo "usage: make env-from-stack STACK=<stack name> [ENV_FILE=...]" >&2; exit 2; fi
	@$(PY) -m infra.env_from_stack --stack "$(STACK)" --output "$(ENV_FILE)"

fmt: venv ## Fix what ruff can and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-data: ## Stop all services and delete their data (.pgdata, .localcloud*, .run)
	@devtools/services.sh down dev
	@devtools/services.sh down test
	@DATABASE_URL= devtools/postgres.sh destroy
	rm -rf .localcloud .localcloud-test .run
