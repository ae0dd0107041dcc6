#!/usr/bin/env bash
# End to end with the official `openai` Python package: `sf serve` on
# loopback with a small OpenAI-compatible mock upstream (Python, stdlib) as
# the deepseek and openai providers; a tenant is created through the admin
# API, then `openai.OpenAI(base_url=..., api_key=<tenant key>)` lists models,
# completes and streams (usage in the last chunk).
# Installs `openai` from PyPI into the git-ignored .tools/openai-venv; if it
# cannot be installed (offline), the test is skipped with a message.
#
# usage: scripts/e2e-openai-client.sh [path/to/sf]     (default target/debug/sf)
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${1:-target/debug/sf}
VENV=.tools/openai-venv
MOCK_PORT=${MOCK_PORT:-18565}
SF_PORT=${SF_PORT:-18566}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import openai" 2>/dev/null; then
  echo "e2e-openai: installing openai into $VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check "openai>=1.40,<3"; then
    echo "e2e-openai: SKIPPED: the openai package could not be installed from PyPI (offline?)"
    exit 0
  fi
fi

DATA=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

"$VENV/bin/python" - "$MOCK_PORT" > "$DATA/mock.log" 2>&1 <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        out = json.dumps({"id": "cmpl-mock", "object": "chat.completion", "model": body.get("model", "mock"),
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the mock upstream."},
                                       "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)

export ENVIRONMENT=dev SF_ADMIN_TOKEN=e2e-admin-token
export DEEPSEEK_API_KEY=k DEEPSEEK_BASE_URL="http://127.0.0.1:$MOCK_PORT/v1"
export OPENAI_API_KEY=k OPENAI_BASE_URL="http://127.0.0.1:$MOCK_PORT/v1"
"$SF" serve --quiet --addr "127.0.0.1:$SF_PORT" --data-dir "$DATA/sf" --dev-vars /dev/null &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$SF_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

"$VENV/bin/python" - "$SF_PORT" <<'PY'
import json, sys, time, urllib.request
import openai

base = f"http://127.0.0.1:{sys.argv[1]}"
req = urllib.request.Request(f"{base}/admin/v1/tenants", method="POST",
    data=json.dumps({"slug": f"py-{int(time.time() * 1000)}", "platform": "web", "tier": "premium"}).encode(),
    headers={"content-type": "application/json", "authorization": "Bearer e2e-admin-token"})
with urllib.request.urlopen(req) as r:
    created = json.loads(r.read())
key = created["apiKey"]
assert key.startswith("sk-sf-"), created

client = openai.OpenAI(base_url=f"{base}/v1", api_key=key)
models = [m.id for m in client.models.list()]
assert models == ["gpt-4o", "deepseek-chat"], models

res = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Say hello"}],
                                     temperature=0.2, max_tokens=32)
assert res.choices[0].message.content == "Hello from the mock upstream.", res
assert res.usage.total_tokens == 18, res.usage

raw = client.chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": "hi"}])
assert raw.headers.get("x-ratelimit-remaining-requests") is not None, dict(raw.headers)

text, usage = "", None
for chunk in client.chat.completions.create(model="auto", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Say hello"}]):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage
assert text == "Hello from the mock upstream.", text
assert usage is not None and usage.total_tokens == 18, usage

try:
    openai.OpenAI(base_url=f"{base}/v1", api_key="sk-sf-wrong").models.list()
    raise SystemExit("a wrong key must be refused")
except openai.AuthenticationError:
    pass
print(f"e2e-openai: ok (openai {openai.__version__}): models, completion, stream with usage, wrong key refused")
PY
