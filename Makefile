# Quick start: `make demo` (install + run the main job) and `make test`. Both idempotent.
# `make check` is the fast tier for the edit loop; `make test` is exhaustive (CI runs it).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
GP     := $(VENV)/bin/guideproof
GUIDELINE := guideline/l1_l2_compression_fracture.yaml
EXAMPLE   := guideline/examples/uncomplicated_acute.yaml

.PHONY: demo test check lint mutants install install-test graphviz chromium diagrams diagrams-check bench bytecode clean

# The package and its runtime dependencies, re-installed when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	$(MAKE) --no-print-directory bytecode
	touch $@

# Precompiled bytecode: where PYTHONDONTWRITEBYTECODE is set, Python would otherwise
# recompile every module of this editable install on each run (pip precompiles z3's).
bytecode:
	@$(PY) -m compileall -q model verify diagrams guideproof guideline

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed graphviz
install-test: $(VENV)/.installed-test graphviz chromium

# Installs a Debian package when its command is missing (as root; otherwise says what to
# install). $(1): the command, $(2): the package, $(3): what is missing, for the message.
define debian_package
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq $(2) >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && apt-get install -y -qq $(2) >/dev/null)); \
	  else echo "$(3) is missing: install the Debian package '$(2)' (as root)" >&2; exit 1; fi; }
endef

# Graphviz's `dot` renders the flowcharts; Debian's package is `graphviz`.
graphviz:
	$(call debian_package,dot,graphviz,Graphviz 'dot')

# The review report's browser tests drive Debian's `chromium` headless (through Playwright,
# pointed at this browser: nothing is downloaded).
chromium:
	$(call debian_package,chromium,chromium,Chromium (for the report's browser tests))

demo: install
	mkdir -p out
	$(GP) verify --brief $(GUIDELINE)
	$(GP) query --patient $(EXAMPLE)
	$(GP) flowchart --guideline $(GUIDELINE) -o out/flowchart.svg
	$(GP) flowchart --guideline $(GUIDELINE) --patient $(EXAMPLE) -o out/flowchart-patient.svg

# Everything, including the tests marked slow (property tests with thousands of examples,
# the mutation sweep, fuzzing).
test: install-test lint
	$(PY) -m pytest -q -m "not sweep"

# Static checks shared by both tiers: ruff over everything, mypy --strict over the package
# as installed.
lint: install-test
	$(PY) -m ruff check .
	$(PY) tools/typecheck.py

# The fast tier for the edit loop: every test not marked slow.
check: install-test lint
	$(PY) -m pytest -q -m "not slow and not sweep"

# The mutation sweep's kill rate per operator family (the slow test asserts it is 100%).
mutants: install-test
	$(PY) tests/mutants.py
	$(PY) -m pytest -q -m sweep

CHART := diagrams/l1_l2_compression_fracture
# The guideline's phase ids (each gets a detail chart).
PHASES = $$($(PY) -c 'import sys; from guideproof.model.loader import load_guideline; print(*load_guideline(sys.argv[1]).phases)' $(GUIDELINE))

# The committed flowcharts of the shipped guideline: the whole chart, the overview and one
# chart per phase (DOT is the reviewed source of truth; SVG and PNG are rendered from it).
# $(1): output prefix, $(2): formats.
define draw_charts
	set -e; for ext in $(2); do \
	  $(GP) flowchart --guideline $(GUIDELINE) -o $(1).$$ext; \
	  $(GP) flowchart --guideline $(GUIDELINE) --overview -o $(1)-overview.$$ext; \
	  for phase in $(PHASES); do $(GP) flowchart --guideline $(GUIDELINE) --phase $$phase -o $(1)-phase-$$phase.$$ext; done; \
	done
endef

# The committed review report (guideproof report) of the shipped guideline; $(1): output file.
define write_report
	$(GP) report --guideline $(GUIDELINE) --traceability docs/traceability.md -o $(1)
endef

diagrams: install
	rm -f $(CHART)-phase-*
	$(call draw_charts,$(CHART),dot svg png)
	$(call write_report,$(CHART)-review.html)

# Fails when a committed DOT or the committed review report no longer matches the model (or a
# phase chart is missing or left over).
diagrams-check: install
	@tmp=$$(mktemp -d) && mkdir $$tmp/committed $$tmp/fresh && cp $(CHART)*.dot $(CHART)-review.html $$tmp/committed/ && \
	  ( $(call draw_charts,$$tmp/fresh/$(notdir $(CHART)),dot) ) 2>/dev/null && \
	  ( $(call write_report,$$tmp/fresh/$(notdir $(CHART))-review.html) ) 2>/dev/null && \
	  if diff -ru $$tmp/committed $$tmp/fresh > $$tmp/diff; then rm -rf $$tmp; echo "diagrams up to date"; \
	  else cat $$tmp/diff; rm -rf $$tmp; echo "$(CHART)*.dot or $(CHART)-review.html are stale: run 'make diagrams'" >&2; exit 1; fi

bench: install-test bytecode
	$(PY) benchmarks/bench_query.py
	$(PY) benchmarks/bench_verify.py
	$(PY) benchmarks/bench_flowchart.py
	$(PY) benchmarks/bench_partial.py
	$(PY) benchmarks/bench_regions.py
	$(PY) benchmarks/bench_fhir.py
	$(PY) benchmarks/bench_dmn.py
	$(PY) benchmarks/bench_report.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
