# The README's commands. Each does its own set-up first (scripts/setup.sh: apt packages if missing, then a
# project-local .venv/ with this project installed), so they work on a fresh Debian/Ubuntu machine whose
# python3 is the system interpreter. A second run skips straight to the work.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup train test lint bench notebook

setup:
	@PYTHON=$(PYTHON) bash scripts/setup.sh

# Main job: train an MLP on Fashion-MNIST, print per-epoch loss and test accuracy, write a run directory.
train: setup
	$(PY) -m nn.train

test: setup lint
	$(PY) -m pytest -q

# ruff with the rule set in pyproject.toml ([tool.ruff.lint]); `make test` runs it first.
lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/scalar_engine.py
	$(PY) benchmarks/mnist_mlp.py
	$(PY) benchmarks/draw_dot.py
	$(PY) benchmarks/cnn.py
	$(PY) benchmarks/second_order.py
	$(PY) benchmarks/live_view.py

# Jupyter on notebooks/, with this project installed in its kernel (the `notebook` extra, installed once).
notebook:
	@PYTHON=$(PYTHON) bash scripts/setup.sh notebook
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" -eq 0 ] && echo --allow-root)  # root: containers
