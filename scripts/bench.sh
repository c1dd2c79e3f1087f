#!/usr/bin/env bash
# The benchmark (`make bench`): our reminder cron, Odoo's own per-invoice e-mail (the floor) and the OCA peer
# (account_credit_control 19.0) on the same generated data, then one table printed and saved in bench/results/.
# Databases (dropped and recreated each run): BENCH_DB (default if_bench_ours: invoice_followup alone) and
# BENCH_DB_PEER (default if_bench_peer: the peer and invoice_followup, on an addons path used only here).
# Sizes, on the command line (or as the BENCH_* environment variables named in brackets):
#   --due N            due invoices with stored PDFs (BENCH_DUE, default 200)
#   --floor N          of those, how many the floor e-mails (BENCH_FLOOR, default: all)
#   --consolidated N   due invoices reminded with one e-mail per customer (BENCH_CONSOLIDATED, default: --due)
#   --render N         due invoices whose PDF is rendered (BENCH_RENDER, default 20)
#   --idle N           invoices in the database for the idle run (BENCH_IDLE, default 2000; above 2000 the rest
#                      are copies made in SQL)
#   --per-customer N   invoices per customer (BENCH_PER_CUSTOMER, default 5)
#   --recurring N      recurring schedules generated (BENCH_RECURRING, default 50; BENCH_RECURRING_SENT 5 more
#                      with sending on)
#   --milestones N     milestones reached (BENCH_MILESTONES, default 10)
#   --peer-due N       due invoices of the peer's runs (BENCH_PEER_DUE, default: --due)
#   --profile N        invoices of the profiled cron run (BENCH_PROFILE, default 100, 0 = off)
#   --workers-due N    reminders queued then delivered by 1, then 2 worker processes at once (BENCH_WORKERS_DUE,
#                      default 2000, 0 = off)
#   --no-peer          skip the peer (BENCH_PEER=0)
# The peer is downloaded once from PyPI into $STATE/bench-addons (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export LOGS
while [ $# -gt 0 ]; do
    case "$1" in
        --due) export BENCH_DUE=$2; shift 2 ;;
        --floor) export BENCH_FLOOR=$2; shift 2 ;;
        --consolidated) export BENCH_CONSOLIDATED=$2; shift 2 ;;
        --render) export BENCH_RENDER=$2; shift 2 ;;
        --idle) export BENCH_IDLE=$2; shift 2 ;;
        --per-customer) export BENCH_PER_CUSTOMER=$2; shift 2 ;;
        --recurring) export BENCH_RECURRING=$2; shift 2 ;;
        --milestones) export BENCH_MILESTONES=$2; shift 2 ;;
        --peer-due) export BENCH_PEER_DUE=$2; shift 2 ;;
        --profile) export BENCH_PROFILE=$2; shift 2 ;;
        --workers-due) export BENCH_WORKERS_DUE=$2; shift 2 ;;
        --no-peer) export BENCH_PEER=0; shift ;;
        *) echo "unknown option $1 (see the head of scripts/bench.sh)" >&2; exit 2 ;;
    esac
done
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
