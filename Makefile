# Vigil: the two commands that matter are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBS := squid e2guardian chromium curl poppler-utils

.PHONY: run test lint bench goldens fmt venv debs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the real-part tests drive (squid, e2guardian, chromium); installed only when absent.
debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian packages:$$missing"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	  else echo "WARNING: not root, cannot install$$missing; tests that need them will skip loudly"; fi; \
	fi

run: $(STAMP)
	$(BIN)/vigil demo --serve

test: $(STAMP) debs
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

goldens: $(STAMP)
	$(BIN)/python -m pytest -q tests/parsers --update-goldens

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf var .mypy_cache .ruff_cache
