# Two commands do all the set-up: `make run` and `make test`; `make playground` tries the bot
# in a browser without a Discord token.
# The virtualenv is (re)built when it is missing or when a requirements file changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: install run playground test lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(TEST_STAMP): requirements.txt requirements-test.txt $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) main.py

# The real bot against the Discord emulator, and a page at http://127.0.0.1:$(PLAYGROUND_PORT)
# (8080 unless set); PLAYGROUND_ANILIST=fake uses the offline demo AniList.
playground: $(TEST_STAMP)
	$(PY) -m playground

lint: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

format: $(TEST_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV)
