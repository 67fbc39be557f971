# Two commands do everything on a fresh machine (set-up included):
#   make demo   grade the example class, print the tables and its report, write out/linear/
#   make test   run the framework's test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint verify bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# Bytecode for the grader: every grading process imports it, and where
	@# PYTHONDONTWRITEBYTECODE is set nothing else would write it (0.1 s per process).
	$(BIN)/python -m compileall -q autograder > /dev/null
	touch $(STAMP)

demo: setup
	$(BIN)/autograder grade linear examples/submissions/linear --out out/linear
	$(BIN)/autograder report out/linear

test: setup
	$(BIN)/python -m pytest -q

verify: setup
	$(BIN)/autograder verify

bench: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/isolation.py
	$(BIN)/python benchmarks/gradcheck.py
	$(BIN)/python benchmarks/check_latency.py

lint: setup
	$(BIN)/ruff check autograder tests benchmarks
	$(BIN)/mypy

# Not .autograder/: it holds the course secret, and a new one changes every hidden input.
clean:
	rm -rf $(VENV) out
