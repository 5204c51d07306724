# Set-up and everyday commands. `make up` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test lint bench clean

up: $(VENV)/.installed
	@# Open WebUI's web app, fetched once from the package index; without it, the API alone.
	@$(BIN)/owui ui install || echo "note: Open WebUI's web app is not installed (the package \
	index cannot be reached); starting the API alone. Later: $(BIN)/owui ui install"
	@# The embedding model's files (about 80 MB, once), so that the first upload does not wait.
	@$(BIN)/python -m owui.retrieval.model_files >/dev/null || echo "note: the embedding \
	model could not be fetched; retrieval fetches it when first needed"
	$(BIN)/owui up

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest --durations=20

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/gateway.py

$(VENV)/.installed: pyproject.toml
	@# bubblewrap sandboxes the agent's code execution; without it that feature answers 503.
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null); } \
		|| echo "note: install bubblewrap (apt-get install bubblewrap) for code execution"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@# The browser tests (tests/browser) drive Debian's chromium through Playwright, launched with
	@# its executable_path: never `playwright install`, which downloads a browser of its own.
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		>/dev/null); } \
		|| echo "note: install chromium (apt-get install chromium) for the browser tests"
	@# The tests compare the ONNX embeddings with sentence-transformers', which needs torch:
	@# the CPU build (this machine's index serves it for this exact version).
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
