# pipeprof: every target but `setup` depends on `setup`, which creates .venv and installs the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOL ?= py-spy memray
ITEMS ?=
OUT ?= profiles
TOOL_FLAGS = $(foreach t,$(TOOL),--tool $(t))
ITEM_FLAGS = $(if $(ITEMS),--set items=$(ITEMS))

.PHONY: setup test test-fast lint profile-output profile-ingest profile-api profile-pipeline \
        study study-full report bench calibrate check soak clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

profile-output: setup
	$(BIN)/harness run output $(TOOL_FLAGS) $(ITEM_FLAGS) --out $(OUT)

profile-ingest: setup
	$(BIN)/harness run ingest_files $(TOOL_FLAGS) $(ITEM_FLAGS) --out $(OUT)

profile-api: setup
	$(BIN)/harness run ingest_api $(TOOL_FLAGS) $(ITEM_FLAGS) --out $(OUT)

profile-pipeline: setup
	$(BIN)/harness run pipeline $(TOOL_FLAGS) $(ITEM_FLAGS) --out $(OUT)

study: setup
	$(BIN)/harness study --quick --out $(OUT)

study-full: setup
	$(BIN)/harness study --out $(OUT)

report: setup
	$(BIN)/harness report --out $(OUT)

calibrate: setup
	$(BIN)/harness calibrate --out $(OUT)/calibration-$$(date -u +%Y%m%dT%H%M%SZ)

# The CI gate: make check RUN=<run or dir> BASELINE=<run or dir> [REPEAT=5] [CHECK_FLAGS=...]
REPEAT ?= 5
check: setup
	@test -n "$(RUN)" -a -n "$(BASELINE)" || \
	  { echo "usage: make check RUN=<run or dir> BASELINE=<run or dir> [REPEAT=5]" >&2; exit 2; }
	$(BIN)/harness check $(RUN) --baseline $(BASELINE) --repeat $(REPEAT) $(CHECK_FLAGS)

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

soak: setup
	$(BIN)/python -m bench.soak
