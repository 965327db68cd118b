// The admin API with the operator's token: kept in this tab's
// sessionStorage only (closing the tab forgets it), sent as a bearer
// header, never in a URL.

const KEY = 'offpay-console-token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

// APIError is a refusal of the API: its status, code and message.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// parseJSON keeps integers beyond 2^53 exact as BigInt (the API's
// amounts are int64).
export function parseJSON(text) {
  return JSON.parse(text, (k, v, ctx) =>
    typeof v === 'number' && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source) ? BigInt(ctx.source) : v);
}

function stringify(body) {
  return JSON.stringify(body, (k, v) => {
    if (typeof v !== 'bigint') return v;
    if (typeof JSON.rawJSON === 'function') return JSON.rawJSON(v.toString());
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    throw new Error('This browser cannot send an amount this large exactly: use offpay ledger account deposit.');
  });
}

// api calls method path with the token; it returns the decoded answer
// (null for 204) or throws APIError.
export async function api(method, path, body, tok) {
  const headers = { Authorization: 'Bearer ' + (tok ?? token.get() ?? ''), Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, 'unreachable', 'The ledger did not answer (' + e.message + ').');
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try {
      data = parseJSON(text);
    } catch {
      throw new APIError(r.status, 'invalid', 'The ledger answered something that is not JSON (status ' + r.status + ').');
    }
  }
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new APIError(r.status, e.code || 'http_' + r.status, e.message || 'status ' + r.status);
  }
  return data;
}

// enc escapes one path segment (account names may hold anything).
export const enc = encodeURIComponent;
