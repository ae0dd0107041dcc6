-- Interaction index and outcomes (CONTRACT.md section 10.4), as explicit tables.
-- Applied by `wrangler d1 migrations apply` on Cloudflare and by sf-server at boot;
-- both record the file name in `d1_migrations`, so each file runs once.

CREATE TABLE copilot_events_v1 (
  requestId TEXT PRIMARY KEY NOT NULL,
  day TEXT NOT NULL,
  occurredAtMs INTEGER NOT NULL,
  runtimeEnv TEXT,
  envStage TEXT,
  sessionId TEXT,
  instancePublicId TEXT,
  agentId TEXT NOT NULL,
  widgetType TEXT,
  intent TEXT,
  outcome TEXT,
  hasUrl INTEGER,
  controlCount INTEGER,
  opsCount INTEGER,
  uniquePathsTouched INTEGER,
  scopesTouched TEXT,
  ctaAction TEXT,
  promptVersion TEXT,
  policyVersion TEXT,
  dictionaryHash TEXT,
  aiProfile TEXT,
  taskClass TEXT,
  provider TEXT,
  model TEXT,
  latencyMs INTEGER
);

CREATE INDEX idx_copilot_events_v1_day_agent ON copilot_events_v1(day, agentId);
CREATE INDEX idx_copilot_events_v1_day_stage ON copilot_events_v1(day, envStage);
CREATE INDEX idx_copilot_events_v1_day_widget ON copilot_events_v1(day, widgetType);
CREATE INDEX idx_copilot_events_v1_day_session ON copilot_events_v1(day, sessionId);
CREATE INDEX idx_copilot_events_v1_day_intent_outcome ON copilot_events_v1(day, intent, outcome);

CREATE TABLE copilot_outcomes_v1 (
  requestId TEXT NOT NULL,
  event TEXT NOT NULL,
  day TEXT NOT NULL,
  occurredAtMs INTEGER NOT NULL,
  sessionId TEXT NOT NULL,
  timeToDecisionMs INTEGER,
  accountIdHash TEXT,
  workspaceIdHash TEXT,
  PRIMARY KEY (requestId, event)
);

CREATE INDEX idx_copilot_outcomes_v1_day_event ON copilot_outcomes_v1(day, event);
CREATE INDEX idx_copilot_outcomes_v1_request ON copilot_outcomes_v1(requestId);
