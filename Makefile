# phonghop: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test serve bench lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/phonghop demo

serve: $(STAMP)
	$(BIN)/phonghop serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

bench: $(STAMP)
	@mkdir -p bench/results
	@for script in $$(grep -l '__name__ == "__main__"' bench/*.py); do \
		echo "== $$script"; \
		$(BIN)/python $$script | tee bench/results/$$(basename $$script .py).json || exit 1; \
	done

# Pull new strings from code and templates into the catalogs; translate them in the .po files.
messages: $(STAMP)
	$(BIN)/pybabel extract -F web/translations/babel.cfg -k N_ -k AppError:3 -k translate:2 -k Refusal:2 \
		-o web/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
