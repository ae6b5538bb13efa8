# docflow: the README's commands. `make demo` and `make test` work on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install system-deps lint samples eval bench serve clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing Python packages into $(VENV)/ (a few minutes the first time; log: $(VENV)/install.log)"
	@( $(BIN)/python -m pip install -q --upgrade pip && \
	   $(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]' ) > $(VENV)/install.log 2>&1 \
	  || { tail -n 30 $(VENV)/install.log; echo "error: pip install failed (full log: $(VENV)/install.log)" >&2; exit 1; }
	@touch $(STAMP)

install: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

demo: install
	@$(BIN)/docflow run samples

test: $(STAMP)
	@scripts/install-system-deps.sh --test
	@$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15

test-fast: $(STAMP)
	@$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/mypy --config-file pyproject.toml
	@$(BIN)/hadolint --config .hadolint.yaml Dockerfile

samples: $(STAMP)
	@$(BIN)/python -m samples.generate --out samples

eval: $(STAMP)
	@$(BIN)/docflow eval ../shared/datasets --out eval-report.json

bench: $(STAMP)
	@$(BIN)/docflow bench --out bench.json

serve: $(STAMP)
	@$(BIN)/docflow serve

clean:
	rm -rf .docflow test-artifacts .pytest_cache
