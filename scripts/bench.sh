#!/usr/bin/env bash
# The benchmark (`make bench`): a fresh database with the add-on, generated invoices, the reminder cron timed.
# Sizes: BENCH_DUE (reminders with stored PDFs, default 2000), BENCH_RENDER (reminders whose PDF is rendered,
# default 20), BENCH_IDLE (invoices not due, for the idle run, default 2000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
db=invoice_followup_bench
dropdb -h "$PGHOST_DIR" --if-exists "$db"
log "creating $db"
"$ROOT/scripts/odoo.sh" -d "$db" -i invoice_followup --stop-after-init --no-http --logfile="$LOGS/bench-install.log"
cd "$ROOT"
"$ROOT/scripts/odoo.sh" shell -d "$db" --no-http --logfile="$LOGS/bench.log" < "$ROOT/bench/bench_reminders.py"
