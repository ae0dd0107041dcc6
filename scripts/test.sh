#!/usr/bin/env bash
# The whole test suite, in layers, on a fresh machine (installs what it needs
# into the git-ignored .tools/ and node_modules/, skipping what is present):
#   0. admin UI build        npm ci + vite build of admin/ (embedded by sf-server's build.rs)
#   1. format and lints      cargo fmt --check, cargo clippy -D warnings
#   2. tests                 cargo test: unit, property, trybuild (policy compile-fail
#                            cases), provider transcripts, native-host integration,
#                            the black-box conformance suite against the native host
#   2a. generated docs       docs/openapi.json (openapi-spec-validator) and docs/schemas (jsonschema,
#                            every policy file against its schema), validators from PyPI
#   2b. OpenAI client        the official `openai` package (PyPI) against `sf serve`'s
#                            /v1/chat/completions with a tenant key (scripts/e2e-openai-client.sh)
#   2c. admin UI in Chromium Playwright + Debian's Chromium against a seeded `sf serve`
#                            (scripts/admin-ui.sh e2e; SF_SKIP_ADMIN_E2E=1 skips it)
#   3. real model            SmolLM2 (PyPI) as the `local` provider through `sf serve`
#   4. Cloudflare Worker     wasm build, conformance under `wrangler dev`, deploy --dry-run
# SF_SKIP_WORKER=1 / SF_SKIP_LLM=1 skip layers 4 / 3 for a quick local run.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

passed=0
failed=0
failures=()
layer() { # layer NAME CMD...
    local name=$1 start=$SECONDS
    shift
    echo "==> $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "==> $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "==> $name: FAILED ($((SECONDS - start)) s)"
    fi
}

layer "admin UI build" bash scripts/admin-ui.sh build
layer "format" cargo fmt --all -- --check
layer "clippy" cargo clippy --all-targets --locked -- -D warnings
layer "cargo test" cargo test --locked
layer "generated docs (OpenAPI, policy schemas)" bash scripts/validate-docs.sh
layer "openai Python client through sf serve" bash -c "cargo build --locked -q -p sf-cli && bash scripts/e2e-openai-client.sh target/debug/sf"
if [ -z "${SF_SKIP_ADMIN_E2E:-}" ]; then
    layer "admin UI in Chromium (Playwright)" bash scripts/admin-ui.sh e2e
fi
if [ -z "${SF_SKIP_LLM:-}" ]; then
    layer "real model (SmolLM2) through sf serve" bash -c "cargo build --locked -q -p sf-cli && bash scripts/e2e-local-llm.sh target/debug/sf"
fi
if [ -z "${SF_SKIP_WORKER:-}" ]; then
    layer "worker tools" bash scripts/setup-worker-tools.sh
    # The same black-box suite and copilot golden set as the native host, against `wrangler dev`.
    layer "worker end to end (wrangler dev)" env \
        SF_CONFORMANCE_CMD='target/debug/sf conformance --base-url "$SF_BASE_URL" --mock-port "$SF_MOCK_PORT" && target/debug/sf eval --base-url "$SF_BASE_URL" fixtures/copilot/prompts.jsonl fixtures/copilot/extra.jsonl' \
        bash -c "cargo build --locked -q -p sf-cli && bash scripts/worker.sh e2e"
fi

if [ "$failed" -gt 0 ]; then
    printf 'failed layer: %s\n' "${failures[@]}"
fi
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
