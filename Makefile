# Two entry points (see README): `make pdfs` sets a machine up and builds the worked
# solutions; `make test` runs the test suite. Both create .venv and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk poppler-utils

.PHONY: pdfs test venv tex bench clean

pdfs: venv tex
	$(BIN)/symdl build

test: venv tex
	$(BIN)/python -m pytest -q

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[torch,test]'
	touch $@

# TeX for the PDFs: installed with apt when run as root, otherwise the exact line is printed
# and `symdl build` still writes the .tex files.
tex:
	@if command -v latexmk >/dev/null 2>&1 && command -v pdflatex >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing TeX: $(TEX_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEX_PACKAGES) >/dev/null; \
	else \
		echo "TeX is missing; install it with:"; \
		echo "  sudo apt-get install $(TEX_PACKAGES)"; \
		echo "(symdl build still writes build/*.tex without it)"; \
	fi

bench: venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build .symdl-cache
