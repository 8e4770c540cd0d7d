# Quickstart: `make run` serves the bot on 127.0.0.1:8000; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA ?= ../shared/data

.PHONY: run test lint index eval learn calibrate bench clean

run: $(BIN)/.installed  ## serve on 127.0.0.1:$(PORT); the first start builds the index
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed requirements-test.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

index: $(BIN)/.installed  ## build and publish the index from corpus/ and the staff content
	$(BIN)/python train.py --publish

test: $(BIN)/.installed-test  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(BIN)/.installed-test  ## ruff: pyflakes, pycodestyle, bugbear and import order (config in pyproject.toml)
	$(BIN)/ruff check .

eval: $(BIN)/.installed-test  ## every suite (dev, extra, fresh, StackFAQ, CovidFAQ-dev) beside the baselines, one table
	$(BIN)/python -m chatbot.evaluation --data $(DATA)

learn: $(BIN)/.installed-test  ## show that it learns: replay CovidFAQ-dev as visitors, teach 10 inbox groups, re-ask
	$(BIN)/python -m chatbot.evaluation.learning --data $(DATA)

calibrate: $(BIN)/.installed-test  ## refit the answer-confidence model (leave-one-suite-out figures, then saves it)
	$(BIN)/python -m chatbot.evaluation.calibrate --data $(DATA) --write

bench: $(BIN)/.installed-test  ## speed benchmark on MedQuAD (see bench/README.md)
	$(BIN)/python bench/bench_search.py $(DATA)/medquad.jsonl.gz

clean:
	rm -rf $(VENV) .pytest_cache
