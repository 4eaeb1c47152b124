# Two entry points on a fresh machine: `make serve` and `make test`.
# Both create .venv (Python 3.11) and install the package; torch is pinned to the CPU
# wheel in pyproject.toml so nothing pulls a CUDA build.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

.PHONY: install install-dev serve test test-slow benchmark
install: $(BIN)/python
	$(BIN)/pip install -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -e '.[dev]'

serve: install
	$(BIN)/chitieu serve --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest

test-slow: install-dev
	$(BIN)/python -m pytest -m slow
