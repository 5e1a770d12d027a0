import { describe, expect, it } from 'vitest';
import { anomalyViews } from '../../reports/facts.ts';
import { runCheckers } from '../checkers/index.ts';
import { createAttributionContract } from '../contracts/attribution.ts';
import { History } from '../history/index.ts';
import { buildResult } from './result.ts';
import { validateScenario } from './scenario.ts';

const scenario = validateScenario({
  name: 'attr',
  sut: { command: 'reference', contract: 'attribution' },
  load: { rate: 10, duration: '1s' },
});

describe('result of a model-contract run', () => {
  it('carries the model checker counts, mismatches included, and the reports show them', async () => {
    const c = createAttributionContract();
    c.decode({
      key: 'u0000001',
      value: Buffer.from(JSON.stringify({ record_id: 'x', conversion_id: '0-9', credit: 1 })),
      headers: new Map(),
      partition: 0,
      offset: 0,
      time: 1,
    });
    const history = new History();
    await c.finish({ history, input: async () => [], drainComplete: true, committed: {}, outDir: '/tmp' });
    const composed = runCheckers(history, c.checkers());
    const r = buildResult({
      scenario,
      seed: 1,
      outDir: '/tmp/x',
      replay: '',
      versions: {},
      timeline: { started: 0 },
      finished: 1000,
      history,
      composed,
      harnessError: undefined,
      load: null,
      faults: null,
      drain: undefined,
      notes: [],
      observedRecords: 1,
    });
    expect(r.verdict).toBe('fail');
    expect(r.counts).toMatchObject({ unexpected: 1, mismatch: 0, lost: 0 });
    expect(r.anomalies.unexpected).toEqual([{ key: 'x', observed: expect.anything(), reason: expect.any(String) }]);
    expect(anomalyViews(r).map((v) => v.kind)).toEqual(['unexpected']);
    const mism = {
      ...r,
      counts: { ...r.counts, mismatch: 2 },
      anomalies: { ...r.anomalies, mismatch: [{ key: 'k' }] },
    };
    expect(anomalyViews(mism).find((v) => v.kind === 'mismatch')).toEqual({
      kind: 'mismatch',
      count: 2,
      examples: ['{"key":"k"}'],
    });
  });
});
