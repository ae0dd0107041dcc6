-- The learning loop's review queue and business outcomes (issue 11).
--
-- sf_reviews: a reviewer's label on one interaction (POST /admin/v1/review/{requestId});
-- the last label wins. `golden` puts the interaction in its agent's example bank
-- (job update-example-banks), `bad` keeps it out, `good` is informational.
-- Rows outlive their interaction's raw log: a label is a human's work.
CREATE TABLE sf_reviews (
  request_id TEXT PRIMARY KEY NOT NULL,  -- copilot_events_v1.requestId
  agent_id TEXT NOT NULL,
  label TEXT NOT NULL CHECK (label IN ('good', 'bad', 'golden')),
  note TEXT,
  labeled_at_ms INTEGER NOT NULL
);

CREATE INDEX idx_sf_reviews_agent_label ON sf_reviews(agent_id, label);

-- When the session of an interaction converted (a signup_completed or
-- upgrade_completed outcome on it, or later in its session) and paid
-- (upgrade_completed): set by the on-user-converted / on-user-paid jobs, read
-- by the `converted` and `paid` signals of policy/learning.yaml.
ALTER TABLE copilot_events_v1 ADD COLUMN convertedAtMs INTEGER;
ALTER TABLE copilot_events_v1 ADD COLUMN paidAtMs INTEGER;

-- The review queue lists newest first; conversions are found by session.
CREATE INDEX idx_copilot_events_v1_time ON copilot_events_v1(occurredAtMs, requestId);
CREATE INDEX idx_copilot_outcomes_v1_session ON copilot_outcomes_v1(sessionId, event);
