PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tool alone, without the test extras (hundreds of MB of drivers, pandas, moto): what `make demo` needs.
TOOL_STAMP := $(VENV)/.tool-installed
# Node packages for the JavaScript behaviour tests, from tests/js/package-lock.json.
JS_STAMP := tests/js/node_modules/.installed

.PHONY: demo test lint typecheck clean system-packages bench bench-quick fuzz corpus audit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP) $(TOOL_STAMP)

$(TOOL_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(TOOL_STAMP)

# check, then the diff: exit 1 (something would change) is what a demo expects.
demo: $(TOOL_STAMP)
	$(BIN)/lambda-rewriter check samples/; test $$? -le 1
	$(BIN)/lambda-rewriter diff samples/; test $$? -le 1

$(JS_STAMP): tests/js/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/js --ignore-scripts --no-audit --no-fund && touch $@; \
	else echo "npm not found: the JavaScript behaviour tests will be skipped"; fi

system-packages:
	@bash .ci/system-packages

test: $(STAMP) $(JS_STAMP) system-packages
	$(BIN)/python -m pytest

# The rule set and the limits are in pyproject.toml ([tool.ruff], [tool.mypy]); CONTRIBUTING.md says why.
lint: $(STAMP)
	$(BIN)/ruff check rewriter codemods tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info

# Every benchmark `make bench` runs, in this order: each prints Markdown on stdout, and benchmarks/all.py writes
# it all into benchmarks/README.md with the machine and the date. Add a new benchmark script here.
# js_speed.py installs jscodeshift into benchmarks/js (npm ci) on first use.
BENCHMARKS := benchmarks/run.py benchmarks/lambda_dense.py benchmarks/js_speed.py benchmarks/scale_series.py

bench: $(STAMP)
	$(BIN)/python benchmarks/all.py $(BENCHMARKS)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

# The rewrite-robustness runs of issue 8: 1000 random generated Lambda modules (FUZZ_EXAMPLES=N for
# more), and every .py file of the standard library and the venv's site-packages, checked, never written.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

corpus: $(STAMP)
	$(BIN)/python tests/corpus_run.py --json /tmp/lambda-rewriter-corpus.json

# pip-audit, from a venv of its own, over every package of the project's venv. A known vulnerability fails;
# no network (or a registry mirror without PyPI's advisory data) only warns that nothing was audited.
AUDIT_VENV := $(VENV)/audit-env
audit: $(STAMP)
	@if test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/pip install --quiet 'pip-audit>=2.7'; }; then \
	  $(BIN)/python tests/supply_chain.py $(AUDIT_VENV)/bin/pip-audit; \
	else echo "WARNING: pip-audit cannot be installed (offline?); dependencies NOT audited"; fi
