#!/usr/bin/env bash
# Runs the project's Odoo 19 (unpacked from Debian's package) with this repository on its addons path.
# Usage: scripts/odoo.sh [odoo arguments...], e.g. scripts/odoo.sh shell -d invoice_followup_demo
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
sub=()
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then sub=("$1"); shift; fi
exec "$PY" "$ODOO_ROOT/usr/bin/odoo" "${sub[@]}" --addons-path="$ADDONS_PATH" --data-dir="$STATE/data" \
    "${DB_ARGS[@]}" "$@"
