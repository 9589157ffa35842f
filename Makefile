# Two commands for users: `make demo` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
JOBS ?= 1

.PHONY: setup demo docs test test-all bench clean

setup:
	@bash scripts/setup.sh

# The main job: analog (shipped sky130 calibration) vs ideal SGDr -> report/ (no SPICE run needed),
# plus a doctor check and two sky130 plots of the primitives.
demo: setup
	@$(BIN)/logdomain doctor
	@$(BIN)/logdomain compare --out report
	@mkdir -p report/primitives
	@$(BIN)/logdomain simulate nmos --tech sky130 --plot report/primitives/sky130_nmos_iv.png > /dev/null
	@$(BIN)/logdomain simulate multiplier --tech sky130 --plot report/primitives/sky130_multiplier.png > /dev/null
	@echo "demo: report in report/report.md (summary.json, PNGs)"

# The figures in docs/: `logdomain compare` on the shipped calibration (defaults), PNGs copied to docs/.
docs: setup
	@$(BIN)/python scripts/make_docs.py

# The whole suite except tests marked slow (a real subset of the SPICE tests still runs).
test: setup
	@$(BIN)/python -m pytest -q -m "not slow"

test-all: setup
	@$(BIN)/python -m pytest -q

bench: setup
	@for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick; done

clean:
	rm -rf report .pytest_cache
