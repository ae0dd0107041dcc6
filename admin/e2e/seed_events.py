#!/usr/bin/env python3
"""Seeds N copilot interactions over the last 14 UTC days into a running `sf serve`'s SQLite:
copilot_events_v1 rows (as the queue consumer files them) and copilot_outcomes_v1 rows (as
POST /v1/outcome files them). Deterministic (seeded RNG). Usage: seed_events.py DB N"""
import random
import sqlite3
import sys
import time

db, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
now_ms = int(time.time() * 1000)
day_ms = 86_400_000
agents = ["sdr.widget.copilot.v1", "cs.widget.copilot.v1", "sdr.copilot"]
con = sqlite3.connect(db, timeout=30)
events, outcomes = [], []
for i in range(n):
    agent = agents[i % len(agents)]
    at = now_ms - rng.randrange(0, 14 * day_ms)
    day = time.strftime("%Y-%m-%d", time.gmtime(at / 1000))
    rid = f"seed-{i:06d}"
    session = f"sess-{i // 4:05d}"
    version = "v2" if rng.random() < 0.5 else "v1"
    outcome = "ops_applied" if rng.random() < (0.9 if version == "v2" else 0.78) else "invalid_ops"
    latency = int(rng.lognormvariate(7.3, 0.6))
    events.append((rid, day, at, "local", session, agent, "faq", "edit", outcome, 2, version, "pol-seed", latency))
    if rng.random() < 0.7:
        ev = "ux_undo" if rng.random() < 0.15 else "ux_keep"
        outcomes.append((rid, ev, day, at + 5000, session, 4000))
    if rng.random() < 0.06:
        outcomes.append((rid, "signup_completed", day, at + 60000, session, None))
con.executemany(
    "INSERT OR REPLACE INTO copilot_events_v1 (requestId, day, occurredAtMs, runtimeEnv, sessionId, agentId, widgetType, intent, outcome, opsCount, promptVersion, policyVersion, latencyMs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    events,
)
con.executemany(
    "INSERT OR REPLACE INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId, timeToDecisionMs) VALUES (?,?,?,?,?,?)",
    outcomes,
)
con.commit()
print(f"seed_events: {len(events)} interactions, {len(outcomes)} outcomes into {db}")
