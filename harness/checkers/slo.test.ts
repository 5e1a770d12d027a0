import { describe, expect, it } from 'vitest';
import { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { checkSlo, slo } from './slo.ts';
import { parseThreshold, parseThresholds } from './threshold.ts';

const T = 1_700_000_000_000;

/** 5 s of output at 100/s, latencies 1..100 ms; 1000 offers of which 10 failed. */
function run(): History {
  const h = new History();
  for (let i = 0; i < 1000; i++) {
    const sentAt = T + i * 5;
    const id = `0-${i}`;
    h.record({ kind: 'offered', time: sentAt, eventId: id, userId: 'u', userSeq: i, sentAt });
    h.record({ kind: 'outcome', time: sentAt + 4, eventId: id, outcome: i % 100 === 0 ? 'failed' : 'acked', sentAt });
  }
  for (let i = 0; i < 500; i++) {
    const time = T + i * 10;
    h.record({
      kind: 'observed',
      time,
      eventId: `0-${i}`,
      key: 'u',
      partition: 0,
      offset: i,
      userSeq: i,
      sentAt: time - (1 + (i % 100)),
    });
  }
  return h;
}

describe('threshold parsing', () => {
  it('parses the k6 forms and normalises units', () => {
    expect(parseThreshold('e2e_latency', 'p(95)<500ms')).toMatchObject({
      aggregation: 'p',
      percentile: 95,
      operator: '<',
      limit: 500,
      unit: 'ms',
    });
    expect(parseThreshold('e2e_latency', 'p(99.9)<=2s')).toMatchObject({
      percentile: 99.9,
      operator: '<=',
      limit: 2000,
    });
    expect(parseThreshold('ack_latency', 'max < 1s')).toMatchObject({ aggregation: 'max', limit: 1000 });
    expect(parseThreshold('ack_latency', 'avg<250us')).toMatchObject({ limit: 0.25 });
    expect(parseThreshold('e2e_latency', 'med<40')).toMatchObject({ aggregation: 'med', limit: 40, unit: 'ms' });
    expect(parseThreshold('throughput', 'avg>40000/s')).toMatchObject({
      aggregation: 'avg',
      operator: '>',
      limit: 40000,
      unit: 'per-second',
    });
    expect(parseThreshold('error_rate', 'rate<0.01')).toMatchObject({
      aggregation: 'rate',
      limit: 0.01,
      unit: 'ratio',
    });
    expect(parseThreshold('error_rate', 'rate<=1%')).toMatchObject({ limit: 0.01 });
    expect(parseThreshold('throughput', 'count>=1000')).toMatchObject({ aggregation: 'count', unit: 'count' });
  });

  it('a parse error names the path and the bad expression, with a stable code', () => {
    const cases: [string, string, RegExp][] = [
      ['e2e_latency', 'p(95)<<500ms', /slos\.e2e_latency\[0\]: bad threshold "p\(95\)<<500ms"/],
      ['e2e_latency', 'p95<500ms', /expected <aggregation>/],
      ['e2e_latency', 'p(101)<5s', /above 100/],
      ['e2e_latency', 'rate<0.1', /does not apply/],
      ['e2e_latency', 'p(95)<5/s', /not a time unit/],
      ['throughput', 'avg>40000ms', /per second/],
      ['error_rate', 'avg<0.1', /is a rate/],
      ['error_rate', 'rate<2', /fraction/],
    ];
    for (const [metric, expr, message] of cases) {
      let error: unknown;
      try {
        parseThresholds({ [metric]: [expr] });
      } catch (e) {
        error = e;
      }
      expect(error, expr).toBeInstanceOf(StreamproofError);
      expect((error as StreamproofError).code, expr).toBe('SLO_PARSE');
      expect((error as StreamproofError).message, expr).toMatch(message);
    }
    expect(() => slo({ latency_p95: ['p(95)<1s'] })).toThrowError(
      expect.objectContaining({ code: 'SLO_UNKNOWN_METRIC', details: { path: 'slos.latency_p95[0]' } }),
    );
  });
});

describe('slo', () => {
  it('passes thresholds the run meets, with the observed values', () => {
    const r = slo({
      e2e_latency: ['p(95)<500ms', 'max<1s', 'p(99.9)<=2s'],
      throughput: 'avg>=99/s',
      error_rate: ['rate<0.02'],
    }).check(run());
    expect(r.valid).toBe(true);
    expect(r.thresholds.map((t) => t.ok)).toEqual([true, true, true, true, true]);
    expect(r.thresholds[0]!.observed).toBeCloseTo(95, 0);
    expect(r.thresholds[3]!.observed).toBe(100);
    expect(r.thresholds[4]!.observed).toBeCloseTo(0.01, 5);
  });

  it('slo-breach', () => {
    const r = slo({ e2e_latency: ['p(95)<50ms'], error_rate: 'rate<0.001', throughput: ['avg>40000/s'] }).check(run());
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['slo-breach']);
    expect(r.breaches.map((b) => b.expression)).toEqual(['p(95)<50ms', 'rate<0.001', 'avg>40000/s']);
  });

  it('a threshold without data is unknown, never a pass', () => {
    const r = checkSlo(new History(), parseThresholds({ ack_latency: ['p(99)<1s'], error_rate: ['rate<0.1'] }));
    expect(r.valid).toBe('unknown');
    expect(r.thresholds.map((t) => [t.ok, t.observed])).toEqual([
      ['unknown', null],
      ['unknown', null],
    ]);
  });

  it('no thresholds is a pass', () => {
    expect(slo({}).check(run()).valid).toBe(true);
  });

  it('error_rate leaves bad events out: refusing one at ingest is no error, a good one refused is', () => {
    const h = new History();
    for (let seq = 0; seq < 10; seq++) {
      const eventId = `0-${seq}`;
      h.record({ kind: 'offered', time: seq, eventId, userId: 'u1', userSeq: seq, sentAt: seq, bad: seq < 4 });
      // Bad events 0-3 refused (failed); good event 4 failed too; 5-9 acked.
      const outcome = seq <= 4 ? ('failed' as const) : ('acked' as const);
      h.record({ kind: 'outcome', time: 20 + seq, eventId, outcome, sentAt: seq });
    }
    const r = checkSlo(h, parseThresholds({ error_rate: ['rate<0.5'] }));
    expect(r.thresholds[0]!.observed).toBeCloseTo(1 / 6, 9);
  });
});
