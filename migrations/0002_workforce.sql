-- Workforce OS data model: sessions, interactions, prompt versions, golden examples.
-- sf_sessions and sf_interactions are filled by the events consumer in the same
-- transaction as the copilot_events_v1 row (idempotent by session id / request id);
-- sf_prompts and sf_examples are written by the learning loop.

CREATE TABLE sf_sessions (
  id TEXT PRIMARY KEY NOT NULL,          -- the grant's trace.sessionId (else sub.sessionId)
  agent_id TEXT NOT NULL,                -- agent of the first interaction seen
  created_at_ms INTEGER NOT NULL,        -- earliest interaction seen (events may arrive out of order)
  subject_kind TEXT,                     -- grant sub.kind: anon | user | service
  subject_id TEXT,                       -- sessionId, userId:workspaceId or serviceId
  locale TEXT                            -- grant trace.locale when present
);

CREATE INDEX idx_sf_sessions_agent_created ON sf_sessions(agent_id, created_at_ms);
CREATE INDEX idx_sf_sessions_subject ON sf_sessions(subject_kind, subject_id);

CREATE TABLE sf_interactions (
  id TEXT PRIMARY KEY NOT NULL,          -- requestId, same as copilot_events_v1.requestId
  session_id TEXT REFERENCES sf_sessions(id),
  agent_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,        -- occurredAtMs of the event
  r2_key TEXT NOT NULL,                  -- raw log object: logs/{ENV}/{agentId}/{day}/{requestId}.json
  score REAL                             -- set by the learning loop; NULL until scored
);

CREATE INDEX idx_sf_interactions_session ON sf_interactions(session_id, created_at_ms);
CREATE INDEX idx_sf_interactions_agent_created ON sf_interactions(agent_id, created_at_ms);

CREATE TABLE sf_prompts (
  id TEXT PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  version TEXT NOT NULL,
  prompt_text TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
  UNIQUE (agent_id, version)
);

-- At most one active prompt per agent.
CREATE UNIQUE INDEX idx_sf_prompts_one_active ON sf_prompts(agent_id) WHERE is_active = 1;

CREATE TABLE sf_examples (
  id TEXT PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  score REAL,
  tags_json TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX idx_sf_examples_agent_score ON sf_examples(agent_id, score);
