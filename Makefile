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

.PHONY: install install-dev serve lint test test-slow benchmark curve
install: $(BIN)/python
	$(BIN)/pip install -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -e '.[dev]'

serve: install
	$(BIN)/chitieu serve --host $(HOST) --port $(PORT)

# Types (mypy over chitieu/, train/ and serve/ through chitieu/'s links, and tools/) and lint
# (ruff over everything); both configured in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check
	$(BIN)/mypy

# The default run (fast), then the tests that load the committed default model (marker `model`).
test: install-dev
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -m model

test-slow: install-dev
	$(BIN)/python -m pytest -m slow

# The service under attack and under load (see README, "Overload, disconnects, shutdown"): schemathesis
# over every operation with many examples (minutes), and 2x the measured capacity for
# MINUTES on loopback with the promoted model (about MINUTES + 3 minutes).
FUZZ_EXAMPLES ?= 300
MINUTES ?= 5
.PHONY: fuzz loadtest
fuzz: install-dev
	CHITIEU_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_service_fuzz.py -q

loadtest: install-dev
	mkdir -p reports && $(BIN)/chitieu loadtest --minutes $(MINUTES) --out reports/loadtest.json

# chitieu against the plain transformers pipeline (see README, "Speed"): BENCH_ARTICLES
# articles of corpus_unlabeled, 4 clients, every engine with its test F1, one Label Studio
# /predict of 250 tasks; about 8 minutes for 200 articles on 2 quiet cores. Run it when
# nothing else is running: the report says what was.
BENCH_ARTICLES ?= 200
BENCH_REPEATS ?= 1
.PHONY: bench
bench: install-dev
	mkdir -p reports && $(BIN)/chitieu bench --articles $(BENCH_ARTICLES) --repeats $(BENCH_REPEATS) \
	  --concurrency 4 --predict-tasks 250 --out reports/bench.json

# F1 against training size: the default recipe on nested shares of the train split (early
# stopping on dev), then one report with the curve. About an hour on 2 CPU cores.
CURVE_DIR ?= runs
curve: install
	for f in 0.25 0.5 1.0; do \
	  $(BIN)/chitieu train --train-fraction $$f --epochs 10 --patience 10 --out $(CURVE_DIR) --name curve-$$f --overwrite || exit 1; \
	done
	$(BIN)/chitieu evaluate $(CURVE_DIR)/curve-1.0 --split test --no-baselines --report reports/curve \
	  --models-for-curve $(CURVE_DIR)/curve-0.25,$(CURVE_DIR)/curve-0.5

# chitieu batch (see README, "Batch extraction"). test-batch: both engines on 50 real
# articles from ../shared (skipped when absent), killed runs resumed, a dying Ray actor;
# a local 2-CPU Ray cluster, about 4 minutes on 2 cores. benchmark-batch: both engines
# on the first BATCH_DOCS articles of corpus_unlabeled (about 15 minutes each on 2 cores).
.PHONY: install-batch test-batch benchmark-batch
BATCH_DOCS ?= 1000
BATCH_BENCH := runs/batch-benchmark
install-batch: $(BIN)/python
	$(BIN)/pip install -e '.[dev,batch]'

test-batch: install-batch
	$(BIN)/python -m pytest -m batch

benchmark-batch: install-batch
	rm -rf $(BATCH_BENCH)
	for engine in local ray; do \
	  $(BIN)/chitieu batch ../shared/corpus_unlabeled/vn_news_2017.jsonl.gz --limit $(BATCH_DOCS) \
	    --engine $$engine --output $(BATCH_BENCH)/$$engine --progress-interval 60 || exit 1; \
	done

# A real Label Studio with chitieu as its ML backend (see README, "Label Studio"): Label
# Studio is installed into its own virtual environment (its Django stack would clash with
# chitieu's), started on loopback with a fresh data folder, and driven through its REST
# API. About 5 minutes the first time (the install), 2-3 minutes after.
.PHONY: test-labelstudio
LABEL_STUDIO_VERSION := 1.23.2
LS_VENV := .venv-ls
LS_STAMP := $(LS_VENV)/.label-studio-$(LABEL_STUDIO_VERSION)
$(LS_STAMP):
	rm -rf $(LS_VENV)
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --upgrade pip
	$(LS_VENV)/bin/pip install 'label-studio==$(LABEL_STUDIO_VERSION)'
	touch $@

test-labelstudio: install-dev $(LS_STAMP)
	LABEL_STUDIO_BIN=$(abspath $(LS_VENV))/bin/label-studio $(BIN)/python -m pytest -m labelstudio -v -s tests/integration
