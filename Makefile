# Every target sets itself up: .venv, the project, and the data.
#   make paper [PROFILE=full|quick]     every experiment, tables, plots, results/REPORT.md
#   make test                           the test suite (under 10 minutes on 2 CPU cores)
#   make <experiment> [PROFILE=quick] [ARGS="--config.key=value ..."]
#   make bench                          engine vs PyTorch eager, scaling tables
#   make tensorboard                    TensorBoard on checkpoints/ (runs with RESEARCH_TENSORBOARD=1)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= full
ARGS ?=
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
FASHION_DIR := /usr/share/datasets/fashion-mnist
RUN = $(PY) -m research run

EXPERIMENTS := depth wide modular architectures lr pruning data_hunger
.PHONY: all paper test bench tensorboard report readme data setup clean-results clean-checkpoints $(EXPERIMENTS) help

help:
	@sed -n '2,6p' Makefile | sed 's/^# //'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) data

# Fashion-MNIST from Debian's package when this machine can install it (root with apt);
# otherwise research/data.py looks in $FASHION_MNIST_DIR and tries the official download.
data:
	@if [ -z "$$FASHION_MNIST_DIR" ] && [ ! -e $(FASHION_DIR)/train-images-idx3-ubyte.gz ] \
	    && [ ! -e $(FASHION_DIR)/train-images-idx3-ubyte ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	fi

depth: setup
	$(RUN) depth_vs_accuracy --profile $(PROFILE) $(ARGS)
wide: setup
	$(RUN) deep_vs_wide --profile $(PROFILE) $(ARGS)
modular: setup
	$(RUN) modular --profile $(PROFILE) $(ARGS)
architectures: setup
	$(RUN) architectures --profile $(PROFILE) $(ARGS)
lr: setup
	$(RUN) learning_rate --profile $(PROFILE) $(ARGS)
pruning: setup
	$(RUN) pruning --profile $(PROFILE) $(ARGS)
data_hunger: setup
	$(RUN) data_hunger --profile $(PROFILE) $(ARGS)

report: setup
	$(PY) -m research report

readme: setup
	$(PY) -m research readme

paper:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory setup && \
	for e in $(EXPERIMENTS); do $(MAKE) --no-print-directory $$e PROFILE=$(PROFILE) || exit $$?; done; \
	$(PY) -m research report --paper-seconds=$$(( $$(date +%s) - start )) && \
	echo "make paper (PROFILE=$(PROFILE)): $$(( $$(date +%s) - start )) s on $$(nproc) CPU cores"

test: setup
	$(PY) -m pytest tests

bench: setup
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m research.bench $(ARGS)

# Every cell writes curves.jsonl as it trains; event files too when RESEARCH_TENSORBOARD=1.
tensorboard: setup
	$(PY) -m pip install -q -e '.[tensorboard]'
	$(PY) -m tensorboard.main --logdir $${RESEARCH_CHECKPOINTS_DIR:-checkpoints}

clean-results:
	rm -rf results/*/
clean-checkpoints:
	rm -rf checkpoints/*/
