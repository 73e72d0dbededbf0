# Every target sets itself up: .venv, the project, and the data.
#   make paper [PROFILE=full|quick|tiny]  every experiment, tables, plots, REPORT.md
#   make test | test-fast               the test suite (about 45 minutes on 2 CPU cores) | without whole runs
#   make <experiment> [PROFILE=quick|tiny] [ARGS="--config.key=value ..."]
#   make bench                          engine vs PyTorch eager, scaling tables
#   make tensorboard                    TensorBoard on the cells' curves (event files with RESEARCH_TENSORBOARD=1)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= full
ARGS ?=
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
FASHION_DIR := /usr/share/datasets/fashion-mnist
RUN = $(PY) -m research run
# Ctrl-C: the run prints its one line and exits 130. make, interrupted too, would add a line of its
# own and exit 2; so the recipe's shell ignores the interrupt, waits for the run, and hands a 130 on
# as the same signal to make, which then ends by it (exit status 130) without a word.
INTERRUPTIBLE = trap '' INT; $(1); s=$$?; if [ $$s -eq 130 ]; then kill -INT $$PPID; exit 0; fi; exit $$s

# Every experiment module in experiments/ is a target, under its name and its alias
# (read from the modules' constants without importing them: see research/system/registry.py).
EXPERIMENTS := $(shell $(PYTHON) -m research.system.registry targets)
.PHONY: all paper test test-fast bench report readme data setup clean-results clean-checkpoints tensorboard help $(EXPERIMENTS)

help:
	@sed -n '2,6p' Makefile | sed 's/^# //'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) data

# Fashion-MNIST from Debian's package when this machine can install it (root with apt);
# otherwise research/data/__init__.py looks in $FASHION_MNIST_DIR and tries the official download.
data:
	@if [ -z "$$FASHION_MNIST_DIR" ] && [ ! -e $(FASHION_DIR)/train-images-idx3-ubyte.gz ] \
	    && [ ! -e $(FASHION_DIR)/train-images-idx3-ubyte ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	fi

$(EXPERIMENTS): setup
	@$(call INTERRUPTIBLE,$(RUN) $@ --profile $(PROFILE) $(ARGS))

# The experiments' order and the report come from the registry (python -m research paper).
paper: setup
	@$(call INTERRUPTIBLE,$(PY) -m research paper --profile $(PROFILE))

report: setup
	$(PY) -m research report --profile $(PROFILE)

readme: setup
	$(PY) -m research readme

# On TEST_WORKERS pytest-xdist workers (0: in this process); the tests that read the tiny paper
# are one group, so one worker runs it once (tests/conftest.py).
TEST_WORKERS ?= 2
PYTEST = $(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadgroup

test: setup
	$(PYTEST)

# Without the tests marked slow (whole experiments, subprocess runs, tests of many seconds): a few minutes.
test-fast: setup
	$(PYTEST) -m "not slow"

bench: setup
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m bench $(ARGS)

# Every cell writes curves.jsonl as it trains; event files too when RESEARCH_TENSORBOARD=1.
tensorboard: setup
	$(PY) -m pip install -q -e '.[tensorboard]'
	$(PY) -m tensorboard.main --logdir $${RESEARCH_CHECKPOINTS_DIR:-checkpoints}

clean-results:
	rm -rf results/quick results/tiny
clean-checkpoints:  # folders only: `rm -rf checkpoints/*/` would empty the target of a link
	find checkpoints -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
