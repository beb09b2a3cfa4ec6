# make demo: install, then run the main job (the digits run until the knee study lands).
# make test: install, then run the whole test suite (torch 2.13.0 CPU is the oracle).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test gradcheck clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[study,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m experiments.digits

test: $(STAMP)
	$(PY) -m pytest -q

gradcheck: $(STAMP)
	$(PY) -m minicnn.gradcheck

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
