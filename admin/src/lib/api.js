// The admin API client. The browser authenticates with the HttpOnly session cookie that
// POST /admin/v1/session sets; state-changing calls add the session's CSRF value (from the
// script-readable `sf_admin_csrf` cookie) as `x-sf-csrf`. No token is kept anywhere.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)sf_admin_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

/** Listeners told when a call answers 401 (the session ended). */
const onLogout = new Set();
export function whenLoggedOut(fn) {
  onLogout.add(fn);
  return () => onLogout.delete(fn);
}

export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-sf-csrf'] = csrf();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, `The gateway did not answer (${e.message}); is it running?`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = data?.error?.message || data?.message || `${res.status} ${res.statusText}`;
    if (res.status === 401 && path !== '/admin/v1/session') onLogout.forEach((f) => f());
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

export const get = (p) => call('GET', p);
export const post = (p, b) => call('POST', p, b ?? {});
export const patch = (p, b) => call('PATCH', p, b);
export const del = (p) => call('DELETE', p);

export const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const t = s.toString();
  return t ? `?${t}` : '';
};

export const enc = encodeURIComponent;

export function fmtPct(v) {
  return v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`;
}
export function fmtMs(v) {
  return v === null || v === undefined ? '–' : `${Math.round(v).toLocaleString('en')} ms`;
}
export function fmtTime(ms) {
  if (!ms) return '–';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
export function utcDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}
