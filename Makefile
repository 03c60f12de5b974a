# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
WITH_SERVICES := scripts/with_services.sh
# Development mode for run/test; production sets DEBUG=0 and real secrets (README.md).
export DEBUG ?= 1

.PHONY: help run test lint format messages bench drill otp

help:
	@echo "make run    - install, migrate, load demo data, start web + worker + beat on http://127.0.0.1:8000/admin/"
	@echo "make test   - lint, then the whole test suite against real PostgreSQL and Redis"
	@echo "make bench (speed figures) / make lint / make format / make messages / make drill"

$(VENV)/.installed: requirements.txt
	scripts/make_venv.sh $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

run: $(VENV)/.installed
	mkdir -p var/staticfiles
	@$(WITH_SERVICES) bash -c '\
		$(MANAGE) compile_translations && \
		roles=$$($(PY) scripts/db_roles.py setup) && eval "$$roles" && \
		$(PY) scripts/db_roles.py migrate && \
		$(MANAGE) seed_demo && \
		echo && echo "GovCMS admin: http://127.0.0.1:8000/admin/  (Ctrl-C stops everything)" && \
		echo "Second factor: after the password, run  make otp who=<username>  in another terminal for the current code (demo users only, DEBUG only)" && echo && \
		$(VENV)/bin/honcho start'

# A demo user's current second-factor code (DEBUG only), e.g. `make otp who=editor`.
otp: $(VENV)/.installed
	@$(WITH_SERVICES) $(MANAGE) demo_otp $(who) 2>&1 | grep -v "^PostgreSQL:\|^Redis:\|^Wrote \|^Nothing to stop"

test: $(VENV)/.installed
	mkdir -p var/staticfiles
	$(WITH_SERVICES) bash -c '\
		$(MANAGE) compile_translations && \
		$(VENV)/bin/ruff check . && \
		$(VENV)/bin/pytest'

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Extract new strings into the catalogue; translate them, then `make test` checks none is missing.
messages: $(VENV)/.installed
	$(MANAGE) makemessages -l zh_Hans --no-location --ignore='tests/*' --ignore='scripts/*' --ignore='.venv/*' --ignore='var/*'

# Speed figures (portal pages and search on 20,000 articles) against the plain-Django baseline.
bench: $(VENV)/.installed
	$(WITH_SERVICES) $(PY) -m bench

drill: $(VENV)/.installed
	scripts/drills/services_drill.sh
	$(WITH_SERVICES) $(PY) -m bench.drill
	$(WITH_SERVICES) bash -c '$(VENV)/bin/pytest -m drill || [ $$? -eq 5 ]'  # 5: no test marked drill today
