# invoice_followup — the two commands of the README, and a few helpers.
.PHONY: run test lint setup pot bench clean

run:            ## set up, create the demo database once, serve Odoo on http://localhost:8069
	bash scripts/run.sh

test:           ## set up, lint, run the add-on's tests on a fresh database; last line "N passed, N failed"
	bash scripts/test.sh $(TAGS)

setup:          ## install the runtime only (Odoo 19, virtualenv, PostgreSQL, wkhtmltopdf)
	bash scripts/setup.sh

lint:           ## ruff and pylint-odoo only
	bash scripts/setup.sh && .state/venv/bin/ruff check invoice_followup scripts bench && \
	.state/venv/bin/pylint --rcfile=.pylintrc-mandatory invoice_followup

pot:            ## regenerate invoice_followup/i18n/invoice_followup.pot from a database with the add-on
	bash scripts/pot.sh

clean:          ## drop the databases and the caught e-mails (keeps downloads and the virtualenv)
	bash -c 'source scripts/env.sh; dropdb -h "$$PGHOST_DIR" --if-exists "$$DB_DEMO"; \
	dropdb -h "$$PGHOST_DIR" --if-exists "$$DB_TEST"; rm -rf "$$MAILDIR" "$$STATE/data"'

bench:          ## benchmark the engine, the floor and the OCA peer; sizes: make bench ARGS="--due 2000 --idle 200000"
	bash scripts/bench.sh $(ARGS)
