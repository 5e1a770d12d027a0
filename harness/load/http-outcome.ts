/**
 * What an HTTP response means for each event of its request (docs/load.md, "HTTP load", has the table): 202 (any
 * 2xx) with per-event `results`: `accepted` -> acked, `rejected` -> failed (schema / rules / invalid JSON: the
 * collector DLQ'd it); a 2xx without results -> acked; an index missing from results -> unknown. 429 (throttled
 * before anything was produced) -> failed, counted as `throttled`; other 4xx (401, 413, 400, ...) -> failed; 5xx (the
 * collector's 503 means some chunks may have been produced) -> unknown; no response (timeout, connection closed or
 * refused) -> unknown.
 */
import type { Outcome } from '../history/index.ts';
import type { HttpResponse } from './http-connection.ts';

export interface RequestOutcomes {
  /** One per event of the request, in body order. */
  outcomes: Outcome[];
  /** Why, for events not acked (per event when the collector said so). */
  errors: (string | undefined)[];
  throttled: number;
  rejected: number;
}

/**
 * The outcome of every event of one request, from the response (or its absence: `undefined`). Pure: the table in
 * the module comment.
 */
export function outcomesOf(n: number, r: HttpResponse | undefined, noResponse = 'no response'): RequestOutcomes {
  const all = (o: Outcome, e: string | undefined): RequestOutcomes => ({
    outcomes: new Array<Outcome>(n).fill(o),
    errors: new Array<string | undefined>(n).fill(e),
    throttled: 0,
    rejected: 0,
  });
  if (r === undefined) return all('unknown', noResponse);
  const s = r.status;
  const brief = `HTTP ${s}${errorText(r.body)}`;
  if (s === 429) {
    const retry = header(r.headers, 'retry-after');
    return {
      ...all('failed', `${brief} (throttled${retry ? `, retry-after ${retry}` : ''})`),
      throttled: n,
    };
  }
  if (s >= 400 && s < 500) return all('failed', brief);
  if (s < 200 || s >= 300) return all('unknown', brief);
  let results: unknown;
  try {
    results = r.body.trim() === '' ? undefined : (JSON.parse(r.body) as { results?: unknown }).results;
  } catch {
    results = undefined;
  }
  if (!Array.isArray(results)) return all('acked', undefined);
  const out = all('unknown', `HTTP ${s} without a result for this event`);
  for (const x of results) {
    const res = x as { index?: unknown; status?: unknown; reason?: unknown };
    if (!Number.isInteger(res.index) || (res.index as number) < 0 || (res.index as number) >= n) continue;
    const i = res.index as number;
    if (res.status === 'accepted') {
      out.outcomes[i] = 'acked';
      out.errors[i] = undefined;
    } else if (res.status === 'rejected') {
      out.outcomes[i] = 'failed';
      out.errors[i] = `rejected: ${typeof res.reason === 'string' ? res.reason.slice(0, 300) : 'no reason given'}`;
      out.rejected++;
    }
  }
  return out;
}

function header(h: HttpResponse['headers'], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function errorText(body: string): string {
  // Most answers (every 202) have no error: skip the parse, and the exception an empty body would throw.
  if (!body.includes('"error"')) return '';
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' ? `: ${e.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
