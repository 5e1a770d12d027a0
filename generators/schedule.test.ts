import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from './bulk.ts';
import { DEFAULT_START_TIME } from './model.ts';
import { type LoadStage, SendSchedule, stagesOption } from './schedule.ts';

const T0 = DEFAULT_START_TIME;

/** Events with a send time before `start + ms` (what the load driver will have offered by then). */
function dueBy(s: SendSchedule, ms: number, limit: number): number {
  let n = 0;
  while (n < limit && s.at(n) < T0 + ms) n++;
  return n;
}

/** The integral of the piecewise-linear rate up to `ms`: how many events should be due by then. */
function integral(stages: readonly LoadStage[], ms: number): number {
  let n = 0;
  let t = 0;
  for (const st of stages) {
    const r1 = st.endRate ?? st.rate;
    const d = Math.min(st.durationMs, Math.max(0, ms - t));
    n += (st.rate * d + ((r1 - st.rate) * d * d) / (2 * st.durationMs)) / 1000;
    t += st.durationMs;
  }
  return n;
}

describe('send schedule', () => {
  it('without stages: startTime + floor(i * 1000 / ratePerSec), as before stages existed', () => {
    const s = new SendSchedule(T0, 10_000, undefined);
    for (const i of [0, 1, 9, 10, 11, 12_345, 9_999_999]) expect(s.at(i)).toBe(T0 + Math.floor(i * (1000 / 10_000)));
    const s3 = new SendSchedule(T0, 3, undefined);
    expect([0, 1, 2, 3].map((i) => s3.at(i) - T0)).toEqual([0, 333, 666, 1000]);
  });

  it('one steady stage sends what ratePerSec sends, and goes on at its rate after the stage', () => {
    const steady = new SendSchedule(T0, 1, [{ durationMs: 1000, rate: 7000 }]);
    const plain = new SendSchedule(T0, 7000, undefined);
    for (let i = 0; i < 20_000; i++) expect(steady.at(i)).toBe(plain.at(i));
    expect(steady.events).toBe(Number.POSITIVE_INFINITY);
  });

  it('ramp, steady, spike: the events due by any time follow the integral of the rate (within one event)', () => {
    const stages: LoadStage[] = [
      { durationMs: 2000, rate: 0, endRate: 5000 },
      { durationMs: 3000, rate: 5000 },
      { durationMs: 500, rate: 40_000 },
      { durationMs: 1000, rate: 5000, endRate: 0 },
    ];
    const s = new SendSchedule(T0, 1, stages);
    const total = integral(stages, 6500);
    expect(total).toBe(5000 + 15_000 + 20_000 + 2500);
    expect(s.events).toBe(total);
    for (const ms of [1, 10, 500, 1000, 1999, 2000, 2001, 3500, 5000, 5250, 5500, 5600, 6000, 6499, 6500]) {
      expect(Math.abs(dueBy(s, ms, s.events) - integral(stages, ms)), `at ${ms} ms`).toBeLessThanOrEqual(1);
    }
    // The ramp starts slowly: the first second of 0 -> 5000/s holds a quarter of the ramp's 5000 events.
    expect(dueBy(s, 1000, s.events)).toBeCloseTo(1250, -1);
    expect(() => s.at(s.events)).toThrowError(/holds 42500 events/);
  });

  it('property: non-decreasing, inside the stages, fill equals at, totals match the integral', () => {
    const stage = fc.record(
      {
        durationMs: fc.integer({ min: 1, max: 3000 }),
        rate: fc.integer({ min: 0, max: 20_000 }),
        endRate: fc.integer({ min: 0, max: 20_000 }),
      },
      { requiredKeys: ['durationMs', 'rate'] },
    );
    fc.assert(
      fc.property(fc.array(stage, { minLength: 1, maxLength: 5 }), (stages) => {
        const total = integral(stages, Number.POSITIVE_INFINITY);
        const last = stages[stages.length - 1]!;
        fc.pre(total >= 1 || (last.endRate ?? last.rate) > 0);
        const s = new SendSchedule(T0, 1, stagesOption('stages', stages));
        const n = Math.min(Number.isFinite(s.events) ? s.events : Math.ceil(total) + 100, 50_000);
        const filled = new Float64Array(n);
        s.fill(filled, 0, 0, n);
        const duration = stages.reduce((a, st) => a + st.durationMs, 0);
        // Plain checks in the loop (an expect per element would dominate the run), one expect per property.
        let problem = '';
        for (let i = 0; i < n && problem === ''; i++) {
          const t = filled[i]!;
          if (t !== s.at(i)) problem = `fill[${i}] = ${t}, at(${i}) = ${s.at(i)}`;
          else if (i > 0 && t < filled[i - 1]!) problem = `sent_at decreases at ${i}`;
          else if (i < total && t - T0 > duration) problem = `event ${i} at ${t - T0} ms, after the stages`;
        }
        expect(problem).toBe('');
        if (Number.isFinite(s.events)) expect(s.events).toBe(Math.ceil(total));
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('validates stages once, naming the path', () => {
    expect(() => stagesOption('bulk.stages', [])).toThrowError(/bulk.stages: expected a list of 1..10000 stages/);
    expect(() =>
      stagesOption('bulk.stages', [
        { durationMs: 10, rate: 5 },
        { durationMs: 10, rate: -1 },
      ]),
    ).toThrowError(/bulk.stages\[1\].rate: expected a rate in events\/s/);
    expect(() => stagesOption('bulk.stages', [{ durationMs: 0, rate: 5 }])).toThrowError(/bulk.stages\[0\].durationMs/);
    expect(() => stagesOption('bulk.stages', [{ durationMs: 5, rate: 5, endrate: 1 }])).toThrowError(
      /bulk.stages\[0\].endrate: expected one of durationMs, rate, endRate/,
    );
    expect(() => stagesOption('bulk.stages', [{ durationMs: 10, rate: 0 }])).toThrowError(/at least one event/);
    expect(() => createBulkGenerator({ ratePerSec: 5, stages: [{ durationMs: 1, rate: 5 }] })).toThrowError(
      /bulk.stages: expected either stages or ratePerSec, not both/,
    );
  });
});

describe('bulk generator with stages', () => {
  it('sent_at in the batch, in the bytes and in eventAt follow the schedule; a finite schedule ends cleanly', () => {
    const stages: LoadStage[] = [
      { durationMs: 1000, rate: 0, endRate: 4000 },
      { durationMs: 500, rate: 20_000 },
      { durationMs: 1000, rate: 2000, endRate: 0 },
    ];
    const g = createBulkGenerator({ seed: 3, users: 100, stages, startTime: T0 });
    const s = g.model.schedule;
    expect(s.events).toBe(2000 + 10_000 + 1000);
    const b = g.nextBatch(s.events);
    for (let i = 0; i < b.count; i += 97) {
      expect(b.sentAt[i]).toBe(s.at(i));
      expect(b.event(i).sent_at).toBe(s.at(i));
      expect(g.eventAt(i).sent_at).toBe(s.at(i));
    }
    expect(() => g.nextBatch(1)).toThrowError(/holds 13000 events/);
    expect(g.position).toBe(s.events);
  });
});
