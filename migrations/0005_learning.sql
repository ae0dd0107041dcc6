-- The learning loop (issue 11): the score the `score-interactions` job writes
-- on each interaction row (policy/learning.yaml), and when it last did.
-- NULL until scored, and for agents the policy does not score.

ALTER TABLE copilot_events_v1 ADD COLUMN score REAL;
ALTER TABLE copilot_events_v1 ADD COLUMN scoredAtMs INTEGER;

CREATE INDEX idx_copilot_events_v1_agent_time ON copilot_events_v1(agentId, occurredAtMs);
CREATE INDEX idx_copilot_events_v1_session_time ON copilot_events_v1(sessionId, occurredAtMs);
