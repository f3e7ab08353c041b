# Two commands do it all on a fresh machine (both idempotent):
#   make run   - set up, build the bank index and rubric vectors, open the interview UI on http://127.0.0.1:7860
#   make test  - set up (plus test tools), run the test suite
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test ingest eval bench lint
setup:
	bash scripts/setup.sh

run: setup
	$(BIN)/interviewer ingest
	$(BIN)/interviewer serve

test:
	WITH_TEST=1 bash scripts/setup.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q

ingest: setup
	$(BIN)/interviewer ingest

eval: setup
	$(BIN)/interviewer eval retrieval
	$(BIN)/interviewer eval grading --set all
	$(BIN)/python eval/bench.py
	$(BIN)/python eval/render_readme.py

lint:
	$(BIN)/ruff check interviewer tests eval
	$(BIN)/mypy interviewer
	# eval scripts: a net for calls that no longer match the package (names, signatures), not full typing
	$(BIN)/mypy eval --disable-error-code union-attr --disable-error-code var-annotated \
		--disable-error-code has-type --disable-error-code index --disable-error-code misc \
		--disable-error-code assignment --disable-error-code arg-type
