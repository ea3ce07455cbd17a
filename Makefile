# Every target installs what it needs: uv (into .tools/, from PyPI), the Python environment
# (.venv/, from uv.lock), and, for anything that talks to a real registry, Debian's
# docker-registry, skopeo and umoci. Outside the project directory only those system packages
# change: uv, its download cache and any Python it fetches stay under .tools/ and .cache/.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
UV := .tools/bin/uv
export UV_VERSION ?= 0.13.9
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export UV_PYTHON_INSTALL_DIR ?= $(CURDIR)/.tools/python
export REGISTRY_PORT ?= 15000
PYTEST_ARGS ?=

.PHONY: help
help:
	@echo "make demo               start the local registry, build a real image archive, push, list, inspect"
	@echo "make test               lint, type checks and every test (unit and integration)"
	@echo "make test-unit          pure and adapter tests (no registry needed)"
	@echo "make test-integration   tests against real registry servers started by the fixtures"
	@echo "make bench | bench-quick   the benchmark suite side by side with the peers (benchmarks/)"
	@echo "make lint | typecheck | format"
	@echo "make start-registry | stop-registry   the developer registry on 127.0.0.1:$(REGISTRY_PORT) (REGISTRY_PORT=...)"

.PHONY: uv
uv: $(UV)
$(UV):
	@bash scripts/bootstrap-uv.sh

.PHONY: sync
sync: uv
	@$(UV) sync --quiet --locked

.PHONY: system-deps
system-deps:
	@bash scripts/install-system-deps.sh

.PHONY: test
test: lint typecheck
	$(MAKE) --no-print-directory system-deps
	$(UV) run pytest $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: sync
	$(UV) run pytest tests/proto tests/adapters tests/test_citations.py $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: sync system-deps
	$(UV) run pytest tests/integration $(PYTEST_ARGS)

.PHONY: lint
lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

.PHONY: format
format: sync
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

.PHONY: typecheck
typecheck: sync
	$(UV) run mypy

# Only the runtime dependencies: `uv run --no-dev` adds nothing else to a fresh .venv/ (and
# removes nothing from a developer's). The registry is left running for the reader to explore.
.PHONY: demo
demo: uv system-deps start-registry
	@status=0; $(UV) run --quiet --locked --no-dev python scripts/demo.py || status=$$?; \
	echo; \
	echo "The registry is still running at http://127.0.0.1:$(REGISTRY_PORT)."; \
	echo "Stop it with: make stop-registry"; \
	exit $$status

# The benchmark suite (benchmarks/README.md): 8-12 minutes on 2 cores; bench-quick 1-3.
# It installs curl besides the registry tools, and the peers from PyPI into .bench/venvs/.
.PHONY: bench bench-quick bench-deps
bench-deps: sync
	@$(UV) sync --quiet --group bench
	@bash scripts/install-system-deps.sh curl:curl
bench: bench-deps
	$(UV) run --group bench python benchmarks/bench.py
bench-quick: bench-deps
	$(UV) run --group bench python benchmarks/bench.py --quick

.PHONY: start-registry stop-registry start-registry-compose stop-registry-compose
start-registry:
	@bash scripts/dev-registry.sh start
stop-registry:
	@bash scripts/dev-registry.sh stop
# docker compose where a Docker engine runs, else the same registry binary as start-registry.
start-registry-compose:
	@USE_COMPOSE=1 bash scripts/dev-registry.sh start
stop-registry-compose:
	@USE_COMPOSE=1 bash scripts/dev-registry.sh stop

.PHONY: clean distclean
clean: stop-registry
	rm -rf .dev-registry .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
# Also the environments and downloads: .venv/, uv in .tools/, uv's cache in .cache/.
distclean: clean
	rm -rf .venv .tools .cache
