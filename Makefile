# Two commands do all the setup on a fresh machine with python3 (3.10+) and make:
#   make demo   the main job
#   make test   ruff, mypy --strict, pytest, then every notebook in a fresh kernel
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest nbtest notebooks figures screenshot bench docs serve-docs \
	docs-test release-check clean

# The installed metadata carries the version, which autograd_mini/__init__.py holds.
$(STAMP): pyproject.toml autograd_mini/__init__.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "autograd_mini needs Python 3.10 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,viz]'
	@touch $@

# The evaluation-trace example of Bishop and Bishop, Deep Learning, chapter 8.
TRACE_F := "x1*x2 + exp(x1*x2) - sin(x2)"

# The evaluation trace of that example and its pictures, under out/.
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/autograd-mini trace $(TRACE_F) --at x1=2 x2=5 --wrt x1 \
		--svg out/trace.svg --png out/trace.png --steps out/trace-steps.html
	$(BIN)/autograd-mini train xor --save out/xor.json --plot out/xor.png
	$(BIN)/autograd-mini explain --model out/xor.json --x 1,0 --y 1 --diagram out/xor-network.svg

test: lint typecheck pytest nbtest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict autograd_mini

pytest: $(STAMP)
	$(BIN)/pytest

# Runs each notebook top to bottom in a fresh kernel; a cell that raises fails the build.
# tests/test_notebooks.py (run by pytest above) fails if any notebook was committed with outputs.
nbtest: $(STAMP)
	$(BIN)/pytest --nbmake --nbmake-timeout=300 notebooks

# JupyterLab on the notebooks folder, with what the notebooks need. JupyterLab refuses to run
# as root unless told; containers often run as root, so say it there. LAB_FLAGS adds options,
# such as LAB_FLAGS="--no-browser --port 8890".
LAB_FLAGS ?=
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[notebooks]'
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_FLAGS)

# The picture the README embeds: the example's graph after backward, drawn by the package itself.
figures: $(STAMP)
	$(BIN)/autograd-mini trace $(TRACE_F) --at x1=2 x2=5 --wrt x1 --svg docs/trace.svg >/dev/null

# The explorer's screenshot in the README: JupyterLab in headless Chromium, a slider moved, a
# node clicked and two backward steps taken (tests/test_browser.py), saved under docs/.
screenshot: $(STAMP)
	EXPLORE_SCREENSHOT=docs/explore.png $(BIN)/pytest -q -p no:cacheprovider tests/test_browser.py

# Benchmarks against micrograd (and PyTorch if installed): docs/benchmarks.md and .json.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check micrograd==0.1.0
	$(BIN)/python benchmarks/bench.py

# The documentation site, into site/: MkDocs Material, the API from the docstrings and the five
# chapters executed as it builds (the docs extra). --strict: a broken link or reference fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The site on http://127.0.0.1:8000, rebuilt as files change. DOCS_ADDR picks another address.
DOCS_ADDR ?= 127.0.0.1:8000
serve-docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr $(DOCS_ADDR)

# Builds the site, then checks what it holds and looks at four of its pages in headless
# Chromium (tests/test_site.py, which make test also runs on a site it builds itself).
docs-test: docs
	SITE_DIR=site $(BIN)/pytest -q -p no:cacheprovider tests/test_site.py

# Builds the sdist and wheel, checks them with twine and by their contents, then installs the
# wheel, not editable, into a fresh venv and runs the command and an import test there.
release-check: $(STAMP)
	PYTHON=$(BIN)/python bash .ci/release-check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out site dist
