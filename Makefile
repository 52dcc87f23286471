# The two commands of the README: `make run` and `make test`. Everything they need, they install.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
WAREHOUSE := build/warehouse.duckdb
PLOTLYJS  := build/plotlyjs/plotly-vrp.json
IDP       := build/idp/node_modules/oidc-provider/package.json
export VRP_BUILD_DIR ?= $(CURDIR)/build

.PHONY: run test setup setup-test demo browser nginx pdftotext lint clean bench idp

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed $(PLOTLYJS)

setup-test: $(VENV)/.installed-test $(PLOTLYJS) browser nginx pdftotext build/axe/axe.min.js $(IDP)

# The partial plotly.js bundle the pages load (only the dashboard's trace types), built with npm from plotlyjs/.
# The target is the manifest build.js writes last. Without npm the app still runs, on Dash's full plotly.js.
$(PLOTLYJS): plotlyjs/package.json plotlyjs/package-lock.json plotlyjs/build.js plotlyjs/traces.js
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the pages will load Dash's full plotly.js (install Node.js and npm for the lighter bundle)"; \
	else \
	  mkdir -p build/plotlyjs && cp $^ build/plotlyjs/ && \
	  cd build/plotlyjs && npm ci --no-audit --no-fund --loglevel=error && node build.js .; \
	fi

# axe-core from the npm registry, for the accessibility audits in the browser tests (not committed).
build/axe/axe.min.js:
	mkdir -p build/axe
	cd build/axe && npm pack --silent axe-core@4.14.1 >/dev/null && tar xzf axe-core-4.14.1.tgz && \
	  cp package/axe.min.js axe.min.js && rm -rf package axe-core-4.14.1.tgz

# The demo OpenID provider (the npm package oidc-provider, pinned in deploy/idp/package-lock.json) for the sign-in
# tests and `make idp`; installed once, then it runs offline.
$(IDP): deploy/idp/package.json deploy/idp/package-lock.json
	mkdir -p build/idp
	cp deploy/idp/package.json deploy/idp/package-lock.json build/idp/
	cd build/idp && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The demo OpenID provider on http://127.0.0.1:3000 for trying partner sign-in locally (README: Partner sign-in).
idp: $(IDP)
	@echo "in another shell: VRP_OIDC_ISSUER=http://127.0.0.1:3000 VRP_OIDC_CLIENT_ID=vrp-dashboard \\"
	@echo "  VRP_OIDC_CLIENT_SECRET=vrp-demo-secret VRP_SECRET_KEY=\$$(openssl rand -hex 32) make run"
	@echo "then sign in as 'partner' (the partner role) or 'viewer' (no role), any password"
	OIDC_PROVIDER_DIR=build/idp node deploy/idp/provider.mjs

# Debian's chromium and chromedriver for the browser tests (root, as on CI; skipped when already present).
browser:
	@if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "browser tests need chromium and chromium-driver: sudo apt-get install chromium chromium-driver"; exit 1; fi; \
	fi

# Debian's nginx for tests/test_nginx.py, which runs deploy/nginx.conf in front of gunicorn (skipped without it;
# the package's own service is not started).
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; \
	  else echo "tests/test_nginx.py will skip: sudo apt-get install nginx-light"; fi; \
	fi

# Debian's poppler-utils: the briefing-pack tests read the PDF's text with pdftotext, as a reader's tools would.
pdftotext:
	@if ! command -v pdftotext >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null; \
	  else echo "tests/test_briefing.py's PDF test will skip: sudo apt-get install poppler-utils"; fi; \
	fi

$(WAREHOUSE): | $(VENV)/.installed
	$(VENV)/bin/vrp build-demo --warehouse duckdb:///$(CURDIR)/$(WAREHOUSE)

demo: $(VENV)/.installed
	$(VENV)/bin/vrp build-demo --warehouse duckdb:///$(CURDIR)/$(WAREHOUSE)

# Set up, build the demo warehouse if absent, serve on http://127.0.0.1:8050
run: $(VENV)/.installed $(PLOTLYJS) $(WAREHOUSE)
	VRP_WAREHOUSE_URL=$${VRP_WAREHOUSE_URL:-duckdb:///$(CURDIR)/$(WAREHOUSE)} \
	  $(VENV)/bin/gunicorn --config gunicorn.conf.py --no-control-socket --workers 2 --bind 127.0.0.1:8050 app:server

# Set up and pass the tests (PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are used for real)
test: setup-test
	$(PY) -m pytest --headless -q

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests benchmarks app.py
	$(VENV)/bin/hadolint Dockerfile deploy/idp/Dockerfile

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_stats.py

clean:
	rm -rf build .pytest_cache
