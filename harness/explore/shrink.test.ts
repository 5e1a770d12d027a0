import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../faults/index.ts';
import { parseDuration } from '../util/duration.ts';
import { type Replay, type StepVerdict, shrinkSchedule } from './shrink.ts';

const fault = (i: number, forMs = 4000): FaultSpec =>
  ({
    at: `${i * 1000}ms`,
    kind: i % 2 === 0 ? 'pause' : 'latency',
    target: i % 2 === 0 ? 'sut' : 'sut->kafka',
    for: `${forMs}ms`,
    ...(i % 2 === 0 ? {} : { latencyMs: 300 }),
    name: `f${i}`,
  }) as FaultSpec;

const ten = Array.from({ length: 10 }, (_, i) => fault(i + 1));
const forOf = (f: FaultSpec) => parseDuration((f as { for: string }).for, 'for');

/** Fails when f3 (lasting >= 1 s) and f8 are both in the schedule: a bug that needs that pair. */
const pairBug: Replay = async (faults) => {
  const f3 = faults.find((f) => f.name === 'f3');
  const f8 = faults.find((f) => f.name === 'f8');
  return { verdict: f3 && f8 && forOf(f3) >= 1000 ? 'fail' : 'pass' };
};

describe('shrinkSchedule', () => {
  it('shrinks a 10-fault schedule to the pair that fails, each as short as still fails', async () => {
    const out = await shrinkSchedule(ten, pairBug);
    expect(out.reproduced).toBe(true);
    expect(out.exhausted).toBe(false);
    expect(out.minimal.map((f) => f.name)).toEqual(['f3', 'f8']);
    expect(out.minimal.map(forOf)).toEqual([1000, 250]);
    expect(out.flaky).toEqual([]);
    expect(out.steps[0]!.action).toBe('original');
    expect(out.steps.at(-1)!.action).toBe('confirm');
    // Every step is kept with its verdict, numbered.
    expect(out.steps.map((s) => s.step)).toEqual(out.steps.map((_, i) => i + 1));
    expect(out.steps.length).toBeLessThan(40);
  });

  it('a failure that does not come back is reported as flaky and not shrunk', async () => {
    const out = await shrinkSchedule(ten, async () => ({ verdict: 'pass' }));
    expect(out.reproduced).toBe(false);
    expect(out.minimal).toEqual(ten);
    expect(out.steps).toHaveLength(1);
    expect(out.flaky).toEqual([{ action: 'original', verdicts: ['fail', 'pass'] }]);
  });

  it('a minimal schedule that passes on confirmation is reported as flaky', async () => {
    let confirmations = 0;
    const out = await shrinkSchedule(ten, async (faults, action) => {
      if (action === 'confirm') {
        confirmations++;
        return { verdict: 'pass' };
      }
      return pairBug(faults, action);
    });
    expect(confirmations).toBe(1);
    expect(out.flaky).toEqual([{ action: 'minimal schedule', verdicts: ['fail', 'pass'] }]);
  });

  it('stops at maxRuns with the smallest failing schedule so far', async () => {
    const out = await shrinkSchedule(ten, pairBug, { maxRuns: 8 });
    expect(out.exhausted).toBe(true);
    expect(out.steps).toHaveLength(8);
    expect((await pairBug(out.minimal, '')).verdict).toBe('fail');
    expect(out.minimal.length).toBeLessThan(10);
  });

  it('an unknown replay counts as not failing, and is kept as such', async () => {
    const out = await shrinkSchedule(ten, async (faults, action) =>
      faults.length === 5 ? { verdict: 'unknown' } : pairBug(faults, action),
    );
    expect(out.minimal.map((f) => f.name)).toEqual(['f3', 'f8']);
    expect(out.steps.some((s) => s.verdict === 'unknown')).toBe(true);
  });

  it('property: the result fails, and no single removal of it fails (1-minimal)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 3 }),
        async (needed) => {
          const names = needed.map((i) => `f${i}`);
          const replay: Replay = async (faults) => ({
            verdict: (names.every((n) => faults.some((f) => f.name === n)) ? 'fail' : 'pass') as StepVerdict,
          });
          const out = await shrinkSchedule(ten, replay, { maxRuns: 500 });
          expect(out.minimal.map((f) => f.name).sort()).toEqual([...names].sort());
        },
      ),
      { numRuns: 30 },
    );
  });
});
