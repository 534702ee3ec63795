# The two commands of the README:
#   make demo   install, migrate, load the demo data when the database is empty, serve on :8000
#   make test   install, lint, check, and run the whole test suite
.PHONY: demo test lint setup

setup:
	scripts/setup.sh

demo: setup
	.venv/bin/guanjia demo --if-empty
	.venv/bin/guanjia serve

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/guanjia check
	.venv/bin/guanjia makemigrations --check --dry-run
	.venv/bin/python scripts/audit_deps.py

test:
	scripts/setup.sh --test
	$(MAKE) lint
	.venv/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)
