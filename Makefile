# phonghop: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Every dependency and theirs, pinned with their hashes (`make lock` writes both files):
# requirements-test.lock for `make test` and CI, requirements.lock (the same versions, without
# the test tools) for the Docker image.
LOCK := requirements-test.lock
UV_VERSION := 0.13.9
LOCK_TOOLS := build/lock-tools
UV_COMPILE = $(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --no-config --index-url https://pypi.org/simple \
	--custom-compile-command "make lock" --quiet $(LOCK_ARGS)

.PHONY: demo test serve bench lint lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
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

# After a change to the dependencies in pyproject.toml: keeps every pin it can.
# `make lock LOCK_ARGS=--upgrade` moves everything to the newest versions allowed.
lock:
	$(LOCK_TOOLS)/bin/uv --version 2>/dev/null | grep -qF $(UV_VERSION) || { $(PYTHON) -m venv $(LOCK_TOOLS) \
		&& $(LOCK_TOOLS)/bin/pip install -q uv==$(UV_VERSION); }
	$(UV_COMPILE) --extra test -o requirements-test.lock
	$(UV_COMPILE) -c requirements-test.lock -o requirements.lock

# Pull new strings from code and templates into the catalogs; translate them in the .po files.
messages: $(STAMP)
	$(BIN)/pybabel extract -F web/translations/babel.cfg -k N_ -k AppError:3 -k translate:2 -k Refusal:2 \
		-o web/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
