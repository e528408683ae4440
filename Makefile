# Two commands: `make run` and `make test`. Each does the whole set-up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := unixodbc libsqliteodbc odbc-postgresql postgresql openssl
# A real WooCommerce for the tests: Debian's WordPress, PHP and MariaDB (tests/helpers/wordpress.py).
APT_PACKAGES += php-cli php-mysql php-xml php-mbstring php-curl php-gd php-intl php-zip mariadb-server mariadb-client wordpress gettext chromium chromium-driver fonts-dejavu-core

.PHONY: run test test-fast setup system-deps protos bench bench-queue wp-plugin clean

run: setup
	$(VENV)/bin/shopsync run-demo

# Tests run on every core (pytest-xdist); each worker starts its own services.
test: setup
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# Under a minute: everything but the real WooCommerce and Oscar sites, PostgreSQL and the long fault runs.
test-fast: setup
	$(PY) -m pytest -q -n auto -m "not real_woocommerce and not slow" -k "not oscar and not postgres" $(PYTEST_ARGS)

setup: system-deps $(STAMP)

# Debian packages the ODBC drivers and the test PostgreSQL need (only when missing).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,demo]'
	touch $(STAMP)

# Regenerate the committed gRPC stubs in shopsync/v1 from protos/.
protos: $(STAMP)
	$(PY) tools/gen_protos.py

# The companion WordPress plugin as an installable zip (php -l on every file, translations compiled).
wp-plugin:
	python3 wp-plugin/package.py

bench: setup
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run_all.py

bench-queue: setup
	$(PY) bench/queue_bench.py

clean:
	rm -rf $(VENV) var build *.egg-info
