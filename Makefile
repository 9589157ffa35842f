# Two commands for users: `make demo` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
JOBS ?= 1

.PHONY: setup demo test test-all bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@mkdir -p demo
	@$(BIN)/logdomain doctor
	@$(BIN)/logdomain simulate nmos --tech sky130 --plot demo/sky130_nmos_iv.png > demo/sky130_nmos_iv.txt
	@$(BIN)/logdomain simulate multiplier --tech sky130 --plot demo/sky130_multiplier.png > demo/sky130_multiplier.txt
	@echo "demo: wrote demo/sky130_nmos_iv.png and demo/sky130_multiplier.png"

# The whole suite except tests marked slow (a real subset of the SPICE tests still runs).
test: setup
	@$(BIN)/python -m pytest -q -m "not slow"

test-all: setup
	@$(BIN)/python -m pytest -q

bench: setup
	@for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick; done

clean:
	rm -rf demo .pytest_cache
