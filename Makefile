# Everything a new machine needs: `make demo` and `make test` set up .venv themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

# Airflow runs from the repo: metadata DB and logs under .airflow/ (ignored by git).
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)/plugins$(if $(PYTHONPATH),:$(PYTHONPATH))

# Concurrent readers of Google's Sheets API (60 reads/min per service account).
SHEETS_POOL := google_sheets_api
SHEETS_POOL_SLOTS := 4
SHEETS_POOL_DESC := Google Sheets API readers (quota 60 reads/min per service account)

.PHONY: help demo precheck test test-celery ui-screenshot bench lint template samples preview clean
.PHONY: airflow airflow-stop

help:
	@echo "make demo      - set up .venv, run provincial_report on the sample workbooks, print the outputs"
	@echo "                 (PERIOD=yyyy-mm-dd for one period only)"
	@echo "                 (FORCE_RESEND=1: send again what the demo said may not have arrived)"
	@echo "make precheck PERIOD=yyyy-mm-dd - run unit_precheck (the units' check before the collection day)"
	@echo "                 on the sample workbooks: a KiemTra sheet per unit, emails only when findings change;"
	@echo "                 prints where each unit's result went"
	@echo "make airflow   - Airflow itself on this machine (api-server, scheduler, dag-processor, triggerer;"
	@echo "                 LocalExecutor, the sample workbooks): prints the address, user and password"
	@echo "                 (AIRFLOW_PORT=8081 for another port; HOUSING_REPORT_EXECUTOR=celery for Celery)"
	@echo "make airflow-stop - stop what make airflow started"
	@echo "make test      - set up .venv with the test tools, check the import rules (lint-imports), run the tests"
	@echo "make test-celery - provincial_report on Airflow's own processes with the CeleryExecutor"
	@echo "                 (PostgreSQL and Redis on loopback; about two minutes)"
	@echo "make ui-screenshot - the admins' page in the Airflow UI, in headless Chromium: docs/ui-page.png"
	@echo "make bench     - every benchmark (scale to 3.321 units, rendering, Google requests, DAG parse,"
	@echo "                 dag.test end to end): prints the targets, writes BENCHMARKS.md (about 7 minutes on 2 cores)"
	@echo "make template  - write the blank unit workbook (output/template/)"
	@echo "make preview   - the demo's report and workbook as PDF/PNG (LibreOffice), its email as PNG (Chromium)"
	@echo "make lint      - ruff"
	@echo "make clean     - remove .venv, .airflow and output"

# Runtime packages; the .pth file puts include/ and plugins/ on the venv's path.
$(VENV)/.runtime: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	site=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  printf '%s\n%s\n' "$(CURDIR)/include" "$(CURDIR)/plugins" > "$$site/housing_report_paths.pth"
	touch $@

# System packages: LibreOffice (the report's PDF) and SoftHSM2 (a PKCS#11 token for the signing
# tests), with Times New Roman's metric twin (Liberation) for the document. Installed with apt-get
# where it can (root, Debian or Ubuntu); else what to install is printed, and the stamp is left
# out so that the next `make` tries again. Each entry: a command or a path, then its package.
SYSTEM_PACKAGES := soffice:libreoffice-writer softhsm2-util:softhsm2 \
  /usr/share/fonts/truetype/liberation:fonts-liberation
$(VENV)/.system:
	@mkdir -p $(VENV); missing=""; for pair in $(SYSTEM_PACKAGES); do what="$${pair%%:*}"; \
	  { command -v "$$what" || test -e "$$what"; } >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing \
	    > $(VENV)/apt-get.log 2>&1 || { tail -20 $(VENV)/apt-get.log; exit 1; }; missing=""; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "Thiếu gói hệ thống / missing system packages:$$missing (sudo apt-get install$$missing)"; \
	else touch $@; fi

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(AIRFLOW_HOME)/.migrated: $(VENV)/.runtime
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || { tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1; }
	$(BIN)/airflow pools set $(SHEETS_POOL) $(SHEETS_POOL_SLOTS) "$(SHEETS_POOL_DESC)" >> $(AIRFLOW_HOME)/db-migrate.log 2>&1
	touch $@

demo: $(AIRFLOW_HOME)/.migrated $(VENV)/.system
	$(BIN)/python -m housing_report_airflow.demo $(if $(FORCE_RESEND),--force-resend) $(PERIOD)

# The units' pre-check (DAG unit_precheck) with the same Variables and Connections as the demo.
precheck: $(AIRFLOW_HOME)/.migrated
	$(BIN)/python -m housing_report_airflow.precheck_demo $(PERIOD)

# The import rules first (.importlinter: stages import only downward, no circle), then the suite,
# spread over the machine's cores (pytest-xdist; each worker has an Airflow home, metadata
# database and servers' ports of its own: tests/conftest.py). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
test: $(VENV)/.dev $(VENV)/.system
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Airflow's own processes on loopback with the settings above (housing_report_airflow.local_airflow):
# migrates, creates the pool, the report database and the admin's login, prints them; pid files
# and logs in $(AIRFLOW_HOME)/local/.
airflow: $(VENV)/.runtime
	$(BIN)/python -m housing_report_airflow.local_airflow start

airflow-stop:
	$(BIN)/python -m housing_report_airflow.local_airflow stop

# Chromium for the browser test (tests/ui/test_admin_in_browser.py), from the system's packages:
# installed with apt-get where this runs as root; elsewhere the test is skipped (a failure with CI=true).
$(VENV)/.chromium:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is not installed (as root: apt-get install chromium): the browser test will be skipped"; fi
	@if command -v chromium >/dev/null; then touch $@; fi

test: $(VENV)/.chromium

# The Celery end-to-end test (marker `celery`, left out of `make test`).
test-celery: $(VENV)/.dev
	$(BIN)/python -m pytest -m celery tests/celery $(PYTEST_ARGS)

# Starts `airflow api-server` on loopback (SimpleAuthManager, SQLite under .airflow/ui-screenshot),
# logs in and screenshots the page with headless Chromium (apt-get install chromium).
ui-screenshot: $(VENV)/.dev
	test -f output/reports.sqlite || $(MAKE) demo
	$(BIN)/python -m tests.ui.screenshot docs/ui-page.png

# LibreOffice too (.system): the national dag.test() signs the approved report, as PDF.
bench: $(AIRFLOW_HOME)/.migrated $(VENV)/.dev $(VENV)/.system
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

# LibreOffice Calc, for the workbook's PDF in `make preview` only (the pipeline needs Writer alone).
$(VENV)/.calc:
	@if [ -d /usr/lib/libreoffice/program ] && ls /usr/lib/libreoffice/program | grep -q '^libsclo'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-calc >/dev/null; \
	else echo "LibreOffice Calc is not installed (apt-get install libreoffice-calc): no PDF of the workbook"; fi
	@if ls /usr/lib/libreoffice/program 2>/dev/null | grep -q '^libsclo'; then touch $@; fi

# Renders the demo's periods (run by `make demo` when their outputs are not there yet) into
# output/<period>/preview/: the document and the workbook as PDF and PNG pages, the email at a
# phone's 390 px (whole, and its first screen) and a desktop's width.
PREVIEW_PERIODS ?= 2025-02-27 2025-03-12
preview: $(AIRFLOW_HOME)/.migrated $(VENV)/.system $(VENV)/.chromium $(VENV)/.calc
	@for p in $(PREVIEW_PERIODS); do test -f output/$$p/summary.json || { $(MAKE) demo || exit 1; break; }; done
	@for p in $(PREVIEW_PERIODS); do $(BIN)/python -m housing_report_tools.preview output/$$p || exit 1; done

lint: $(VENV)/.dev
	$(BIN)/ruff check .

template: $(VENV)/.runtime
	$(BIN)/python -m housing_report_tools.cli template output/template/mau-bao-cao.xlsx

samples: $(VENV)/.runtime
	$(BIN)/python -m housing_report_tools.sample_data include/sample_data

clean:
	rm -rf $(VENV) $(AIRFLOW_HOME) output
