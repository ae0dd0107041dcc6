-- Tenants (runtime/tenants, issue 13). Times are epoch milliseconds.
-- `tenants`: one row per tenant (tier from policy/tenancy.yaml);
-- `tenant_keys`: API keys, stored as the SHA-256 of their secret (the key is
-- shown once at creation), revocable, with an optional expiry;
-- `usage`: one row per chat completion.
CREATE TABLE IF NOT EXISTS tenants (
  id         TEXT PRIMARY KEY,
  slug       TEXT NOT NULL UNIQUE,
  platform   TEXT NOT NULL,
  tier       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS tenant_keys (
  key_id     TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id),
  key_hash   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS tenant_keys_by_tenant ON tenant_keys (tenant_id);

CREATE TABLE IF NOT EXISTS usage (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id  TEXT NOT NULL,
  model      TEXT NOT NULL,
  tokens_in  INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  cost_usd   REAL NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_tenant ON usage (tenant_id, created_at);
