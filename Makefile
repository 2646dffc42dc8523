# Quick start: `make run` and `make test`. Everything installs from this project's files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run test lint typecheck pytest bench bench-rasa install i18n clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Compiled translations; fuzzy entries are never compiled.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

install: $(STAMP) $(MO)

# Extract messages from the code, update every locale, compile.
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F locales/babel.cfg --sort-by-file --no-wrap --project returnee-bot \
		-o locales/messages.pot .
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -D messages --no-wrap \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m bot.i18n_source
	$(MAKE) $(MO)

run: $(STAMP) $(MO)
	$(BIN)/returnee-bot db upgrade
	$(BIN)/returnee-bot catalog import
	$(BIN)/returnee-bot run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(MO)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP) $(MO)
	$(BIN)/python -m benchmarks.catalog
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.nlu
	$(BIN)/python -m benchmarks.bot
	$(BIN)/python -m benchmarks.load

# Embedded engine vs Rasa 3.6 DIET (not part of `make test`): installs Rasa into its own
# virtualenv .venv-rasa once (about 3 minutes), then trains, serves and evaluates both.
bench-rasa: $(STAMP)
	test -x .venv-rasa/bin/rasa || RASA_VENV=.venv-rasa PYTHON=$(PYTHON) bash ../shared/rasa/install_rasa.sh
	RASA_VENV=.venv-rasa $(BIN)/python -m benchmarks.vs_rasa

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
