# Quickstart: `make demo` (install, ingest the demo source, print where outputs are) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export HDH_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo demo-data catalogue-docs charts-docs suites test ui sources install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Front-end files (Data Docs, charts, site) from the npm registry, pinned by the lock file: no CDN at run time
WEB := assets/web
$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error

# ...copied into the package (hdh_pipeline/quality/vendor/, git-ignored), which carries them into a wheel
VENDOR := hdh_pipeline/quality/vendor/jquery/dist/jquery.min.js
$(VENDOR): $(WEB)/node_modules/.package-lock.json $(VENV)/.installed
	$(BIN)/python -m hdh_pipeline.quality.data_docs $(WEB)/node_modules

# ...and the site's graph library (hdh_pipeline/site/vendor/, git-ignored), with its licence
SITE_VENDOR := hdh_pipeline/site/vendor/cytoscape/cytoscape.min.js
$(SITE_VENDOR): $(WEB)/node_modules/.package-lock.json
	mkdir -p $(@D) && cp $(WEB)/node_modules/cytoscape/dist/cytoscape.min.js $(WEB)/node_modules/cytoscape/LICENSE $(@D)/

install: $(VENV)/.installed $(VENDOR) $(SITE_VENDOR)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $@

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/hdh-pipeline run || [ $$? -eq 3 ]   # 3: error-severity checks failed (the demo has injected defects)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The UI, with the published site (charts shown in the UI, port 8000) and the internal reports (8001) served beside it
ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/hdh-pipeline serve & $(BIN)/hdh-pipeline serve --internal & \
	trap 'kill %1 %2 2>/dev/null' EXIT; $(BIN)/dagster dev -w workspace.yaml

demo-data: install
	rm -rf assets/demo
	$(BIN)/hdh-generate --out assets/demo --declaration assets/sources/demo.yaml --id demo

charts-docs: demo
	mkdir -p docs/charts
	for c in pyramid sex; do for f in png vl.json; do \
	  cp $(HDH_DATA_DIR)/catalogue/current/charts/demo/$$c.$$f docs/charts/demo-$$c.$$f; done; done

catalogue-docs: install
	$(BIN)/python -m hdh_pipeline.schema > docs/catalogue.md

suites: install
	$(BIN)/hdh-pipeline suites

sources: install
	$(BIN)/hdh-pipeline sources

clean:
	rm -rf $(HDH_DATA_DIR) $(DAGSTER_HOME)
