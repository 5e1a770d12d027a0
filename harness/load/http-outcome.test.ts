import { describe, expect, it } from 'vitest';
import type { HttpResponse } from './http-connection.ts';
import { outcomesOf } from './http-outcome.ts';

describe('outcomesOf', () => {
  const res = (status: number, body: unknown = '', headers: HttpResponse['headers'] = {}): HttpResponse => ({
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
  });

  it('maps per-event results of a 202: accepted -> acked, rejected -> failed, missing -> unknown', () => {
    const o = outcomesOf(
      4,
      res(202, {
        accepted: 2,
        rejected: 1,
        results: [
          { index: 0, status: 'accepted', event_id: '0-0' },
          { index: 1, status: 'rejected', reason: 'rules: revenue < 0' },
          { index: 3, status: 'accepted', event_id: '0-3' },
          { index: 9, status: 'accepted' },
        ],
      }),
    );
    expect(o.outcomes).toEqual(['acked', 'failed', 'unknown', 'acked']);
    expect(o.errors[1]).toContain('revenue < 0');
    expect(o.rejected).toBe(1);
  });

  it('a 2xx without per-event results acks the whole request', () => {
    expect(outcomesOf(3, res(202)).outcomes).toEqual(['acked', 'acked', 'acked']);
    expect(outcomesOf(2, res(200, 'ok')).outcomes).toEqual(['acked', 'acked']);
  });

  it('429 refuses every event (failed, counted as throttled) and reports Retry-After', () => {
    const o = outcomesOf(2, res(429, { error: 'too many events in flight' }, { 'retry-after': '1' }));
    expect(o.outcomes).toEqual(['failed', 'failed']);
    expect(o.throttled).toBe(2);
    expect(o.errors[0]).toContain('retry-after 1');
  });

  it('other 4xx fail, 5xx and no response are unknown', () => {
    for (const s of [400, 401, 404, 413]) expect(outcomesOf(2, res(s)).outcomes).toEqual(['failed', 'failed']);
    for (const s of [500, 502, 503]) expect(outcomesOf(2, res(s)).outcomes).toEqual(['unknown', 'unknown']);
    expect(outcomesOf(2, undefined, 'timed out')).toMatchObject({ outcomes: ['unknown', 'unknown'] });
    expect(outcomesOf(1, res(401, { error: 'missing or wrong bearer token' })).errors[0]).toBe(
      'HTTP 401: missing or wrong bearer token',
    );
  });
});
