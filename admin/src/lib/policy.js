import { get } from './api.js';

// GET /admin/v1/policy once per page load: agents, tiers and criteria do not change at run time.
let cached = null;
export function policy() {
  if (!cached) cached = get('/admin/v1/policy').catch((e) => {
    cached = null;
    throw e;
  });
  return cached;
}
