# The two set-up commands of the README: `make demo` and `make test`.
# Both create the virtual environment when it is missing; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/pontianak

.PHONY: demo test lint venv clean schemas browser bench

# The web application's browser tests drive Debian's chromium (Playwright cannot download browsers
# here). Installed from Debian's registry when missing; needs root, as on the test machines.
CHROMIUM := /usr/bin/chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's packaging changes.
$(STAMP): $(BIN)/python pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(BIN)/python -m pip install --quiet -e '.[dev,service,scale]'
	for p in plugins/*/; do if [ -f "$$p/pyproject.toml" ]; then $(BIN)/python -m pip install --quiet -e "$$p" || exit 1; fi; done
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mutasi-rules demo $(EXAMPLE)

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing chromium (Debian) for the browser tests"; \
		apt-get update -qq || true; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; \
	fi

# Static checks (configured in pyproject.toml): ruff over the repository, mypy over the package.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) browser lint
	$(BIN)/python -m pytest

# The rerunnable benchmarks of docs/performance.md: the pipeline and its peers (zen-engine, from
# the bench extra), then the batch of 14 regions on 1 and 2 workers. Minutes; not part of test.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks run --sizes 1000 7000 100000
	$(BIN)/python -m benchmarks.batch --regions 14 --employees-total 100000 --workers 1 2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# Regenerate the published JSON Schemas and the HTTP API's OpenAPI document after a change to a data
# model or a route (tests check they are current).
schemas: $(STAMP)
	for t in $$($(BIN)/python -c 'from mutasi_rules.schemas import SCHEMAS; print(*SCHEMAS)'); do $(BIN)/mutasi-rules schema $$t --out docs/schemas/$$t.schema.json || exit 1; done
	$(BIN)/python -c 'from mutasi_rules.http.openapi import write_openapi; write_openapi("docs/openapi.json")'
