# The two commands a newcomer needs: `make demo` and `make test`.
# Both create (or reuse) .venv with a Python >= 3.12 and install pvae into it.
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(shell tools/find-python)
STAMP := $(VENV)/.installed
# The strict docs build: any warning fails it (tests/test_docs.py plants one to prove it)
MKDOCS_STRICT := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

.PHONY: demo test docs bench-smoke figures clean lock test-oldest lock-oldest

# Installs the locked versions (requirements.lock), then pvae itself on top of them.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { tools/find-python; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## Refresh requirements.lock: the newest versions pyproject.toml allows; then run make test.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade -e '.[dev,docs,lightning,tensorboard,peers]'
	{ echo "# The versions CI installs: what the test suite last passed with. Refresh: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock

# The oldest versions pyproject.toml allows (SPEC 0), in a venv of their own.
OLDEST := .venv-oldest
# Third-party libraries of different ages warn about each other's deprecated calls
# (matplotlib 3.10 on today's pyparsing): not pvae's warnings, so not errors in this job.
OLDEST_PYTEST := OMP_NUM_THREADS=1 $(OLDEST)/bin/python -m pytest -n auto -W ignore::DeprecationWarning
# A fast subset: the parts most tied to torch, Pyro and ArviZ's APIs.
OLDEST_TESTS := tests/objectives/test_vae_closed_form.py tests/objectives/test_conformance.py \
	tests/test_compat.py tests/test_posterior.py tests/bayes/test_evidence.py \
	tests/test_checkpoint.py tests/models/test_bayesian_gaussian.py tests/models/test_mixture.py \
	tests/estimate/test_compare.py tests/test_packaging.py

$(OLDEST)/.installed: pyproject.toml requirements-oldest.lock
	@test -n "$(PYTHON)" || { tools/find-python; exit 1; }
	@test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -r requirements-oldest.lock
	$(OLDEST)/bin/python -m pip install --quiet --no-deps -e .
	@touch $@

## Run a fast subset of the tests on the oldest versions pyproject.toml allows (CI runs it).
test-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python tools/oldest.py versions
	$(OLDEST_PYTEST) $(OLDEST_TESTS)

## Refresh requirements-oldest.lock: each dependency at its lower bound, from a fresh venv.
lock-oldest:
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet $$($(PYTHON) tools/oldest.py pins)
	{ echo "# The oldest versions pyproject.toml allows, as CI's test-oldest installs them."; \
	  echo "# Refresh: make lock-oldest"; \
	  $(OLDEST)/bin/python -m pip freeze --exclude-editable; } > requirements-oldest.lock

## Fit every model on the embedded data and print what each says about its likelihood.
demo: $(STAMP)
	$(BIN)/pvae demo

## Lint, type-check, run the test suite, build the docs strictly, smoke-run the benchmarks.
## The suite runs on every core, one torch thread each: most of its tests are too small for
## torch's threads to help, so two workers on two cores take 10 minutes where one took 16.
test: $(STAMP)
	$(BIN)/ruff check pvae tests benchmarks tools docs/tutorial
	$(BIN)/mypy pvae
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n auto
	$(MKDOCS_STRICT) --site-dir $(VENV)/site
	$(MAKE) bench-smoke

## Serve the documentation at http://127.0.0.1:8000 while editing it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

## Regenerate every figure the docs show, from full runs (the demo, minutes; then the
## benchmarks that draw docs figures, hours on 2 cores). Each PNG records its run; the
## docs test refuses one from a quick or tiny run. `--only demo` in FIGURES does half.
figures: $(STAMP)
	$(BIN)/python tools/figures.py $(FIGURES)

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --tiny --out $(VENV)/bench-smoke

clean:
	rm -rf $(VENV) $(OLDEST) .pytest_cache .mypy_cache .ruff_cache
