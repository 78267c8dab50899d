# physir — every target does its own set-up from a fresh clone.
#   make demo   the main job: synthetic data -> every stage -> report (see README)
#   make test   fresh venv, install, check the package is in sync with the notebooks, nbdev_test, count line
#   make lab    JupyterLab on nbs/ (127.0.0.1; also as root)
#   make lab-check  run every notebook with Run All in JupyterLab in headless Chromium (bench/lab_check.py)
# GPU users: install your CUDA build of torch into .venv first, or run e.g.
#   make test TORCH_SPEC="torch --index-url <your CUDA wheel index>"
# pip keeps an already-installed torch because settings.ini asks only for torch>=2.1.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
FLAGS ?=
DEMO_SIZE ?= small
DEMO_OUT ?= demo_output
# extras the tests exercise (settings.ini `extra_NAME` keys); the radiometric reader is tested on a shipped FLIR file, nf4/int8 FLUX set-ups on the meta device
EXTRAS ?= dev,radiometric,quant
export PYTHONUNBUFFERED := 1

.PHONY: install demo test test-slow lab lab-check export clean-nbs docs-check readme

$(VENV)/.installed: settings.ini setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

# the package must equal what the notebooks export: a test run on a stale package would test the wrong code
export: install
	@before="$$(git status --porcelain 2>/dev/null)"; $(VENV)/bin/nbdev_export; \
	after="$$(git status --porcelain 2>/dev/null)"; \
	if [ "$$before" != "$$after" ]; then echo "nbdev_export changed the tree: physir/ was not in sync with nbs/:"; \
	  diff <(echo "$$before") <(echo "$$after"); exit 1; fi; echo "nbdev_export: package in sync with notebooks"

test: export
	$(PY) tools/run_tests.py $(if $(FLAGS),--flags "$(FLAGS)")

test-slow: export
	$(PY) tools/run_tests.py --flags slow

demo: install
	$(VENV)/bin/physir_demo --size $(DEMO_SIZE) --out $(DEMO_OUT)

# JupyterLab refuses to start as root (most containers) without --allow-root; only localhost can reach it
lab: install
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root) nbs/

# Debian's Chromium driven by the playwright package (no browser download); LAB_CHECK_ARGS e.g. --only "13_*"
lab-check: install
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q --no-install-recommends chromium)
	$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install -q "playwright>=1.40"
	$(PY) bench/lab_check.py $(LAB_CHECK_ARGS)

clean-nbs: install
	$(VENV)/bin/nbdev_clean

docs-check: install
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q --no-install-recommends chromium)
	$(PY) bench/docs_check.py

readme: install
	$(PY) tools/make_readme.py
