# Two commands matter: `make demo` and `make test`. Both set up .venv first when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= demo-lab

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# torch goes first, pinned: the machine carries a CPU build of 2.13.0, and an unpinned torch
# would pull several GB of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[ml,qlora,dev]"
	touch $(STAMP)

demo: setup
	test -f $(DEMO)/hyp.toml || $(BIN)/hyp init $(DEMO) --example persona
	# Trained once: a second `make demo` shows the lab instead of adding replicates to its evidence.
	cd $(DEMO) && for h in H003 H004; do test -f reports/$$h.md || ../$(BIN)/hyp run $$h || exit 1; done; ../$(BIN)/hyp list
	@echo "Reports: $(DEMO)/reports/H003.md $(DEMO)/reports/H004.md  ·  compare runs: cd $(DEMO) && ../$(BIN)/hyp ui"

# Two workers (pytest-xdist): most tests wait on a hyp or mlflow process, so two share 2 cores well;
# tests/conftest.py gives each worker's torch its share of the cores, and keeps the PostgreSQL tests
# in one worker (loadgroup).
test: setup
	$(BIN)/python -m pytest -q -rs -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python benchmarks/run

clean:
	rm -rf $(DEMO) .pytest_cache
