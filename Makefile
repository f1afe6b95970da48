# The README's two commands are `make run` and `make test`; everything else is a helper.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

.PHONY: install run ingest test eval bench clean

install: $(STAMP)

# torch first, pinned to the CPU wheel on disk, so sentence-transformers pulls no CUDA.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

ingest: install
	$(BIN)/hazard ingest

# Ingest, show what is indexed and a sample search, then serve the web UI and API on loopback.
run: ingest
	$(BIN)/hazard docs
	$(BIN)/hazard search "有限空间作业没有人监护算重大隐患吗" -k 3
	$(BIN)/hazard serve --host 127.0.0.1 --port $(or $(PORT),8000)

test: install
	$(BIN)/pytest

eval: ingest
	$(BIN)/hazard eval retrieval --check-floors
	$(BIN)/hazard eval classify --check-floors
	$(BIN)/hazard eval classify --set classify_blind --check-floors
	$(BIN)/hazard eval chat --check-floors
	$(BIN)/hazard eval answer --check-floors
	$(BIN)/hazard eval quiz --check-floors

# The load test serves data/ (hence ingest): 600 requests per endpoint and concurrency, 2 workers.
bench: ingest
	$(BIN)/python -m eval.bench
	$(BIN)/python -m eval.load
	$(BIN)/python -m eval.load --new-connection-per-request --out eval/reports/load-new-connections.json

clean:
	rm -rf data .test-cache eval/reports
