# Two commands do all the setup on a fresh machine with python3 (3.10+) and make:
#   make demo   the main job
#   make test   ruff, mypy --strict, pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "autograd_mini needs Python 3.10 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,viz]'
	@touch $@

SEED_002 := "x1*x2 + exp(x1*x2) - sin(x2)"

# The evaluation trace of seed 002 and its pictures, under out/.
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/autograd-mini trace $(SEED_002) --at x1=2 x2=5 --wrt x1 \
		--svg out/seed002.svg --png out/seed002.png --steps out/seed002-steps.html
	$(BIN)/autograd-mini train xor --save out/xor.json --plot out/xor.png
	$(BIN)/autograd-mini explain --model out/xor.json --x 1,0 --y 1

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict autograd_mini

pytest: $(STAMP)
	$(BIN)/pytest

# Benchmarks against micrograd (and PyTorch if installed): docs/benchmarks.md and .json.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check micrograd==0.1.0
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
