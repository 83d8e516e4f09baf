# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run serve worker install migrate demo test test-postgres test-api test-browser browser-deps bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed

# `make run` is for trying the product locally: DEBUG on (unless already set in the
# environment), demo users, and WhatsApp in console mode while no access token is configured.
run: export DEBUG ?= True
# The system checks (e.g. "WhatsApp is in console mode") are printed once, by runserver.
run: install
	$(BIN)/python manage.py migrate --noinput --skip-checks
	$(BIN)/python manage.py seed_demo --skip-checks
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production serving: gunicorn (settings in gunicorn.conf.py), static files by whitenoise.
# Needs the production environment (.env or variables): DEBUG off, SECRET_KEY, ALLOWED_HOSTS...
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn --config gunicorn.conf.py Incident.wsgi:application

# A Celery worker with beat inside, for NOTIFICATION_DELIVERY=celery on one machine (start the app
# with `NOTIFICATION_DELIVERY=celery make run` in another terminal). Needs Redis (REDIS_URL,
# default redis://127.0.0.1:6379/0). In production run workers and one beat as services (README
# "Scaling out").
worker: export DEBUG ?= True
worker: export NOTIFICATION_DELIVERY ?= celery
worker: export REDIS_URL ?= redis://127.0.0.1:6379/0
worker: install
	$(BIN)/celery -A Incident worker --beat --pool threads --concurrency 32 --loglevel INFO \
	  --schedule $(VENV)/celerybeat-schedule

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Test processes: one per core (pytest-xdist); TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= auto

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The same suite against the local PostgreSQL server (row locks, real concurrency).
test-postgres: $(VENV)/.dev-installed
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n $(TEST_WORKERS)

# The Postman collection (docs/postman/) run by newman against a server of its own.
NEWMAN := docs/postman/node_modules/.bin/newman
$(NEWMAN): docs/postman/package.json docs/postman/package-lock.json
	cd docs/postman && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-api: install $(NEWMAN)
	bash docs/postman/run-newman.sh

# The admin in a real headless Chromium: Debian's chromium and chromium-driver (installed here
# when missing; needs root or sudo) driven by selenium. Screenshots: artifacts/browser/.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium and chromium-driver"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver; \
	fi

$(VENV)/.browser-installed: requirements.txt requirements-dev.txt requirements-browser.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	touch $@ $(VENV)/.dev-installed $(VENV)/.runtime-installed

test-browser: browser-deps $(VENV)/.browser-installed
	$(BIN)/python -m pytest e2e -p no:cacheprovider

# Benchmarks (bench/): writes docs/benchmarks.md and docs/benchmarks.png; needs the local
# PostgreSQL server (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
$(VENV)/.bench-installed: requirements.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed
	cd bench && ../$(BIN)/python run.py

# The manual (docs/ and README.md as its front page) as a small site in artifacts/site; strict, so
# a broken link or a page missing from the nav fails.
$(VENV)/.docs-installed: requirements-docs.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-docs.txt
	touch $@

docs: $(VENV)/.docs-installed
	rm -rf artifacts/docs-src && mkdir -p artifacts/docs-src
	cp docs/*.md docs/*.png artifacts/docs-src/
	sed 's#](docs/#](#g' README.md > artifacts/docs-src/index.md
	$(BIN)/mkdocs build

clean:
	rm -rf $(VENV) .pytest_cache docs/postman/node_modules artifacts
