# Telsam Panel — `make demo` runs everything locally, `make test` runs the test suite (the browser
# code's unit tests in tests/js/ with `node --test`, then pytest), `make test-fast` the part of it
# that starts no process of its own and no browser, `make lint` ruff and the browser
# code's checks and unit tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench bench-quick soak install clean

demo: $(STAMP)
	scripts/demo

test: $(STAMP)
	scripts/run-tests $(TEST_ARGS)

# No web server, Celery or Chromium: the tests marked neither slow, e2e nor stack.
test-fast: $(STAMP)
	scripts/run-tests --fast $(TEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

# Ten minutes of load, PBX faults and a web-server restart on loopback; e.g. SOAK_ARGS="--minutes 2".
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# The layering of the packages (docs/architecture.md): the contracts in pyproject.toml.
	$(BIN)/lint-imports
	@# No build step for the browser code: every module parses, and its pure parts pass their
	@# unit tests (tests/js/, Node's built-in runner). Node is required: `apt-get install nodejs`.
	@command -v node >/dev/null || { echo "error: make lint needs Node.js (apt-get install nodejs)" >&2; exit 1; }
	@for f in static/js/*.js; do node --input-type=module --check < $$f || exit 1; done
	node --test tests/js/*.test.mjs

install: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap
	PYTHON=$(PYTHON) scripts/bootstrap
	touch $(STAMP)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .celerybeat-schedule*
