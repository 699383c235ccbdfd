# GAN Studio: `make app` sets up and opens the app; `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch first, pinned: this wheel lies on the machine's disk (a bare `torch` pulls a multi-GB CUDA build).
# pyproject keeps a range (torch>=2.6) so GPU users keep their CUDA build.
TORCH  ?= torch==2.13.0
# pytest-xdist workers for `make test` (each on one torch thread: tests/conftest.py); 1: none. Two halve the
# suite's time on the two-core CI machine (25.6 -> 13.6 min); a machine with more cores can give more.
PYTEST_WORKERS ?= 2
PYTEST_ARGS := -q -ra $(if $(filter 1,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)
DEBS   := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0

.PHONY: setup app test lint debs bench screenshots clean package package-test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" || $(PY) -m pip install -q "torch>=2.6"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

setup: $(VENV)/.installed

app: setup
	$(VENV)/bin/gan-studio

# Debian packages for the real-window tests (Xvfb + Qt's xcb plugin); installed only when missing and root.
debs:
	@if ! command -v xvfb-run >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q --no-install-recommends $(DEBS) >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $(DEBS) >/dev/null)) \
	    && echo "installed $(DEBS)"; \
	  else echo "xvfb-run missing and not root: real-window tests will skip"; fi; \
	fi

test: setup debs
	$(PY) -m ruff check .
	@if command -v xvfb-run >/dev/null 2>&1; then \
	  xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest $(PYTEST_ARGS); \
	else $(PY) -m pytest $(PYTEST_ARGS); fi

lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) bench/sampling.py

# The PyInstaller bundle dist/gan-studio/ (packaging/gan-studio.spec), and its .desktop entry with an absolute Exec.
package: setup
	$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install -q -e ".[package]"
	OMP_NUM_THREADS=1 $(PY) -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/gan-studio.spec
	sed 's|^Exec=gan-studio|Exec="$(CURDIR)/dist/gan-studio/gan-studio"|' packaging/gan-studio.desktop > dist/gan-studio/gan-studio.desktop

# Runs the built binary (not the venv): info, sample, and GUI screenshots of the Sampling and 3D tabs under Xvfb.
package-test: debs
	packaging/smoke_test.sh dist/gan-studio/gan-studio

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
