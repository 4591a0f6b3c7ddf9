# harvestmatch: everything installs into .venv from the project's own files. The venv holds the test,
# demo and dask extras (the tests run the demo, and a Dask cluster); the bench extra comes with `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: venv demo browser test check bench clean

WARM_STAMP  := $(VENV)/.kernels-warm
#: the sources of the compiled kernels: numba's cache is keyed by them, so an edit (or a pull) compiles again
KERNELS := harvestmatch/kernels.py matcher/dense.py matcher/simplex.py matcher/potentials.py matcher/warm.py regions/geodesy.py

venv: $(WARM_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,demo,dask]'
	touch $@

# compiles the solver's kernels into numba's on-disk cache (about 20 s), after the install and again
# whenever a kernel's source changed, so that no run pays the compile
$(WARM_STAMP): $(STAMP) $(KERNELS)
	$(BIN)/python -c 'from matcher.fanout import warm_up; warm_up()'
	touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,demo,dask,bench]'
	touch $@

# a day of China's fresh produce on real geography (built once, cached in demo-out/input), one cycle,
# the results, a map (demo-out/map.png) and a summary table
demo: venv
	$(BIN)/harvest demo --out demo-out

# the browser the page tests drive (tests/browser): Debian's Chromium, its ChromeDriver and a Chinese
# font (the pages' default language), installed with apt-get when one is missing: as root, else through
# sudo without a password, else a message saying what to install
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
CJK_FONT     := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
BROWSER_DEBS := chromium chromium-driver fonts-wqy-zenhei
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ] && [ -f $(CJK_FONT) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make browser: $(CHROMIUM), $(CHROMEDRIVER) or a Chinese font is missing, and installing needs root: run 'apt-get install $(BROWSER_DEBS)' as root" >&2; exit 1; fi; \
	echo "make browser: installing Debian's $(BROWSER_DEBS) (the page tests' browser)"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_DEBS) && \
	test -x $(CHROMIUM) && test -x $(CHROMEDRIVER)

# the type check, the linter and the formatter's check, then every test (the page tests in Chromium
# among them); pytest exits non-zero (5) when it collects none, and make fails with it
test: venv browser
	$(BIN)/python -m mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# the edit loop, under a minute on 2 cores: the same checks, and the quick tests (not marked slow, SQLite
# only, few examples per property) on every core
check: venv
	$(BIN)/python -m mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest --quick -q -n auto

# benchmarks are run by hand; results go to bench/RESULTS.md
bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --write bench/RESULTS.md

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis *.egg-info
