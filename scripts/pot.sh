#!/usr/bin/env bash
# Regenerates invoice_followup/i18n/invoice_followup.pot with Odoo 19's `odoo i18n export`, from a fresh
# database where the add-on is installed without demo data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
db=invoice_followup_pot
conf="$STATE/odoo-pot.conf"
cat > "$conf" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $STATE/data
db_host = $PGHOST_DIR
db_user = $(id -un)
CONF
dropdb -h "$PGHOST_DIR" --if-exists "$db"
"$ROOT/scripts/odoo.sh" -d "$db" -i invoice_followup --stop-after-init --no-http --logfile="$LOGS/pot.log"
"$PY" "$ODOO_ROOT/usr/bin/odoo" --addons-path="$ADDONS_PATH" i18n export -c "$conf" -d "$db" invoice_followup
dropdb -h "$PGHOST_DIR" --if-exists "$db"
log "wrote invoice_followup/i18n/invoice_followup.pot ($(grep -c '^msgid' "$ROOT/invoice_followup/i18n/invoice_followup.pot") strings)"
