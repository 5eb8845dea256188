# The two commands a newcomer needs: `make run` and `make test`. Each sets up what
# it needs: the virtual environment, the package with its test extras, and Qt's
# system libraries.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast qt-libs qt-libs-xvfb venv package package-smoke bench clean

# The window opens at once; on an empty database it loads the demo itself, with progress.
run: venv qt-libs
	$(BIN)/enroller-desktop --demo-if-empty

# The suite includes a test that starts the installed program on a real X server (Xvfb).
test: venv qt-libs-xvfb
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -ra

test-fast: venv qt-libs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -ra -m "not slow"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

qt-libs:
	@scripts/ensure-qt-libs

qt-libs-xvfb:
	@scripts/ensure-qt-libs --xvfb

package: venv qt-libs-xvfb
	$(BIN)/python -m pip install --quiet -e '.[test,package]'
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN enroller_desktop.spec

# The frozen program started headless (CI runs this after the tests).
package-smoke: package
	scripts/package-smoke

bench: venv
	$(BIN)/python bench/demo.py

clean:
	rm -rf build dist .pytest_cache
