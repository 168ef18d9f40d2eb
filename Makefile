# Concord — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# Test processes: the integration tests mostly wait on brokers and workers, so three
# share two cores well; the tests of the session's worker stay in one (tests/conftest.py).
TEST_PROCESSES ?= 3

.PHONY: demo test lint unit integration bench schema clean install install-test

# Every dependency at the exact version of constraints.txt: what CI ran is what you get.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e '.[test]'
	scripts/install-chromium
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## The whole embedded stack with a scripted scenario (Ctrl-C stops everything).
demo: $(VENV)/.installed
	$(VENV)/bin/concord up --demo

## Lint, types, unit and integration tests (real broker, SMTP, Slack API, Chromium).
test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check concord tests bench
	$(VENV)/bin/ruff format --check concord tests bench
	$(VENV)/bin/mypy concord
	$(VENV)/bin/mypy tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q -p no:cacheprovider -n $(TEST_PROCESSES) --dist loadgroup

unit: $(VENV)/.installed-test
	$(VENV)/bin/pytest -q tests/unit

integration: $(VENV)/.installed-test
	$(VENV)/bin/pytest -q tests/integration -n $(TEST_PROCESSES) --dist loadgroup

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check concord tests bench
	$(VENV)/bin/ruff format --check concord tests bench
	$(VENV)/bin/mypy concord
	$(VENV)/bin/mypy tests bench

## Benchmarks (JSON lines on stdout; figures, not tests). Installs Alertmanager, the peer.
BENCHES := matcher pipeline intake up burst idle latency peer_alertmanager faults crash_recovery memory
bench: $(VENV)/.installed-test
	scripts/install-alertmanager
	@for b in $(BENCHES); do $(PY) bench/$$b.py || exit 1; done

## Regenerate playbooks/schema.json and directory.schema.json after changing their models.
schema: $(VENV)/.installed
	$(VENV)/bin/concord playbooks schema > playbooks/schema.json
	$(VENV)/bin/concord directory schema > directory.schema.json

clean:
	rm -rf $(VENV) .concord .pytest_cache .mypy_cache .ruff_cache *.egg-info
