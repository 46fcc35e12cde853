# Quick start: `make demo` (install + run the main job) and `make test`. Both idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
GP     := $(VENV)/bin/guideproof
GUIDELINE := guideline/l1_l2_compression_fracture.yaml
EXAMPLE   := guideline/examples/uncomplicated_acute.yaml

.PHONY: demo test install install-test graphviz diagrams diagrams-check bench clean

# The package and its runtime dependencies, re-installed when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed graphviz
install-test: $(VENV)/.installed-test graphviz

# Graphviz's `dot` renders the flowcharts; Debian's package is `graphviz`.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null)); \
	  else echo "Graphviz 'dot' is missing: install the Debian package 'graphviz' (as root)" >&2; exit 1; fi; }

demo: install
	$(GP) verify --brief $(GUIDELINE)
	$(GP) query --patient $(EXAMPLE)

test: install-test
	$(PY) -m pytest -q

bench: install-test
	$(PY) benchmarks/bench_query.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
