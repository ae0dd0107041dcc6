// The admin UI in Debian's Chromium against a seeded `sf serve` (e2e/setup.js). Selectors by
// role and label; every action's effect is checked through the admin API; a screenshot of every
// page goes to admin/artifacts/screenshots/; axe-core must find no serious or critical violation.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ADMIN_TOKEN, BASE, SHOTS, admin } from './env.js';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

fs.mkdirSync(SHOTS, { recursive: true });

async function login(page) {
  await page.goto('/admin/');
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('navigation', { name: 'Admin pages' })).toBeVisible();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function noSeriousA11yViolations(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
}

async function open(page, title) {
  await page.getByRole('navigation', { name: 'Admin pages' }).getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
}

test('a wrong token is refused and the right one opens the overview with the seeded metrics', async ({ page }) => {
  await page.goto('/admin/');
  await expect(page.getByRole('heading', { name: 'San Francisco admin' })).toBeVisible();
  await shot(page, 'login');
  await noSeriousA11yViolations(page);
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That is not the admin token of this gateway.');

  const started = Date.now();
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  const agent = page.getByRole('region', { name: 'sdr.widget.copilot.v1' });
  await expect(agent.getByRole('group', { name: 'Valid ops' })).toContainText(/\d+\.\d %/);
  const ms = Date.now() - started;
  console.log(`overview: login to metrics rendered in ${ms} ms`);
  // The HttpOnly session cookie is invisible to scripts; only the CSRF value is readable.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'sf_admin');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Strict');
  expect(await page.evaluate(() => document.cookie)).not.toContain('sf_admin=');
  expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).not.toContain(ADMIN_TOKEN);
  // The numbers on the page are the API's.
  const m = await admin('GET', '/admin/v1/metrics?agentId=sdr.widget.copilot.v1');
  expect(m.status).toBe(200);
  expect(m.body.days.length).toBeGreaterThan(0);
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(agent.getByText(/interactions in 7 days/)).toBeVisible();
  await expect(agent.locator('.uplot')).toBeVisible();
  await shot(page, 'overview');
  await noSeriousA11yViolations(page);
  // First render with a live session: a fresh load of /admin/ until the metrics are drawn.
  const t0 = Date.now();
  await page.goto('/admin/');
  await expect(agent.getByRole('group', { name: 'Conversion' })).toContainText(/\d+\.\d %/);
  await expect(page.getByRole('region', { name: 'sdr.copilot' }).locator('.uplot')).toBeVisible();
  const reload = Date.now() - t0;
  console.log(`overview: first render (load to all metrics drawn) ${reload} ms`);
  fs.writeFileSync(path.join(SHOTS, '..', 'overview-first-render-ms.txt'), `${reload}\n`);
});

test('create a tenant: the key is shown once and works; the tier changes', async ({ page }) => {
  await login(page);
  await open(page, 'Tenants');
  await expect(page.getByRole('row', { name: /seeded-co/ })).toBeVisible();
  await page.getByLabel('Slug').fill('browser-made');
  await page.getByLabel('Platform').fill('web');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const secret = page.getByRole('region', { name: 'New API key' });
  await expect(secret).toBeVisible();
  const key = (await secret.getByTestId('new-api-key').textContent()).trim();
  expect(key).toMatch(/^sk-sf-/);
  await shot(page, 'tenants');
  await noSeriousA11yViolations(page);

  const list = await admin('GET', '/admin/v1/tenants');
  const made = list.body.tenants.find((t) => t.slug === 'browser-made');
  expect(made).toMatchObject({ platform: 'web', tier: 'free' });
  const models = await fetch(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  expect(models.status).toBe(200);

  await secret.getByRole('button', { name: 'I have stored the key' }).click();
  await expect(secret).toHaveCount(0);
  await expect(page.getByText(key)).toHaveCount(0);

  await page.getByLabel('Tier of browser-made').selectOption('premium');
  await expect.poll(async () => (await admin('GET', '/admin/v1/tenants')).body.tenants.find((t) => t.slug === 'browser-made').tier).toBe('premium');

  await page.getByRole('button', { name: 'Usage of seeded-co' }).click();
  await expect(page.getByText(/0 requests, 0 tokens/)).toBeVisible();
});

test('approve a pending task; the other stays pending', async ({ page }) => {
  await login(page);
  await open(page, 'Approvals');
  await expect(page.getByRole('row', { name: /wipe-old-logs/ })).toBeVisible();
  await shot(page, 'approvals');
  await noSeriousA11yViolations(page);
  await page.getByLabel('Note for wipe-old-logs').fill('Checked the retention rules');
  await page.getByRole('button', { name: 'Approve wipe-old-logs' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'wipe-old-logs' })).toContainText('approved');
  const pending = await admin('GET', '/admin/v1/approvals?status=pending');
  expect(pending.body.approvals.map((a) => a.taskId)).toEqual(['grant-ci-access']);
  const task = await fetch(`${BASE}/api/tasks/wipe-old-logs`, { headers: { authorization: 'Bearer e2e-agency-token-not-for-production' } });
  const t = await task.json();
  expect(t.status).toBe('approved');
});

test('the policy page shows the compiled policy and its version', async ({ page }) => {
  await login(page);
  await open(page, 'Policy');
  const p = await admin('GET', '/admin/v1/policy');
  await expect(page.getByText(p.body.policyVersion).first()).toBeVisible();
  await expect(page.getByRole('table', { name: 'Budgets per agent and profile' }).getByRole('cell', { name: 'sdr.copilot', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Routing rubric (tenants)' })).toBeVisible();
  await shot(page, 'policy');
  await noSeriousA11yViolations(page);
});

for (const [title, api] of [
  ['Review queue', '/admin/v1/review'],
  ['Prompts', '/admin/v1/prompts/sdr.copilot'],
  ['Experiments', '/admin/v1/experiments'],
]) {
  test(`the ${title} page renders (data or its error state)`, async ({ page }) => {
    await login(page);
    await open(page, title);
    const r = await admin('GET', api);
    if (r.status === 404) {
      await expect(page.getByRole('alert')).toContainText('does not serve');
    }
    await shot(page, title.toLowerCase().replace(/ /g, '-'));
    await noSeriousA11yViolations(page);
  });
}

test('logging out ends the session for the API too', async ({ page }) => {
  await login(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByLabel('Admin token')).toBeVisible();
  const status = await page.evaluate(async () => (await fetch('/admin/v1/tenants')).status);
  expect(status).toBe(401);
});

// The review and prompt APIs land from their own issues; until this gateway serves them these
// two tests are skipped (and say so), the page tests above check the 404 state instead.
test('label three review items from the keyboard', async ({ page }) => {
  const first = await admin('GET', '/admin/v1/review?status=unreviewed&limit=20');
  test.skip(first.status === 404, 'GET /admin/v1/review is not served by this build yet');
  expect(first.status).toBe(200);
  test.skip(first.body.items.length < 3, `only ${first.body.items.length} unreviewed items seeded`);
  const ids = first.body.items.slice(0, 3).map((i) => i.requestId);
  await login(page);
  await open(page, 'Review queue');
  await expect(page.getByRole('article', { name: `Interaction ${ids[0]}` })).toBeVisible();
  await shot(page, 'review-queue');
  await page.keyboard.press('1');
  await expect(page.getByRole('article', { name: `Interaction ${ids[1]}` })).toBeVisible();
  await page.keyboard.press('2');
  await expect(page.getByRole('article', { name: `Interaction ${ids[2]}` })).toBeVisible();
  await page.getByLabel('Note (optional)').fill('a model answer');
  await page.getByRole('button', { name: 'Golden (3)' }).click();
  await expect(page.getByText('3 labelled this session')).toBeVisible();
  const all = await admin('GET', '/admin/v1/review?status=all&limit=50');
  const byId = Object.fromEntries(all.body.items.map((i) => [i.requestId, i]));
  expect([byId[ids[0]]?.label, byId[ids[1]]?.label, byId[ids[2]]?.label]).toEqual(['good', 'bad', 'golden']);
  expect(byId[ids[2]].note).toBe('a model answer');
});

test('activate a prompt version', async ({ page }) => {
  const agent = 'sdr.copilot';
  const before = await admin('GET', `/admin/v1/prompts/${agent}`);
  test.skip(before.status === 404, 'GET /admin/v1/prompts/{agentId} is not served by this build yet');
  expect(before.status).toBe(200);
  const made = await admin('POST', `/admin/v1/prompts/${agent}`, { text: 'You are a careful SDR assistant (e2e draft).', note: 'e2e' });
  expect(made.status).toBe(201);
  const version = made.body.version;
  await login(page);
  await open(page, 'Prompts');
  await page.getByLabel('Agent').selectOption(agent);
  await page.getByRole('button', { name: `Activate ${version}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `Version ${version} is now active` })).toBeVisible();
  await shot(page, 'prompts');
  const after = await admin('GET', `/admin/v1/prompts/${agent}`);
  expect(after.body.active).toBe(version);
});
