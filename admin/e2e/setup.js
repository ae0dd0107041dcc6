// Starts `sf serve` on a fresh data directory, waits for /healthz, then seeds it:
// interactions and outcomes straight into its SQLite (e2e/seed_events.py: the rows the queue
// consumer and POST /v1/outcome write), a tenant and pending approvals through the API.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, AGENCY_TOKEN, BASE, DATA_DIR, PID_FILE, PORT, ROOT, SF_BIN, INTERACTIONS, admin } from './env.js';

async function waitHealthy(proc) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`sf serve exited (${proc.exitCode}); see ${DATA_DIR}/../sf.log`);
    try {
      const r = await fetch(`${BASE}/healthz`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sf serve did not answer /healthz within 30 s');
}

export default async function setup() {
  if (!fs.existsSync(SF_BIN)) throw new Error(`no sf binary at ${SF_BIN}: cargo build -p sf-cli (or set SF_BIN)`);
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const log = fs.openSync(path.join(DATA_DIR, '..', 'sf.log'), 'w');
  const proc = spawn(
    SF_BIN,
    ['serve', '--addr', `127.0.0.1:${PORT}`, '--data-dir', DATA_DIR, '--threads', '2', '--quiet', '--dev-vars', '/dev/null'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ENVIRONMENT: 'local',
        SF_ADMIN_TOKEN: ADMIN_TOKEN,
        SF_APPROVALS_AGENCY_TOKEN: AGENCY_TOKEN,
        // Approvals' grey zone asks a model; none is configured, so it falls back to pending fast.
        SF_APPROVALS_MODEL_TIMEOUT_MS: '200',
        DEEPSEEK_BASE_URL: 'http://127.0.0.1:9',
        DEEPSEEK_API_KEY: 'e2e-no-upstream',
      },
      stdio: ['ignore', log, log],
      detached: false,
    },
  );
  fs.writeFileSync(PID_FILE, String(proc.pid));
  await waitHealthy(proc);

  execFileSync('python3', [path.join(ROOT, 'admin', 'e2e', 'seed_events.py'), path.join(DATA_DIR, 'sf.sqlite3'), String(INTERACTIONS)], {
    stdio: 'inherit',
  });

  const t = await admin('POST', '/admin/v1/tenants', { slug: 'seeded-co', platform: 'web', tier: 'free' });
  if (t.status !== 201) throw new Error(`seeding a tenant: ${t.status} ${JSON.stringify(t.body)}`);
  for (const [taskId, type] of [
    ['wipe-old-logs', 'data_deletion'],
    ['grant-ci-access', 'permission_changes'],
  ]) {
    const r = await fetch(`${BASE}/api/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENCY_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ taskId, type, description: `Seeded ${type} task`, estimatedCost: 2, agentType: 'Ops' }),
    });
    const body = await r.json();
    if (body.status !== 'pending') throw new Error(`seeding approval ${taskId}: ${r.status} ${JSON.stringify(body)}`);
  }
  const pending = await admin('GET', '/admin/v1/approvals?status=pending');
  if (pending.body.approvals?.length !== 2) throw new Error(`expected 2 pending approvals: ${JSON.stringify(pending.body)}`);
  void ADMIN_TOKEN;
}
