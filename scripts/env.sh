# Shared settings for the project's scripts (sourced, not executed).
# Everything downloaded or generated lives under $STATE (git-ignored).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${INVOICE_FOLLOWUP_STATE:-$ROOT/.state}"
ODOO_ROOT="$STATE/odoo-19"
ODOO_PKG="$ODOO_ROOT/usr/lib/python3/dist-packages"
ODOO_ADDONS="$ODOO_PKG/odoo/addons"
VENV="$STATE/venv"
PY="$VENV/bin/python"
LOGS="$STATE/logs"
MAILDIR="$STATE/mail"
PGDATA_LOCAL="$STATE/pgdata"
DB_DEMO="${DB_DEMO:-invoice_followup_demo}"
DB_TEST="${DB_TEST:-invoice_followup_test}"
HTTP_PORT="${HTTP_PORT:-8069}"
SMTP_PORT="${SMTP_PORT:-2525}"
ADDONS_PATH="$ODOO_ADDONS,$ROOT"
# wkhtmltopdf with patched Qt, installed by setup.sh: first on PATH so that Odoo picks it over Debian's.
WKHTMLTOX_BIN="$STATE/wkhtmltox/bin"
case ":$PATH:" in *":$WKHTMLTOX_BIN:"*) ;; *) export PATH="$WKHTMLTOX_BIN:$PATH" ;; esac
export PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$ODOO_PKG${PYTHONPATH:+:$PYTHONPATH}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

# PostgreSQL connection: the system cluster over its socket when root, else a project-local cluster.
if is_root; then
    PGHOST_DIR=/var/run/postgresql
else
    PGHOST_DIR="$PGDATA_LOCAL"
fi
DB_ARGS=(--db_host="$PGHOST_DIR" --db_user="$(id -un)")
