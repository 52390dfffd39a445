# Every target bootstraps .venv itself: on a fresh clone `make demo` and `make test` are enough.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# One torch/TF thread: on 2 shared cores this is 2.6-3.3x faster than 2 threads.
export TRADELAB_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg
# benchmarks/learning.py: every learner x planted market x 3 seeds at 600 s each takes hours;
# shrink with e.g. LEARNING_BENCH_ARGS="--markets momentum --learners sac1 --budget-s 120".
LEARNING_BENCH_ARGS ?= --seeds 3 --budget-s 600

.PHONY: setup postgres demo test lint bench lab clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tradelab)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# PostgreSQL server binaries for the tests' throwaway cluster (as root: apt-get install postgresql)
postgres:
	.ci/ensure-postgres

demo: setup
	$(VENV)/bin/tradelab pipeline demo --output-dir outputs/demo --data-dir data/processed

test: setup postgres
	$(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check lib tests benchmarks notebooks
	$(PY) -m tradelab.notebooks.check notebooks

bench: setup
	$(PY) benchmarks/features.py
	$(PY) benchmarks/envs.py
	$(PY) benchmarks/supervised_input.py
	$(PY) benchmarks/sac.py --curve-episodes 0
	$(PY) benchmarks/ppo.py
	$(PY) benchmarks/learning.py $(LEARNING_BENCH_ARGS)

# Lab without the MPLBACKEND=Agg exported above (its kernels would show no inline plots).
lab: setup
	$(PY) -m tradelab.notebooks.lab notebooks

clean:
	rm -rf $(VENV) outputs/* data/processed/*
