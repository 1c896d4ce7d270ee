# The README's two commands: `make demo` and `make test`. Every install step lives here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := -c constraints.txt
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
AZURITE_VERSION := 3.35.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# The Azure Storage emulator the olive-azure-cache tests start (npm package, pinned for Node 20).
export AZURITE_BLOB := $(abspath .tools/azurite/node_modules/.bin/azurite-blob)

# Headless Chromium for the report's browser test: the Debian package, driven by Playwright
# (Playwright's own browser download is not used). apt-get runs only when no Chromium is found.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test dev bench clean chromium

## demo: set up .venv with core and every plugin, then run the MiniLM workflow
demo: $(VENV)/.dev-installed
	$(PY) examples/minilm/demo.py

## test: run every nox session (core alone, each plugin alone, example plugin, everything)
test: $(VENV)/.nox-installed .tools/azurite/.installed chromium
	OLIVE_NOX_DISCARD_VENVS=1 $(VENV)/bin/nox

## dev: the development environment (editable core and plugins)
dev: $(VENV)/.dev-installed

bench: $(VENV)/.dev-installed
	$(MAKE) -C bench all PY=$(abspath $(PY))

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.nox-installed: $(VENV)/bin/python constraints.txt
	$(PIP) install --quiet $(CONSTRAINTS) nox
	touch $@

$(VENV)/.dev-installed: $(VENV)/bin/python constraints.txt pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(PIP) install --quiet $(CONSTRAINTS) torch==2.13.0
	$(PIP) install --quiet $(CONSTRAINTS) -e '.[test]' $(foreach p,$(PLUGIN_DIRS),-e '$(p)[test]') nox
	touch $@

.tools/azurite/.installed:
	mkdir -p .tools/azurite
	npm install --silent --no-audit --no-fund --prefix .tools/azurite azurite@$(AZURITE_VERSION)
	touch $@

chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$OLIVE_CHROMIUM" ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "WARNING: no Chromium and no apt-get: the report's browser test will be SKIPPED (set OLIVE_CHROMIUM)" >&2; \
	else \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	  || echo "WARNING: apt-get could not install chromium: the report's browser test will be SKIPPED" >&2; \
	fi

clean:
	rm -rf $(VENV) .nox .tools examples/*/output
