# Telsam Panel — `make demo` runs everything locally, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

demo: $(STAMP)
	scripts/demo

test: $(STAMP)
	scripts/run-tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap
	PYTHON=$(PYTHON) scripts/bootstrap
	touch $(STAMP)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .celerybeat-schedule*
