import { describe, expect, it } from 'vitest';
import { attribute } from '../../reference-pipeline/model/index.ts';
import { ev, judge, landed, rec } from '../../test/fixtures/models/support.ts';
import { checkLatency } from '../checkers/index.ts';
import { History } from '../history/index.ts';
import { createAttributionContract, decodeAttribution } from './attribution.ts';

const events = [
  ev(0, 'u0000001', 'click', 0, 1000),
  ev(1, 'u0000001', 'impression', 1, 1100),
  ev(2, 'u0000001', 'conversion', 2, 1200),
  ev(3, 'u0000003', 'click', 0, 1300),
  ev(4, 'u0000003', 'conversion', 1, 1400),
];
const records = attribute(events).records;
const json = (r: (typeof records)[number], patch: Record<string, unknown> = {}) =>
  rec(r.user_id, JSON.stringify({ ...r, ...patch }), 3000);

describe('attribution contract (the reference model as a model)', () => {
  it('the model produces records for both conversions (the fixture means something)', () => {
    expect(new Set(records.map((r) => r.conversion_id))).toEqual(new Set(['0-2', '0-4']));
  });
  it('exactly the model passes; latency and order per conversion, from its sent_at and user_seq', async () => {
    const c = createAttributionContract();
    expect(c.name).toBe('attribution');
    expect(c.keyAffinity).toBe(true);
    for (const r of records) c.decode(json(r, { credit: r.credit + 1e-12 }));
    const { result, history } = await judge(c, landed(events));
    expect(result).toMatchObject({ checker: 'attribution', valid: true, compare: 'once' });
    expect(result.counts).toMatchObject({ matched: records.length, latencySamples: 2 });
    const e2e = checkLatency(history).e2e;
    expect(e2e?.count).toBe(2);
    expect(e2e?.maxMs).toBeCloseTo(1800, -1);
    expect(history.order.violationCount).toBe(0);
  });
  it('lake rows decode too (BIGINT cells as bigint)', () => {
    const r = records[0]!;
    const row = { ...r, revenue_credit_minor: r.revenue_credit_minor === null ? null : BigInt(r.revenue_credit_minor) };
    expect(decodeAttribution({ ...rec(undefined, ''), row })).toEqual({
      key: r.record_id,
      value: { conversion_id: r.conversion_id, credit: r.credit, revenue_credit_minor: r.revenue_credit_minor },
    });
    expect(() => decodeAttribution(rec('u', '{"record_id":"x"}'))).toThrow(/not an attribution record/);
  });
  it('a wrong credit or revenue share is a mismatch, a repeat duplicated, a made-up record unexpected, a missing one lost', async () => {
    const c = createAttributionContract();
    const [a, b, ...rest] = records;
    c.decode(json(a!, { credit: a!.credit + 0.01 }));
    c.decode(json(b!, { revenue_credit_minor: (b!.revenue_credit_minor ?? 0) + 1 }));
    c.decode(json(b!));
    c.decode(json(a!, { record_id: 'made-up' }));
    expect(rest.length).toBeGreaterThan(0);
    const { result } = await judge(c, landed(events));
    expect(result.anomalyTypes).toEqual(['lost', 'duplicated', 'unexpected', 'mismatch']);
    expect(result.counts).toMatchObject({ mismatch: 2, duplicated: 1, unexpected: 1, lost: rest.length });
    expect(result.mismatch[0]).toMatchObject({ key: a!.record_id, observed: { credit: a!.credit + 0.01 } });
    const full = c.anomalies(new History(), { results: {} } as never) as { lost: unknown[] };
    expect(full.lost).toHaveLength(rest.length);
  });
  it('missing records with an incomplete drain are unknown', async () => {
    const c = createAttributionContract();
    c.decode(json(records[0]!));
    expect((await judge(c, landed(events), false)).result.valid).toBe('unknown');
  });
});
