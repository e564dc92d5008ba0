# The two commands of the quick start: `make demo` and `make test`.
# Both create .venv on first use and install the locked dev environment into it.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := all,demo,dev

.PHONY: install demo serve test lint typecheck pytest fmt bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "mlvitals needs Python >= 3.11 on PATH"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlvitals demo

serve: $(STAMP)
	$(BIN)/mlvitals serve

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_sdk_overhead --rounds 5
	$(BIN)/python -m benchmarks.bench_sketches --rounds 5
	$(BIN)/python -m benchmarks.bench_pipelines
	$(BIN)/python -m benchmarks.bench_quality
	$(BIN)/python -m benchmarks.bench_ingest --batches 30
	$(BIN)/python -m benchmarks.bench_cost --days 7

# Re-pin the dev environment after changing dependencies in pyproject.toml.
lock:
	rm -rf /tmp/mlvitals-lock && $(PYTHON) -m venv /tmp/mlvitals-lock
	/tmp/mlvitals-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/mlvitals-lock/bin/python -m pip install --quiet -e '.[$(EXTRAS)]'
	/tmp/mlvitals-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) build *.egg-info
