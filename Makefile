# Shorthands for the README's commands; each works on a fresh machine with Python 3.11.
.PHONY: run test bench clean

run:
	python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/bananapics demo

test:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest

bench:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python bench/ledger.py && .venv/bin/python bench/bot.py

clean:
	rm -rf .venv build dist *.egg-info .pytest_cache .hypothesis
