-- Prompt versions and experiments (issue 11, runtime/learning).
--
-- sf_prompts (0002) gains where a version came from and a note. The policy's
-- prompt file of an agent is its baseline version and is not a row: an agent
-- with no active row runs its baseline.
ALTER TABLE sf_prompts ADD COLUMN source TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE sf_prompts ADD COLUMN note TEXT;
-- When the version was last made active (NULL: a draft never run).
ALTER TABLE sf_prompts ADD COLUMN activated_at_ms INTEGER;

-- One A/B/n test of prompt versions of one agent. `arms_json` is the JSON
-- array of versions; `metric` is `score` or `outcome:<event>`; `status` is
-- running | decided | stopped; a decided test names its winner and keeps the
-- evidence (per arm samples, successes, estimate and interval, the rule's
-- settings) as JSON.
CREATE TABLE sf_experiments (
  id TEXT PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  arms_json TEXT NOT NULL,
  min_per_arm INTEGER NOT NULL,
  alpha REAL NOT NULL,
  -- The winner rule's boundary is tightest around this many samples per arm
  -- (fixed when the test starts: the rule stays valid however often it looks).
  tuned_for INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'decided', 'stopped')),
  created_at_ms INTEGER NOT NULL,
  decided_at_ms INTEGER,
  winner TEXT,
  evidence_json TEXT
);

-- At most one running experiment per agent.
CREATE UNIQUE INDEX idx_sf_experiments_one_running ON sf_experiments(agent_id) WHERE status = 'running';

-- Which prompt an interaction actually ran: the version (the policy's
-- baseline version or an sf_prompts version), the experiment that chose it,
-- and the example-bank entries shown as few-shot examples (JSON array of
-- request ids). `promptVersion` keeps the contract's meta value.
ALTER TABLE copilot_events_v1 ADD COLUMN promptUsed TEXT;
ALTER TABLE copilot_events_v1 ADD COLUMN experimentId TEXT;
ALTER TABLE copilot_events_v1 ADD COLUMN exampleIds TEXT;
CREATE INDEX idx_copilot_events_v1_experiment ON copilot_events_v1(experimentId, promptUsed);
