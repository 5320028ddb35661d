# The two commands a newcomer needs: `make demo` and `make test`.
# Both create (or reuse) .venv with a Python >= 3.12 and install pvae into it.
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(shell tools/find-python)
STAMP := $(VENV)/.installed

.PHONY: demo test bench-smoke clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { tools/find-python; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Fit every model on the embedded data and print what each says about its likelihood.
demo: $(STAMP)
	$(BIN)/pvae demo

## Lint, type-check, run the test suite, and smoke-run the benchmarks.
test: $(STAMP)
	$(BIN)/ruff check pvae tests benchmarks
	$(BIN)/mypy pvae
	$(BIN)/python -m pytest
	$(MAKE) bench-smoke

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --tiny --out $(VENV)/bench-smoke

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
