-- Approvals for agent tasks (runtime/approvals, policy/approvals.yaml).
-- `approvals`: one row per decision (the latest state of a task's approval);
-- `approvals_audit`: every decision, human decision, expiry, halt and cost
-- report, append-only (updates and deletes are refused by triggers).
CREATE TABLE IF NOT EXISTS approvals (
  approval_id    TEXT PRIMARY KEY,
  caller         TEXT NOT NULL,
  task_id        TEXT NOT NULL,
  request_hash   TEXT NOT NULL,
  type           TEXT NOT NULL,
  agent_type     TEXT,
  estimated_cost REAL NOT NULL,
  status         TEXT NOT NULL,
  reason         TEXT,
  day            TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  actual_cost    REAL
);
CREATE INDEX IF NOT EXISTS approvals_by_day ON approvals (day, caller, status);

CREATE TABLE IF NOT EXISTS approvals_audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms       INTEGER NOT NULL,
  day         TEXT NOT NULL,
  caller      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  approval_id TEXT,
  event       TEXT NOT NULL,
  status      TEXT,
  actor       TEXT NOT NULL,
  reason      TEXT,
  cost_usd    REAL
);
CREATE INDEX IF NOT EXISTS approvals_audit_by_day ON approvals_audit (day, id);
CREATE TRIGGER IF NOT EXISTS approvals_audit_no_update BEFORE UPDATE ON approvals_audit
BEGIN SELECT RAISE(ABORT, 'approvals_audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS approvals_audit_no_delete BEFORE DELETE ON approvals_audit
BEGIN SELECT RAISE(ABORT, 'approvals_audit is append-only'); END;
