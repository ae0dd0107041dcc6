#!/usr/bin/env bash
# The admin UI (admin/: Svelte 5 + Vite, served under /admin/ by `sf serve` and the Worker).
#
#   scripts/admin-ui.sh build   npm ci (skipped when admin/node_modules matches the lock), then
#                               `vite build` into admin/dist/admin/ (what sf-server's build.rs
#                               embeds and wrangler.toml's [assets] serves); prints the JS gzip size
#                               and fails over the 150 KiB budget
#   scripts/admin-ui.sh e2e     Debian's Chromium (apt-get install chromium when missing),
#                               `cargo build -p sf-cli`, then Playwright (admin/e2e/) against a
#                               seeded `sf serve`; screenshots in admin/artifacts/screenshots/
#
# Environment: SF_BIN (the sf binary; default target/debug/sf), SF_CHROMIUM (default
# /usr/bin/chromium), SF_ADMIN_E2E_INTERACTIONS (seeded interactions, default 10000).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/admin"

BUDGET_KIB=150
die() { echo "admin-ui.sh: $*" >&2; exit 1; }

deps() {
    command -v npm >/dev/null || die "npm is missing: install Node.js 20.19+ (apt-get install nodejs npm)"
    # npm ci writes node_modules/.package-lock.json; equal to the lock = nothing to do.
    if [[ -f node_modules/.package-lock.json ]] && node -e '
        const a = require("./package-lock.json").packages, b = require("./node_modules/.package-lock.json").packages;
        for (const k of Object.keys(a)) if (k && (!b[k] || b[k].version !== a[k].version)) process.exit(1);' 2>/dev/null; then
        echo "admin-ui: node_modules up to date"
    else
        npm ci --no-fund --no-audit --loglevel=error
    fi
}

build() {
    deps
    npx vite build --logLevel warn
    local js total=0 n
    for js in dist/admin/assets/*.js; do
        n=$(gzip -9 -c "$js" | wc -c)
        total=$((total + n))
    done
    echo "admin-ui: JS $((total / 1024)) KiB gzip (budget $BUDGET_KIB KiB)"
    (( total <= BUDGET_KIB * 1024 )) || die "the admin UI's JS is over the $BUDGET_KIB KiB gzip budget"
}

chromium() {
    local bin="${SF_CHROMIUM:-/usr/bin/chromium}"
    if [[ ! -x "$bin" ]]; then
        echo "admin-ui: installing Debian's chromium (apt-get)"
        local sudo=()
        [[ "$(id -u)" == 0 ]] || sudo=(sudo -n)
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null
    fi
    [[ -x "$bin" ]] || die "no Chromium at $bin (apt-get install chromium, or set SF_CHROMIUM)"
    "$bin" --version 2>/dev/null | head -n1 || true
}

e2e() {
    [[ -f dist/admin/index.html ]] || build
    deps
    chromium
    (cd "$ROOT" && cargo build --locked -q -p sf-cli)
    rm -rf artifacts/screenshots
    npx playwright test
    echo "admin-ui: screenshots in admin/artifacts/screenshots/ ($(ls artifacts/screenshots | wc -l) pages)"
    if [[ -f artifacts/overview-first-render-ms.txt ]]; then
        echo "admin-ui: overview with ${SF_ADMIN_E2E_INTERACTIONS:-10000} seeded interactions: first render $(tr -d '\n' <artifacts/overview-first-render-ms.txt) ms (load of /admin/ to every chart drawn)"
    fi
}

case "${1:-}" in
    build) build ;;
    e2e) e2e ;;
    *) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
