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

.PHONY: setup lab test record lint reset site bench workshop clean

# The virtual environment, with the pinned requirements and the course's helper package (editable). INSTALLER=auto
# uses uv (seconds) when it is on the PATH or your Python's pip can put it into the new venv, else pip (about a minute)
# with the same pins; INSTALLER=uv or INSTALLER=pip forces one. Binder installs with pip from binder/requirements.txt.
INSTALLER ?= auto
UV_VERSION := 0.13.9
define install_with_uv
{ if command -v uv >/dev/null 2>&1; then uv=uv; [ -x $(BIN)/python ] || uv venv --quiet --seed --python $(PYTHON) $(VENV); \
  else uv=$(BIN)/uv; { [ -x $(BIN)/python ] || $(PYTHON) -m venv --without-pip $(VENV); } && \
       { [ -x $$uv ] || $(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check \
                        uv==$(UV_VERSION) pip; }; fi && \
  $$uv pip install --quiet --python $(BIN)/python -r requirements.txt && \
  $$uv pip install --quiet --python $(BIN)/python --no-deps -e . && echo "== installed with uv ($$uv)"; }
endef
define install_with_pip
{ $(PYTHON) -m venv $(VENV) && \
  $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt && \
  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && echo "== installed with pip"; }
endef

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); run: make PYTHON=python3.11 ..."'
	@if [ "$(INSTALLER)" != pip ] && $(install_with_uv); then :; \
	elif [ "$(INSTALLER)" = uv ]; then echo "uv could not install the course (INSTALLER=pip uses pip)"; exit 1; \
	else echo "== uv is not available here: installing with pip (about a minute)"; $(install_with_pip); fi
	@touch $@

setup: $(STAMP)

# Lessons 15 and 16 start the course's own PostgreSQL server (coursekit/pgserver.py); it is stopped when JupyterLab ends,
# also after Ctrl-C (the recipe's shell waits for JupyterLab instead of dying with it).
lab: setup
	trap true INT; $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(ROOT_FLAG) $(JUPYTER_ARGS) $(FIRST_LESSON); \
	status=$$?; $(BIN)/python -m coursekit.pgserver stop; exit $$status

# Two workers, one notebook (file) per worker at a time: about a quarter faster on two cores. XDIST= runs serially.
XDIST ?= -n 2 --dist loadfile
test: setup
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Re-record outputs after editing a notebook: one fresh Restart & Run All, written in place.
record: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False $(NB)

# Put every notebook back as committed. Changed notebooks are first copied to .reset-backup/<time>/.
reset:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "make reset needs a git checkout of the course"; exit 1; }
	@changed=$$(git diff --name-only --diff-filter=MDT HEAD -- 'notebooks/*.ipynb'); \
	if [ -z "$$changed" ]; then echo "Every notebook is already as committed."; exit 0; fi; \
	backup=.reset-backup/$$(date +%Y%m%d-%H%M%S); mkdir -p $$backup; \
	for f in $$changed; do [ ! -f "$$f" ] || cp "$$f" $$backup/; done; \
	git checkout HEAD -- $$changed; \
	echo "Restored to the committed state (your versions are in $$backup):"; printf '  %s\n' $$changed

# The lessons as static HTML with their recorded outputs, for reading without a kernel: _site/index.html.
SITE ?= _site
site: setup
	$(BIN)/python -m coursekit.site $(SITE)

# Speed figures (medians of several runs), printed and written to benchmarks/results/latest.json.
bench: setup
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The workshop's JupyterHub for a room (workshop/README.md): its own venv and proxy, installed the first time.
workshop:
	workshop/start $(WORKSHOP_ARGS)

lint: setup
	$(BIN)/ruff check coursekit tests benchmarks migrations
	$(BIN)/nbqa ruff notebooks

clean:
	rm -rf $(VENV)
