#!/usr/bin/env bash
# The benchmark (`make bench`): our reminder cron, Odoo's own per-invoice e-mail (the floor) and the OCA peer
# (account_credit_control 19.0) on the same generated data, then one table printed and saved in bench/results/.
# Databases (dropped and recreated each run): BENCH_DB (default if_bench_ours: invoice_followup alone) and
# BENCH_DB_PEER (default if_bench_peer: the peer and invoice_followup, on an addons path used only here).
# Sizes: BENCH_DUE (due invoices with stored PDFs, default 200), BENCH_PER_CUSTOMER (invoices per customer,
# default 5), BENCH_RENDER (due invoices whose PDF is rendered, default 20), BENCH_IDLE (invoices not due,
# default 2000), BENCH_PROFILE (invoices of the profiled cron run, default 100, 0 = off).
# BENCH_PEER=0 skips the peer. The peer is downloaded once from PyPI into $STATE/bench-addons (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
db=${BENCH_DB:-if_bench_ours}
db_peer=${BENCH_DB_PEER:-if_bench_peer}
peer_addons="$STATE/bench-addons"

fresh_db() {  # name, modules, addons path
    dropdb -h "$PGHOST_DIR" --if-exists "$1"
    log "creating $1 with $2"
    "$ROOT/scripts/odoo.sh" -d "$1" -i "$2" --addons-path="$3" --stop-after-init --no-http \
        --logfile="$LOGS/bench-$1-install.log"
}

fetch_peer() {  # the OCA wheel holds the add-on under odoo/addons/<name>; it declares no OCA dependency
    [ -f "$peer_addons/account_credit_control/__manifest__.py" ] && return
    log "downloading OCA account_credit_control 19.0 into $peer_addons"
    local tmp
    tmp=$(mktemp -d)
    "$VENV/bin/pip" download --no-deps --dest "$tmp" 'odoo-addon-account-credit-control==19.0.*'
    for wheel in "$tmp"/*.whl; do "$PY" -m zipfile -e "$wheel" "$tmp/unpacked"; done
    mkdir -p "$peer_addons"
    cp -r "$tmp"/unpacked/odoo/addons/* "$peer_addons/"
    rm -rf "$tmp"
}

mkdir -p bench/results
rm -f bench/results/ours-"$(date +%F)".json bench/results/peer-"$(date +%F)".json
fresh_db "$db" invoice_followup "$ADDONS_PATH"
"$ROOT/scripts/odoo.sh" shell -d "$db" --no-http --logfile="$LOGS/bench-$db.log" < bench/bench_reminders.py
if [ "${BENCH_PEER:-1}" != 0 ]; then
    fetch_peer
    fresh_db "$db_peer" invoice_followup,account_credit_control "$ADDONS_PATH,$peer_addons"
    "$ROOT/scripts/odoo.sh" shell -d "$db_peer" --no-http --addons-path="$ADDONS_PATH,$peer_addons" \
        --logfile="$LOGS/bench-$db_peer.log" < bench/bench_peer.py
fi
"$PY" bench/bench_table.py bench/results
