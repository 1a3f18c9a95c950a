# The front door. `make run` starts the system, `make test` runs every test, `make lint` checks the code.
# uv runs the workspace; on a fresh machine without it, pip installs it first.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PY := .venv/bin/python

.PHONY: run test lint bench sync docs clean images

sync:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-packages

run: sync
	.venv/bin/rig-run

test: sync
	$(PY) -m pytest -q --durations=15

lint: sync
	.venv/bin/ruff check .
	.venv/bin/mypy $(wildcard libs/*/src services/*/src) bench
	# Tests take pytest fixtures typed by the plugin: strict, except that parameters need no annotations.
	# Each folder is checked on its own because test module names repeat between packages.
	for d in $(wildcard libs/*/tests services/*/tests tests); do \
	  ls $$d/*.py >/dev/null 2>&1 || continue; \
	  .venv/bin/mypy --allow-untyped-defs --allow-incomplete-defs --no-warn-return-any $$d || exit 1; done
	.venv/bin/lint-imports
	$(PY) -m rig_contracts.schema --check
	$(PY) -m rig_service.settings_doc --check
	$(PY) -m rig_router.config_schema --check

bench: sync
	$(PY) -m bench.foundation
	$(PY) -m bench.eventstore
	$(PY) -m bench.wake
	$(PY) -m bench.edge
	$(PY) -m bench.ingest
	$(PY) -m bench.merger
	$(PY) -m bench.router
	$(PY) -m bench.costs

docs: sync
	$(PY) -m rig_contracts.schema
	$(PY) -m rig_service.settings_doc
	$(PY) -m rig_router.config_schema

# Container images, for people who have Docker (compose.yaml and the Helm chart use them; docs/deploy.md).
IMAGE_TAG ?= local
images:
	docker build --target service -t rig-conductor:$(IMAGE_TAG) .
	docker build --target sandbox -t rig-sandbox:$(IMAGE_TAG) .
	for stack in base node python dotnet; do \
	  docker build --target agent-$$stack -t rig-agent-$$stack:$(IMAGE_TAG) . || exit 1; done

clean:
	rm -rf .rig bench/results
