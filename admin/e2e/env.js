// What the setup, the seed and the tests share.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PORT = Number(process.env.SF_ADMIN_E2E_PORT || 3917);
export const BASE = `http://127.0.0.1:${PORT}`;
export const ADMIN_TOKEN = 'e2e-admin-token-not-for-production';
export const AGENCY_TOKEN = 'e2e-agency-token-not-for-production';
export const DATA_DIR = path.join(ROOT, 'admin', 'test-results', 'sf-data');
export const PID_FILE = path.join(ROOT, 'admin', 'test-results', 'sf.pid');
export const SHOTS = path.join(ROOT, 'admin', 'artifacts', 'screenshots');
export const SF_BIN = process.env.SF_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug', 'sf');
export const INTERACTIONS = Number(process.env.SF_ADMIN_E2E_INTERACTIONS || 10000);

/** An admin API call with the bearer token (what the tests check the UI's effects with). */
export async function admin(method, p, body) {
  const res = await fetch(BASE + p, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}
