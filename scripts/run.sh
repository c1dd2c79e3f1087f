#!/usr/bin/env bash
# Quick start: set up the runtime, create the demo database once (invoice_followup + demo data, the
# scheduled jobs run once so the demo has history), start the local SMTP sink and serve Odoo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"

# Local SMTP sink: every e-mail Odoo sends lands in .state/mail as an .eml file.
if ! (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; then
    nohup "$PY" "$ROOT/scripts/smtp_sink.py" "$MAILDIR" "$SMTP_PORT" >"$LOGS/smtp_sink.log" 2>&1 &
    sleep 1
fi
SMTP_ARGS=(--smtp=127.0.0.1 --smtp-port="$SMTP_PORT" --email-from="odoo@localhost")

module_installed() {
    psql -h "$PGHOST_DIR" -d "$DB_DEMO" -tAc \
        "SELECT 1 FROM ir_module_module WHERE name='$1' AND state='installed'" 2>/dev/null || true
}
# Odoo's demo payment provider (payment_demo) is installed with the add-on and enabled for the demo company
# (scripts/demo_payment.py), so that "Pay now" in a demo reminder pays and the reminders stop.
if [ "$(module_installed invoice_followup)" != 1 ]; then
    log "creating the demo database $DB_DEMO (a minute or two, once)"
    dropdb -h "$PGHOST_DIR" --if-exists "$DB_DEMO"
    "$ROOT/scripts/odoo.sh" -d "$DB_DEMO" -i invoice_followup,payment_demo --with-demo --stop-after-init \
        "${SMTP_ARGS[@]}" --logfile="$LOGS/demo-install.log"
    # The reminders' invoice PDFs are rendered here, with no server running: demo_run_crons.py serves this
    # database from the shell's own process meanwhile (scripts/report_server.py), so they come out styled.
    log "enabling the demo payment provider, running the scheduled jobs once (reminders, then the mail queue)"
    cat "$ROOT/scripts/demo_payment.py" "$ROOT/scripts/demo_run_crons.py" | "$ROOT/scripts/odoo.sh" shell \
        -d "$DB_DEMO" "${SMTP_ARGS[@]}" --no-http --logfile="$LOGS/demo-cron.log"
elif [ "$(module_installed payment_demo)" != 1 ]; then
    log "installing Odoo's demo payment provider on $DB_DEMO (made before it was part of the demo)"
    "$ROOT/scripts/odoo.sh" -d "$DB_DEMO" -i payment_demo --stop-after-init "${SMTP_ARGS[@]}" \
        --logfile="$LOGS/demo-install.log"
    "$ROOT/scripts/odoo.sh" shell -d "$DB_DEMO" --no-http --logfile="$LOGS/demo-cron.log" \
        < "$ROOT/scripts/demo_payment.py"
fi

log "Odoo is starting on http://localhost:$HTTP_PORT — log in as admin / admin (database $DB_DEMO)"
log "e-mails sent by Odoo are written to $MAILDIR"
exec "$ROOT/scripts/odoo.sh" -d "$DB_DEMO" --db-filter="^$DB_DEMO\$" --http-interface=127.0.0.1 --http-port="$HTTP_PORT" \
    "${SMTP_ARGS[@]}" \
    "$@"
