# make demo: install, then run the main job: a quick version of the knee study on the phantom.
# make test: install, then lint (ruff, rules in pyproject.toml) and run the whole test suite
# (torch 2.13.0 CPU is the oracle).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo digits test gradcheck clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[study,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/minicnn-knee study --config experiments/configs/demo.toml --out runs/demo

digits: $(STAMP)
	$(PY) -m examples.digits

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

gradcheck: $(STAMP)
	$(PY) -m minicnn.gradcheck

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
