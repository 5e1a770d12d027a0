/**
 * The rolling-restart fault: its validation (path-named errors), and the roll itself on the fake context and the
 * virtual clock (every broker in turn, in sync before each and after the last, recorded start and heal, cut short
 * by abort with every broker started again).
 */
import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { applyFault } from './apply.ts';
import { FakeClock, fakeContext } from './fake-context.ts';
import { type FaultEventRecord, planFaults, runSchedule } from './schedule.ts';
import type { FaultSpec } from './spec.ts';
import { validateFault, validateFaults } from './validate.ts';

function messageOf(raw: unknown, path = 'faults[2]'): string {
  try {
    validateFault(raw, path, { brokers: 3, sutInstances: 2 });
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return (err as StreamproofError).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('rolling-restart: validation', () => {
  const valid: FaultSpec[] = [
    { at: '30s', kind: 'rolling-restart', target: 'brokers' },
    { at: 'random', kind: 'rolling-restart', target: 'brokers', for: '2s', syncTimeout: '90s', name: 'roll' },
    { at: 0, kind: 'rolling-restart', target: 'brokers', for: 0, syncTimeout: 5000 },
  ];
  it.each(valid.map((s) => [JSON.stringify(s), s] as const))('accepts %s', (_, spec) => {
    expect(validateFault(spec, 'faults[0]', { brokers: 3 })).toEqual(spec);
  });

  const bad: [string, unknown, string][] = [
    [
      'a broker target',
      { at: '1s', kind: 'rolling-restart', target: 'broker:1' },
      'faults[2].target: expected "brokers" (every broker in turn) for a rolling-restart fault, got "broker:1"',
    ],
    [
      'a connection target',
      { at: '1s', kind: 'rolling-restart', target: 'sut->kafka' },
      'faults[2].target: expected "brokers"',
    ],
    ['no target', { at: '1s', kind: 'rolling-restart' }, 'faults[2].target: expected "brokers"'],
    [
      '"brokers" on a process fault',
      { at: '1s', kind: 'restart', target: 'brokers' },
      'faults[2].target: expected a process target ("sut", "sut:I" or "broker:N") for a restart fault, got "brokers"',
    ],
    [
      '"brokers" on a network fault',
      { at: '1s', for: '1s', kind: 'partition', target: 'brokers' },
      'faults[2].target: expected a connection target',
    ],
    ['no at', { kind: 'rolling-restart', target: 'brokers' }, 'faults[2].at: expected a duration'],
    [
      'a bad for',
      { at: '1s', kind: 'rolling-restart', target: 'brokers', for: 'soon' },
      'faults[2].for: expected a duration',
    ],
    [
      'a zero syncTimeout',
      { at: '1s', kind: 'rolling-restart', target: 'brokers', syncTimeout: '0s' },
      'faults[2].syncTimeout: expected a duration longer than 0 like "120s", got "0s"',
    ],
    [
      'a bad syncTimeout',
      { at: '1s', kind: 'rolling-restart', target: 'brokers', syncTimeout: -1 },
      'faults[2].syncTimeout: expected a duration',
    ],
    [
      'an unknown field',
      { at: '1s', kind: 'rolling-restart', target: 'brokers', restartAfter: '1s' },
      'faults[2].restartAfter: unknown field for a rolling-restart fault (it takes at, kind, target, name, for, syncTimeout)',
    ],
  ];
  it.each(bad)('%s', (_, raw, message) => {
    expect(messageOf(raw)).toContain(message);
  });

  it('is listed among the kinds a bad kind is told about', () => {
    expect(messageOf({ at: '1s', kind: 'roll', target: 'brokers' })).toContain('"rolling-restart"');
  });

  it('in a list, errors carry the index', () => {
    expect(() =>
      validateFaults([
        { at: '1s', kind: 'kill', target: 'broker:2', restartAfter: '5s' },
        { at: '30s', kind: 'rolling-restart', target: 'broker:*' },
      ]),
    ).toThrow(/^faults\[1\]\.target: expected "brokers"/);
  });

  it('plans to heal when it ends by itself', () => {
    const [p] = planFaults([{ at: '30s', kind: 'rolling-restart', target: 'brokers', for: '2s' }]);
    expect(p).toMatchObject({ faultId: 'faults[0]', atMs: 30_000, forMs: 0, healFrom: 'ended' });
  });
});

describe('rolling-restart: the roll', () => {
  it('each broker in turn: in sync before each stop, stopped, started after `for`, in sync after the last', async () => {
    const clock = new FakeClock();
    const ctx = fakeContext({ brokers: 3 });
    // Out of sync for two polls after broker 2 is back (catching up); else in sync while all run.
    let polls = 0;
    const underReplicated = ctx.underReplicated.bind(ctx);
    const seen: string[] = [];
    Object.assign(ctx, {
      syncPollMs: 250,
      async underReplicated() {
        polls++;
        const now = await underReplicated();
        seen.push(`${ctx.brokers.map((b) => (b.running() ? 'U' : 'D')).join('')}:${now.length}`);
        if (ctx.log.includes('start broker:2') && !ctx.log.includes('stop broker:3') && polls % 3 !== 0)
          return ['t/0 (isr 2 of 3)'];
        return now;
      },
    });
    const spec: FaultSpec = { at: 0, kind: 'rolling-restart', target: 'brokers', for: '2s' };
    const f = await clock.drive(applyFault(spec, ctx, { sleep: clock.sleep, now: clock.now }));
    expect(f.targets).toEqual(['broker:1', 'broker:2', 'broker:3']);
    expect(ctx.log).toEqual(['stop broker:1']);
    await clock.drive(f.ended!);
    expect(ctx.log).toEqual([
      'stop broker:1',
      'start broker:1',
      'stop broker:2',
      'start broker:2',
      'stop broker:3',
      'start broker:3',
    ]);
    // Never stopped a broker while another was down or the cluster out of sync.
    expect(seen.every((s) => s.startsWith('UUU'))).toBe(true);
    expect(f.healed).toBe(true);
    await f.heal();
    expect(ctx.log).toHaveLength(6);
  });

  it('cluster never in sync: the apply fails after syncTimeout, nothing stopped', async () => {
    const clock = new FakeClock();
    const ctx = fakeContext({ brokers: 3 });
    ctx.replication.push(['t/1 (isr 1 of 3)']);
    const spec: FaultSpec = { at: 0, kind: 'rolling-restart', target: 'brokers', syncTimeout: '10s' };
    const err = await clock.drive(applyFault(spec, ctx, { sleep: clock.sleep, now: clock.now })).catch((e) => e);
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('FAULT_APPLY_FAILED');
    expect((err as StreamproofError).message).toContain(
      'not in sync within 10000 ms before stopping broker:1 (1 partition(s) not in sync: t/1 (isr 1 of 3))',
    );
    expect(ctx.log).toEqual([]);
  });

  it('stuck mid-way: ended rejects saying where, the broker it stopped was started again', async () => {
    const clock = new FakeClock();
    const ctx = fakeContext({ brokers: 3 });
    // In sync for the first check, then never again (broker 1 never catches up).
    ctx.replication.push([], ['t/0 (isr 2 of 3)']);
    const spec: FaultSpec = { at: 0, kind: 'rolling-restart', target: 'brokers', syncTimeout: '5s' };
    const f = await clock.drive(applyFault(spec, ctx, { sleep: clock.sleep, now: clock.now }));
    const err = await clock.drive(f.ended!).catch((e) => e);
    expect(String(err)).toContain('not in sync within 5000 ms before stopping broker:2');
    expect(ctx.log).toEqual(['stop broker:1', 'start broker:1']);
    expect(ctx.brokers.every((b) => b.running())).toBe(true);
  });

  it('a start that fails leaves the broker to the heal, which starts it', async () => {
    const clock = new FakeClock();
    const ctx = fakeContext({ brokers: 3 });
    ctx.brokers[0]!.failStart = true;
    const spec: FaultSpec = { at: 0, kind: 'rolling-restart', target: 'brokers' };
    const f = await clock.drive(applyFault(spec, ctx, { sleep: clock.sleep, now: clock.now }));
    await expect(clock.drive(f.ended!)).rejects.toThrow('broker:1 did not start');
    expect(ctx.brokers[0]!.running()).toBe(false);
    expect(f.healed).toBe(false);
    await clock.drive(f.heal());
    expect(ctx.brokers[0]!.running()).toBe(true);
    expect(f.healed).toBe(true);
  });

  it('in the schedule: start when the first broker is down, heal when the roll is over; abort cuts it short', async () => {
    for (const abortAt of [undefined, 3000]) {
      const clock = new FakeClock();
      const ctx = fakeContext({ brokers: 3 });
      const records: FaultEventRecord[] = [];
      const start = clock.time + 1000;
      const abort = new AbortController();
      const faults: FaultSpec[] = [{ at: '1s', kind: 'rolling-restart', target: 'brokers', for: '2s', name: 'roll' }];
      const run = runSchedule(faults, ctx, {
        start,
        now: clock.now,
        sleep: clock.sleep,
        signal: abort.signal,
        record: (r) => records.push(r),
      });
      if (abortAt !== undefined) {
        await clock.advanceTo(start + abortAt);
        abort.abort();
      }
      const result = await clock.drive(run);
      const lines = records.map((r) => `+${r.time - start} ${r.phase} ${r.faultId} ${r.fault} ${r.targets.join(',')}`);
      if (abortAt === undefined) {
        expect(lines).toEqual([
          '+1000 start roll rolling-restart broker:1,broker:2,broker:3',
          '+7000 heal roll rolling-restart broker:1,broker:2,broker:3',
        ]);
        expect(result).toMatchObject({ applied: 1, healed: 1, errors: [], aborted: false });
        expect(ctx.log).toHaveLength(6);
      } else {
        // Aborted while broker 2 was down: it is started at once, broker 3 is never stopped.
        expect(lines).toEqual([
          '+1000 start roll rolling-restart broker:1,broker:2,broker:3',
          '+3000 heal roll rolling-restart broker:1,broker:2,broker:3',
        ]);
        expect(ctx.log).toEqual(['stop broker:1', 'start broker:1', 'stop broker:2', 'start broker:2']);
        expect(result).toMatchObject({ applied: 1, healed: 1, aborted: true });
      }
      expect(ctx.brokers.every((b) => b.running())).toBe(true);
    }
  });
});
