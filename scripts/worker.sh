#!/usr/bin/env bash
# The Cloudflare Worker (runtime/worker) in one place, offline: every tool comes from the
# package registries (scripts/setup-worker-tools.sh installs them) and nothing is downloaded
# at build or run time.
#
#   scripts/worker.sh build            wasm bundle into build/ + build/wrangler.dev.toml; prints sizes
#   scripts/worker.sh dev              build, apply D1 migrations, `wrangler dev --local` (foreground)
#   scripts/worker.sh e2e              build with the self-test, migrate, start wrangler dev, run
#                                      `sf conformance --host-kind worker` against it, stop it;
#                                      again without KV/D1/DO (`--host-kind worker-degraded`); then
#                                      deploy --dry-run of the production bundle; prints sizes and
#                                      start-up time. Every assertion is in the conformance crate.
#   scripts/worker.sh deploy-dry-run   `wrangler deploy --dry-run --outdir dist` (no Cloudflare call)
#   scripts/worker.sh bundle           worker-build only (wrangler.toml's [build] command): the
#                                      production bundle, without the `selftest` feature
#
# Environment: PORT (dev; default 8787), SF_WORKER_ENV (wrangler --env, default: the top-level
# dev worker), SF_WORKER_NO_OPT=1 (skip wasm-opt for a faster, bigger local build),
# SF_WORKER_SELFTEST=1 (build/dev: compile in GET /__sf_selftest; e2e always does),
# SF_BIN (e2e: the `sf` binary; default target/debug/sf, or $CARGO_TARGET_DIR/debug/sf),
# SF_CONFORMANCE_CMD (e2e: what to run against the Worker; default
# `$SF_BIN conformance --base-url "$SF_BASE_URL" --mock-port "$SF_MOCK_PORT"`; see run_suite).

set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

lock_version() { # the version of crate $1 in Cargo.lock
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}
WASM_BINDGEN_VERSION="$(lock_version wasm-bindgen)"
WORKER_BUILD_VERSION="$(lock_version worker)"
BINDGEN_DIR="$ROOT/.tools/wasm-bindgen-cli-$WASM_BINDGEN_VERSION/bin"
WORKER_BUILD_DIR="$ROOT/.tools/worker-build-$WORKER_BUILD_VERSION/bin"

# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub/npm: point it at ours.
export WASM_BINDGEN_BIN="$BINDGEN_DIR/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
# node_modules/.bin first: Node 22 (wrangler 4 needs >= 22.12; the machine has 20).
export PATH="$ROOT/node_modules/.bin:$BINDGEN_DIR:$WORKER_BUILD_DIR:$PATH"
# miniflare would fetch request.cf data from the internet; no telemetry either.
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_SEND_METRICS=false
export CI="${CI:-true}" # non-interactive wrangler (no prompts, no hotkeys)

BUILD_DIR="$ROOT/build"
DEV_CONFIG="$BUILD_DIR/wrangler.dev.toml"
ENV_ARGS=()
[[ -n "${SF_WORKER_ENV:-}" ]] && ENV_ARGS=(--env "$SF_WORKER_ENV")

die() { echo "worker.sh: $*" >&2; exit 1; }

check_tools() {
    [[ -x "$WASM_BINDGEN_BIN" && -x "$WORKER_BUILD_DIR/worker-build" && -x "$WASM_OPT_BIN" \
        && -x "$ESBUILD_BIN" && -x "$ROOT/node_modules/.bin/wrangler" ]] \
        || die "Worker tools missing (wasm-bindgen $WASM_BINDGEN_VERSION, worker-build $WORKER_BUILD_VERSION, node_modules); run: bash scripts/setup-worker-tools.sh"
}

bundle() { # [$1 = selftest: compile in the port self-test (cargo feature `selftest`)]
    check_tools
    local opt=() cargo_args=()
    [[ "${SF_WORKER_NO_OPT:-}" == 1 ]] && opt=(--no-opt)
    # worker-build passes what follows `--` to `cargo build`.
    [[ "${1:-}" == selftest ]] && cargo_args=(-- --features selftest)
    # --profile wasm-release: size-tuned (opt-level z, fat LTO, panic=abort), see Cargo.toml.
    # --out-dir is relative to the crate: the bundle lands in <root>/build.
    worker-build --profile wasm-release "${opt[@]}" --out-dir ../../build runtime/worker "${cargo_args[@]}"
}

# A copy of wrangler.toml without [build], next to the bundle, so `wrangler dev` starts from
# the prebuilt files (about 3 s instead of 18 s). Paths are relative to the config file.
write_dev_config() {
    # [assets] needs the directory; without a UI build it is empty (no /admin/ page).
    mkdir -p "$ROOT/admin/dist"
    awk '
        /^\[build\]/ { skip = 1; next }
        /^\[/ { skip = 0 }
        skip { next }
        /^main = / { print "main = \"index.js\""; next }
        /^migrations_dir = / { print "migrations_dir = \"../migrations\""; next }
        /^directory = "admin\/dist"/ { print "directory = \"../admin/dist\""; next }
        { print }
    ' "$ROOT/wrangler.toml" >"$DEV_CONFIG"
    grep -q '^main = "index.js"' "$DEV_CONFIG" || die "could not rewrite main in $DEV_CONFIG"
}

# e2e only (never wrangler.toml): producers for the two queues Paris writes to, so the
# self-test's `POST /__sf_selftest/enqueue?queue=l10n|commands` can put a message on them and
# the Worker's own consumer receives it. Inserted before the first top-level consumer.
add_selftest_producers() {
    awk '
        !done && /^\[\[queues\.consumers\]\]/ {
            print "# e2e only (scripts/worker.sh add_selftest_producers): the self-test enqueue hook."
            print "[[queues.producers]]"; print "binding = \"SF_SELFTEST_L10N_Q\""
            print "queue = \"instance-l10n-generate-cloud-dev\""; print ""
            print "[[queues.producers]]"; print "binding = \"SF_SELFTEST_COMMANDS_Q\""
            print "queue = \"paris-sf-commands-cloud-dev\""; print ""
            done = 1
        }
        { print }
    ' "$DEV_CONFIG" >"$DEV_CONFIG.tmp" && mv "$DEV_CONFIG.tmp" "$DEV_CONFIG"
    grep -q 'binding = "SF_SELFTEST_COMMANDS_Q"' "$DEV_CONFIG" || die "could not add the self-test producers to $DEV_CONFIG"
}

gz_bytes() { gzip -9 -c "$1" | wc -c; }

# The bundle's gzip budget. DESIGN.md sets 400 KiB; localization, personalization, approvals,
# tenants, the learning loop (review queue, example banks, prompt versions, experiments) and
# the AI Gateway path took the bundle from 320 to about 540 KiB (README, Figures), so the check
# holds the line at 560 KiB until size work (issue 17) brings it back under 400. (Cloudflare's
# own limit is 3 MiB compressed on the free plan.)
BUDGET_KIB=560

report_size() {
    local wasm="$BUILD_DIR/index_bg.wasm" js="$BUILD_DIR/index.js" w j
    [[ -f "$wasm" && -f "$js" ]] || die "bundle missing: expected $wasm and $js"
    w=$(gz_bytes "$wasm"); j=$(gz_bytes "$js")
    SIZE_LINE=$(printf 'bundle: wasm %d KiB raw / %d KiB gzip, JS shim %d KiB raw / %d KiB gzip, total %d KiB gzip (budget %d KiB)' \
        $(( $(wc -c <"$wasm") / 1024 )) $(( w / 1024 )) $(( $(wc -c <"$js") / 1024 )) $(( j / 1024 )) $(( (w + j) / 1024 )) "$BUDGET_KIB")
    echo "$SIZE_LINE"
    if (( (w + j) > BUDGET_KIB * 1024 )); then
        echo "worker.sh: bundle is over the $BUDGET_KIB KiB gzip budget" >&2
        return 1
    fi
}

build() { # [$1 = selftest]
    local features="${1:-}"
    [[ "${SF_WORKER_SELFTEST:-}" == 1 ]] && features=selftest
    bundle "$features"
    write_dev_config
    report_size
}

# Local D1 state for e2e lives apart from `dev`'s, and starts empty each run.
migrate() { # $1 = persist dir
    wrangler d1 migrations apply SF_D1 --local --config "$DEV_CONFIG" "${ENV_ARGS[@]}" --persist-to "$1"
}

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

dev() {
    build
    # wrangler reads secrets from .dev.vars next to the config: use the git-ignored root one.
    if [[ -f "$ROOT/.dev.vars" ]]; then cp "$ROOT/.dev.vars" "$BUILD_DIR/.dev.vars"; else rm -f "$BUILD_DIR/.dev.vars"; fi
    local state="$ROOT/.wrangler/state"
    migrate "$state"
    exec wrangler dev --config "$DEV_CONFIG" "${ENV_ARGS[@]}" --local --ip 127.0.0.1 \
        --port "${PORT:-8787}" --persist-to "$state" --test-scheduled
}

deploy_dry_run() { # [$1 = config; default: the real wrangler.toml, whose [build] step rebuilds]
    mkdir -p "$ROOT/admin/dist"
    rm -rf "$ROOT/dist"
    wrangler deploy --dry-run --outdir "$ROOT/dist" --config "${1:-$ROOT/wrangler.toml}" "${ENV_ARGS[@]}"
}

# ---------------------------------------------------------------------------------------- e2e
# This script only builds, starts and stops; every assertion is a case of the conformance
# crate (conformance/src, `sf conformance --host-kind worker|worker-degraded`).

FAILURES=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1: $2"; FAILURES=$((FAILURES + 1)); }

SF_BIN="${SF_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/sf}"

# run_suite NAME HOST_KIND LOG BASE [CMD]: CMD (default: `$SF_BIN conformance`) with SF_BASE_URL,
# SF_MOCK_PORT and the two secrets exported; `sf conformance` reads the host kind and the
# Worker log to check for panics from SF_CONFORMANCE_HOST_KIND / SF_CONFORMANCE_HOST_LOG.
run_suite() {
    local name="$1" kind="$2" log="$3" base="$4"
    local cmd="${5:-\"\$SF_BIN\" conformance --base-url \"\$SF_BASE_URL\" --mock-port \"\$SF_MOCK_PORT\"}"
    if SF_BIN="$SF_BIN" SF_BASE_URL="$base" SF_CONFORMANCE_HOST_KIND="$kind" SF_CONFORMANCE_HOST_LOG="$log" \
        bash -c "$cmd"; then
        pass "$name ($cmd)"
    else
        fail "$name" "$cmd failed"
    fi
}

e2e() {
    local t0 t_build second_ms startup_ms first_ms port state log base e2e_size
    [[ -x "$SF_BIN" || -n "${SF_CONFORMANCE_CMD:-}" ]] \
        || die "no sf binary at $SF_BIN (cargo build -p sf-cli, or set SF_BIN)"
    t0=$(date +%s)
    # The e2e bundle carries the port self-test (cargo feature `selftest`); the production
    # bundle is rebuilt without it by the deploy --dry-run at the end.
    build selftest
    add_selftest_producers
    e2e_size="$SIZE_LINE"
    t_build=$(( $(date +%s) - t0 ))

    state="$ROOT/.wrangler/e2e-state"
    rm -rf "$state"
    trap 'stop_all' EXIT
    # A tiny upstream for the fetch port's self-test: /echo answers, /redirect redirects,
    # /hang never answers.
    local echo_port
    echo_port=$(free_port)
    node -e '
        const port = Number(process.argv[1]);
        require("http").createServer((q, r) => {
          if (q.url === "/hang") return;
          if (q.url === "/redirect") { r.writeHead(302, { location: "/echo" }); return r.end(); }
          let b = ""; q.on("data", d => b += d).on("end", () => {
            r.writeHead(201, { "x-echo": "1", "content-type": "text/plain" });
            r.end(`${q.method} ${b} ${q.headers["x-sf-test"] || ""}`);
          });
        }).listen(port, "127.0.0.1");' "$echo_port" &
    ECHO_PID=$!
    # Secrets and provider settings for the run (read by wrangler dev from .dev.vars next to
    # the config). The conformance suite is started with the same values.
    export AI_GRANT_HMAC_SECRET="${AI_GRANT_HMAC_SECRET:-e2e-grant-secret-not-for-production}"
    export PARIS_DEV_JWT="${PARIS_DEV_JWT:-e2e-paris-bearer-not-for-production}"
    # The conformance suite's scripted upstream listens here (the provider, Paris, Tokyo and
    # Responses API base URLs all point at it).
    export SF_MOCK_PORT="${SF_MOCK_PORT:-$(free_port)}"
    cat >"$BUILD_DIR/.dev.vars" <<EOF
AI_GRANT_HMAC_SECRET="$AI_GRANT_HMAC_SECRET"
PARIS_DEV_JWT="$PARIS_DEV_JWT"
DEEPSEEK_API_KEY="e2e-upstream-key"
DEEPSEEK_BASE_URL="http://127.0.0.1:$SF_MOCK_PORT"
OPENAI_API_KEY="e2e-openai-key"
OPENAI_BASE_URL="http://127.0.0.1:$SF_MOCK_PORT"
TOKYO_BASE_URL="http://127.0.0.1:$SF_MOCK_PORT"
PARIS_BASE_URL="http://127.0.0.1:$SF_MOCK_PORT"
SF_SELFTEST="1"
SF_APPROVALS_AGENCY_TOKEN="conformance-agency-token"
SF_ADMIN_TOKEN="conformance-admin-token"
SF_APPROVALS_MODEL_TIMEOUT_MS="1000"
SF_SELFTEST_ECHO_URL="http://127.0.0.1:$echo_port"
EOF
    migrate "$state"

    port=$(free_port)
    base="http://127.0.0.1:$port"
    log="$BUILD_DIR/wrangler-dev.log"
    start_wrangler "$DEV_CONFIG" "$port" "$state" "$log"
    second_ms=$(curl -s -o /dev/null -w '%{time_total}' "$base/healthz" | awk '{ printf "%d", $1 * 1000 }')
    startup_ms=$(( READY_MS - START_MS )); first_ms=$FIRST_MS
    echo "wrangler dev answered after ${startup_ms} ms; first request ${first_ms} ms, second ${second_ms} ms"

    # The Worker is up at $base with ENVIRONMENT=dev, the two secrets, DEEPSEEK_BASE_URL at
    # the suite's mock and the self-test on; local D1 state in $state. `--host-kind worker`
    # adds to the contract suite the cron handler, the port self-test, waitUntil, the queue
    # consumer's D1 rows (the self-test's event and the suite's /v1/execute events) and the
    # dead letter of a rejected event. SF_CONFORMANCE_CMD may run more after the suite
    # (test.sh adds the copilot golden set with `sf eval`).
    run_suite "conformance suite against the Worker" worker "$log" "$base" "${SF_CONFORMANCE_CMD:-}"
    # The admin UI as static assets ([assets] in wrangler.toml), when it is built.
    if [[ -f "$ROOT/admin/dist/admin/index.html" ]]; then
        local js
        js=$(grep -o '/admin/assets/[^"]*\.js' "$ROOT/admin/dist/admin/index.html" | head -n1)
        if curl -sf "$base/admin/" | grep -q '<div id="app">' && [[ -n "$js" ]] \
            && [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base$js")" == 200 ]] \
            && [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/admin/v1/policy")" == 401 ]]; then
            pass "admin UI served as static assets (/admin/, $js; /admin/v1/ still reaches the Worker)"
        else
            fail "admin UI" "GET /admin/ or $js did not answer the build, or /admin/v1/policy did not reach the Worker"
        fi
    fi
    stop_wrangler

    # ---- degraded: no KV, D1 or Durable Object; R2 and the queues only ----
    local bare="$BUILD_DIR/wrangler.degraded.toml" bare_port bare_base bare_state="$ROOT/.wrangler/e2e-degraded"
    rm -rf "$bare_state"
    {
        echo 'name = "sanfrancisco-degraded"'
        echo 'main = "index.js"'
        grep -m1 '^compatibility_date' "$ROOT/wrangler.toml"
        echo 'send_metrics = false'
        printf '[vars]\nENVIRONMENT = "dev"\n'
        printf '[[r2_buckets]]\nbinding = "SF_R2"\nbucket_name = "sanfrancisco-logs-dev"\n'
        printf '[[queues.producers]]\nbinding = "SF_EVENTS"\nqueue = "sanfrancisco-events-dev"\n'
        printf '[[queues.consumers]]\nqueue = "sanfrancisco-events-dev"\nmax_batch_timeout = 1\nmax_retries = 1\n'
        printf 'dead_letter_queue = "sanfrancisco-dead-letter-dev"\n'
        printf '[[queues.consumers]]\nqueue = "sanfrancisco-dead-letter-dev"\nmax_batch_timeout = 1\n'
    } >"$bare"
    bare_port=$(free_port)
    bare_base="http://127.0.0.1:$bare_port"
    start_wrangler "$bare" "$bare_port" "$bare_state" "$BUILD_DIR/wrangler-degraded.log" 500
    # Always `sf conformance` itself: SF_CONFORMANCE_CMD's extra suites need KV and D1.
    run_suite "degraded Worker (no KV, D1, Durable Object)" worker-degraded \
        "$BUILD_DIR/wrangler-degraded.log" "$bare_base"
    stop_all
    trap - EXIT

    # The production bundle: wrangler.toml's [build] rebuilds build/ without the self-test.
    if deploy_dry_run >"$BUILD_DIR/deploy-dry-run.log" 2>&1; then
        pass "wrangler deploy --dry-run, production bundle ($(grep -m1 -o 'Total Upload:.*' "$BUILD_DIR/deploy-dry-run.log" || echo 'upload built'))"
    else
        tail -n 30 "$BUILD_DIR/deploy-dry-run.log" >&2
        fail "wrangler deploy --dry-run" "see $BUILD_DIR/deploy-dry-run.log"
    fi

    echo "e2e bundle (with the self-test) $e2e_size"
    if report_size >/dev/null; then echo "production $SIZE_LINE"; else echo "production $SIZE_LINE"; fail "production bundle" "over the $BUDGET_KIB KiB gzip budget"; fi
    echo "start-up: wrangler dev to first 200 ${startup_ms} ms (prebuilt bundle), first request ${first_ms} ms; build ${t_build} s; e2e total $(( $(date +%s) - t0 )) s"
    if (( FAILURES > 0 )); then
        echo "worker e2e: $FAILURES step(s) failed (wrangler log: $log)"
        exit 1
    fi
    echo "worker e2e: all checks passed"
}

# start_wrangler CONFIG PORT PERSIST_DIR LOG [STATUS]: wrangler dev in the background (its own
# process group, stopped as a whole by stop_wrangler); returns once /healthz answers STATUS
# (200; the degraded Worker answers 500, naming its missing bindings).
# Sets WRANGLER_PID, START_MS, READY_MS and FIRST_MS (the first request's round trip, which
# includes instantiating the wasm module).
start_wrangler() {
    local config="$1" port="$2" persist="$3" log="$4" want="${5:-200}" probe
    START_MS=$(date +%s%3N)
    setsid wrangler dev --config "$config" "${ENV_ARGS[@]}" --local --ip 127.0.0.1 --port "$port" \
        --inspector-port "$(free_port)" --persist-to "$persist" --test-scheduled >"$log" 2>&1 &
    WRANGLER_PID=$!
    READY_MS=""
    for _ in $(seq 1 600); do
        if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then
            tail -n 40 "$log" >&2
            die "wrangler dev exited before serving (log: $log)"
        fi
        probe=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
        if [[ "$probe" == "$want "* ]]; then
            READY_MS=$(date +%s%3N)
            FIRST_MS=$(awk '{ printf "%d", $2 * 1000 }' <<<"$probe")
            return 0
        fi
        sleep 0.1
    done
    tail -n 40 "$log" >&2
    die "wrangler dev did not answer /healthz with $want within 60 s (log: $log)"
}

stop_all() {
    stop_wrangler
    if [[ -n "${ECHO_PID:-}" ]]; then kill "$ECHO_PID" 2>/dev/null || true; ECHO_PID=""; fi
}

stop_wrangler() {
    if [[ -n "${WRANGLER_PID:-}" ]] && kill -0 "$WRANGLER_PID" 2>/dev/null; then
        kill -TERM -- "-$WRANGLER_PID" 2>/dev/null || kill -TERM "$WRANGLER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$WRANGLER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$WRANGLER_PID" 2>/dev/null || true
    fi
    WRANGLER_PID=""
}

case "${1:-}" in
    bundle) bundle ;;
    build) build ;;
    dev) dev ;;
    e2e) e2e ;;
    deploy-dry-run) check_tools; deploy_dry_run ;;
    *) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
