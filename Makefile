# The two commands of the README, on a fresh Linux machine with Python 3.10+:
#   make demo   grade the perceptron reference, its template and a faulty sample
#   make test   install everything (TensorFlow, PyTorch, dev tools) and run the suite
#
# PyTorch is pinned and installed before the project so that nothing pulls another
# build. Where the pinned wheel is not already available locally, pick the build:
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu     (CPU only, small)
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cu128   (NVIDIA GPU)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_OUT ?= reports

.PHONY: demo test lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)
	$(PIP) install -e ".[tf,torch,dev,batch]"
	touch $@

install: $(VENV)/.core
install-dev: $(VENV)/.dev

demo: $(VENV)/.core
	@echo "== the reference solution (full automatic marks) =="
	$(BIN)/dlgrade grade perceptron reference/perceptron/perceptron.ipynb --out $(DEMO_OUT)/reference --allow-weak-sandbox
	@echo "== the student template (nothing done yet: zero, no crash) =="
	$(BIN)/dlgrade grade perceptron assignments/perceptron/perceptron.ipynb --out $(DEMO_OUT)/template --allow-weak-sandbox
	@echo "== a faulty sample (claims a perfect XOR) =="
	$(BIN)/dlgrade grade perceptron tests/submissions/perceptron/xor_claims_perfect.ipynb --out $(DEMO_OUT)/faulty --allow-weak-sandbox
	@echo "reports written under ./$(DEMO_OUT)/"

lint: $(VENV)/.dev
	$(BIN)/ruff check grader assignments reference tests benchmarks
	$(BIN)/mypy

test: $(VENV)/.dev
	$(BIN)/dlgrade template --check
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
