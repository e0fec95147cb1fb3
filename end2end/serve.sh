#!/usr/bin/env bash
# Starts comops for the browser tests: fresh SQLite database, known admin
# passwords, an admin and a viewer created with the real CLI, the demo
# bots (the tests create their own endpoints).
set -euo pipefail
port="$1"
bin="${COMOPS_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/comops-target}/debug/comops}"
data="$(mktemp -d /tmp/comops-e2e.XXXXXX)"
export DATABASE_URL="sqlite://$data/comops.db"
"$bin" migrate >/dev/null
"$bin" user create --email admin@comops.local --role admin --password e2e-admin-password >/dev/null
"$bin" user create --email viewer@comops.local --role viewer --password e2e-viewer-password >/dev/null
exec "$bin" serve --demo-bots --listen "127.0.0.1:$port" --site-root "${COMOPS_SITE_ROOT:-target/site}"
