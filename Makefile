# Refactoring Databases, hands-on. `make lab` to learn, `make test` to check everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FIRST_LESSON := notebooks/01-add-a-status-column.ipynb
NB ?= notebooks/[0-9]*.ipynb
JUPYTER_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test record lint reset clean

# The virtual environment, with the pinned requirements and the course's helper package (editable).
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); run: make PYTHON=python3.11 ..."'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(ROOT_FLAG) $(JUPYTER_ARGS) $(FIRST_LESSON)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-record outputs after editing a notebook: one fresh Restart & Run All, written in place.
record: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False $(NB)

lint: setup
	$(BIN)/ruff check coursekit tests benchmarks
	$(BIN)/nbqa ruff notebooks

clean:
	rm -rf $(VENV)
