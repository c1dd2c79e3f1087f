#!/usr/bin/env bash
# The test command: set-up, lint (ruff + pylint-odoo), then the add-on's tests (and, on full runs, a curated set of
# Odoo's own post-install tests of account, account_payment, portal and sale_project) through Odoo's own runner on a
# fresh database, then an uninstall check. Exits non-zero on any lint error, failed or errored test, or error
# (or warning of the add-on's own) in Odoo's log. The last line printed is the count: "N passed, N failed".
# Usage: scripts/test.sh [test-tags]   (default /invoice_followup; e.g. /invoice_followup:TestCadence)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
TAGS="${1:-/invoice_followup}"
# Odoo's own post-install tests of the flows the add-on extends, run with the add-on installed (full runs only),
# so that a change of core behaviour by the add-on fails like one of its own tests.
CORE_TAGS="post_install/account:TestAccountMoveOutInvoiceOnchanges,post_install/account:TestAccountMoveSend"
CORE_TAGS+=",post_install/account:TestAccountComposerPerformance,post_install/account:TestAccountPaymentRegister"
CORE_TAGS+=",post_install/account_payment,post_install/portal,post_install/sale_project"
# Installed with the add-on, not dependencies of it: Odoo's demo payment provider, for the pay-link browser tour
# (tests/test_pay_tour.py), as `make run` installs it for the demo. Their own tests are not run.
EXTRA_MODULES="payment_demo"
RUN_TAGS="$TAGS"
[ "$TAGS" = "/invoice_followup" ] && [ -z "${SKIP_CORE_TESTS:-}" ] && RUN_TAGS="$TAGS,$CORE_TAGS"
bash "$ROOT/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
cd "$ROOT"
problems=0

log "lint: ruff"
"$VENV/bin/ruff" check invoice_followup scripts bench || problems=$((problems + 1))
"$PY" scripts/gen_readme.py --check || problems=$((problems + 1))
log "lint: pylint-odoo (mandatory checks)"
"$VENV/bin/pylint" --rcfile=.pylintrc-mandatory invoice_followup || problems=$((problems + 1))

log "tests: $RUN_TAGS on a fresh database $DB_TEST"
dropdb -h "$PGHOST_DIR" --if-exists "$DB_TEST"
logfile="$LOGS/test-$DB_TEST.log"
rm -f "$logfile"  # Odoo appends to its log file: start clean so only this run is judged
"$ROOT/scripts/odoo.sh" -d "$DB_TEST" -i "invoice_followup,$EXTRA_MODULES" --test-enable --test-tags "$RUN_TAGS" \
    --stop-after-init --http-port="${TEST_HTTP_PORT:-8169}" --log-level=info --logfile="$logfile"
rc=$?
result=$(grep -E "odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$logfile" | tail -n1)
if [ -z "$result" ]; then
    grep -E " (ERROR|CRITICAL) " "$logfile" | tail -n 20
    log "no test result line in $logfile (exit code $rc)"
    echo "0 passed, 1 failed"
    exit 1
fi
read -r failed errors total < <(echo "$result" | sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')
bad=$((failed + errors))
passed=$((total - bad))

# Any ERROR/CRITICAL line (loading, tests, tracebacks) or a warning from the add-on itself fails the run.
# Chromium that does not answer within Odoo's 10 s makes Odoo's runner skip that browser test, with a warning under
# the test's name: the machine's hiccup, not the add-on's. Counted and shown, not a failure.
browser_skips=$(grep -c "Chrome headless failed to start" "$logfile" || true)
[ "${browser_skips:-0}" -gt 0 ] && log "Chromium did not start in time for $browser_skips browser test(s): skipped by Odoo's runner"
log_problems=$(grep -E " (ERROR|CRITICAL) | WARNING [^ ]+ odoo\.addons\.invoice_followup" "$logfile" \
    | grep -v "odoo.tests.result" | grep -v "Chrome headless failed to start" || true)
if [ -n "$log_problems" ]; then
    echo "$log_problems" | head -n 40
    log "Odoo's log has errors or warnings of the add-on: see $logfile"
    problems=$((problems + 1))
fi
[ "$rc" -ne 0 ] && { log "Odoo exited with $rc"; problems=$((problems + 1)); }

if [ "$TAGS" = "/invoice_followup" ]; then
    log "uninstall check"
    if ! "$ROOT/scripts/odoo.sh" shell -d "$DB_TEST" --no-http --logfile="$LOGS/uninstall.log" \
        < "$ROOT/scripts/uninstall_check.py"; then
        log "uninstall failed: see $LOGS/uninstall.log"
        problems=$((problems + 1))
    fi
fi

log "lint/log problems: $problems; tests: $total run, $bad failed or errored"
if [ "$problems" -gt 0 ] && [ "$bad" -eq 0 ]; then
    bad=1
fi
echo "$passed passed, $bad failed"
[ "$bad" -eq 0 ]
