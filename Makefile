# The two commands the README promises. Each does its own set-up first, so both work on a fresh machine.
PYTHON ?= python3

.PHONY: setup train test bench

setup:
	bash scripts/setup.sh

# Main job: train an MLP on Fashion-MNIST, print per-epoch loss and test accuracy, write runs/fashion-mnist/.
train: setup
	$(PYTHON) -m nn.train --dataset fashion-mnist --out runs/fashion-mnist

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/scalar_engine.py
	$(PYTHON) benchmarks/mnist_mlp.py
