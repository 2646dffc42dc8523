# Quick start: `make run` and `make test`. Everything installs from this project's files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-rasa install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/returnee-bot db upgrade
	$(BIN)/returnee-bot catalog import
	$(BIN)/returnee-bot run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.catalog
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.nlu

# Embedded engine vs Rasa 3.6 DIET (not part of `make test`): installs Rasa into its own
# virtualenv .venv-rasa once (about 3 minutes), then trains, serves and evaluates both.
bench-rasa: $(STAMP)
	test -x .venv-rasa/bin/rasa || RASA_VENV=.venv-rasa PYTHON=$(PYTHON) bash ../shared/rasa/install_rasa.sh
	RASA_VENV=.venv-rasa $(BIN)/python -m benchmarks.vs_rasa

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
