import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { FakeClock, fakeContext } from './fake-context.ts';
import { type FaultEventRecord, planFaults, runSchedule } from './schedule.ts';
import type { FaultSpec } from './spec.ts';

// At one instant: starts before heals (a fault healed at once), then by id.
const rank = (line: string) => (line.includes(' start ') ? 0 : 1);

function setup(opts: { sut?: number } = {}) {
  const clock = new FakeClock();
  const ctx = fakeContext(opts);
  const records: FaultEventRecord[] = [];
  const start = clock.time + 1000;
  const base = { start, now: clock.now, sleep: clock.sleep, record: (r: FaultEventRecord) => records.push(r) };
  /** Records as `+ms phase faultId`. */
  const timeline = () =>
    records
      .map((r) => ({ t: r.time - start, line: `+${r.time - start} ${r.phase} ${r.faultId}` }))
      // Events at the same instant have no order between them.
      .sort((a, b) => a.t - b.t || rank(a.line) - rank(b.line) || (a.line < b.line ? -1 : 1))
      .map((x) => x.line);
  return { clock, ctx, records, start, base, timeline };
}

describe('runSchedule', () => {
  it('applies at start+at, heals at start+at+for, overlapping, with records of the real times', async () => {
    const { clock, ctx, records, base, timeline } = setup();
    const faults: FaultSpec[] = [
      { at: '10s', for: '3s', kind: 'latency', target: 'sut->kafka', latencyMs: 500, jitterMs: 100 },
      { at: '11s', for: '1s', kind: 'partition', target: 'sut->broker:2', name: 'split' },
      { at: '5s', kind: 'kill', target: 'sut', restartAfter: '1s' },
      { at: '12s', for: '500ms', kind: 'pause', target: 'broker:3' },
    ];
    const result = await clock.drive(runSchedule(faults, ctx, base));
    expect(timeline()).toEqual([
      '+5000 start faults[2]',
      '+6000 heal faults[2]',
      '+10000 start faults[0]',
      '+11000 start split',
      '+12000 start faults[3]',
      '+12000 heal split',
      '+12500 heal faults[3]',
      '+13000 heal faults[0]',
    ]);
    const ops = ctx.log.filter((l) => !l.startsWith('add') && !l.startsWith('remove'));
    expect(ops.sort()).toEqual(
      [
        'kill sut:0',
        'kill sut:1',
        'start sut:0',
        'start sut:1',
        'disable broker-2',
        'enable broker-2',
        'pause broker:3',
        'resume broker:3',
      ].sort(),
    );
    for (const [before, after] of [
      ['kill sut:0', 'start sut:0'],
      ['start sut:1', 'disable broker-2'],
      ['disable broker-2', 'enable broker-2'],
      ['pause broker:3', 'resume broker:3'],
    ] as const) {
      expect(ctx.log.indexOf(before)).toBeLessThan(ctx.log.indexOf(after));
    }
    expect(records[0]).toEqual({
      kind: 'fault',
      time: base.start + 5000,
      phase: 'start',
      faultId: 'faults[2]',
      fault: 'kill',
      target: 'sut',
      spec: faults[2],
      targets: ['sut:0', 'sut:1'],
    });
    expect(records.find((r) => r.faultId === 'faults[0]')?.targets).toEqual(['broker-1', 'broker-2', 'broker-3']);
    expect(result).toMatchObject({ applied: 4, healed: 4, errors: [], unhealed: [], aborted: false });
    expect(ctx.toxiproxy.clean()).toBe(true);
    expect(JSON.parse(JSON.stringify(records))).toEqual(records);
  });

  it('kills and restarts count their downtime from when the process really went down', async () => {
    const { clock, ctx, base, timeline } = setup();
    // A stop that takes 2 s (a controlled shutdown): the 1 s downtime starts after it.
    const slow = ctx.sut[0]!;
    const stop = slow.stop.bind(slow);
    slow.stop = async () => {
      await clock.sleep(2000);
      await stop();
    };
    await clock.drive(runSchedule([{ at: '1s', kind: 'restart', target: 'sut:0', for: '1s' }], ctx, base));
    expect(timeline()).toEqual(['+3000 start faults[0]', '+4000 heal faults[0]']);
  });

  it('a restart without `for` starts again at once', async () => {
    const { clock, ctx, base, timeline } = setup();
    await clock.drive(runSchedule([{ at: '1s', kind: 'restart', target: 'broker:1' }], ctx, base));
    expect(timeline()).toEqual(['+1000 start faults[0]', '+1000 heal faults[0]']);
    expect(ctx.log).toEqual(['stop broker:1', 'start broker:1']);
  });

  it('a kill without restart stays down until the end of the load (durationMs), or `until`', async () => {
    const a = setup();
    await a.clock.drive(
      runSchedule([{ at: '1s', kind: 'kill', target: 'sut:1' }], a.ctx, { ...a.base, durationMs: 30_000 }),
    );
    expect(a.timeline()).toEqual(['+1000 start faults[0]', '+30000 heal faults[0]']);
    const b = setup();
    await b.clock.drive(
      runSchedule([{ at: '1s', kind: 'kill', target: 'sut:1' }], b.ctx, { ...b.base, until: b.start + 7000 }),
    );
    expect(b.timeline()).toEqual(['+1000 start faults[0]', '+7000 heal faults[0]']);
  });

  it('a kill without restart and no end at all is refused before anything runs', async () => {
    const { ctx, base } = setup();
    await expect(runSchedule([{ at: '1s', kind: 'kill', target: 'sut' }], ctx, base)).rejects.toMatchObject({
      code: 'FAULT_SCHEDULE',
    });
    expect(ctx.log).toEqual([]);
  });

  it('abort heals everything applied so far, applies nothing more, then resolves', async () => {
    const { clock, ctx, base, timeline, start } = setup();
    const abort = new AbortController();
    const faults: FaultSpec[] = [
      { at: '1s', for: '10s', kind: 'timeout', target: 'sut->kafka' },
      { at: '2s', kind: 'kill', target: 'broker:2' },
      { at: '3s', for: '1m', kind: 'pause', target: 'sut:0' },
      { at: '20s', for: '1s', kind: 'partition', target: 'sut->kafka' },
    ];
    const run = runSchedule(faults, ctx, { ...base, signal: abort.signal });
    await clock.advanceTo(start + 5000);
    expect(ctx.toxiproxy.clean()).toBe(false);
    expect(ctx.brokers[1]!.state).toBe('dead');
    abort.abort();
    const result = await clock.drive(run);
    expect(result).toMatchObject({ applied: 3, healed: 3, aborted: true, errors: [] });
    expect(timeline()).toEqual([
      '+1000 start faults[0]',
      '+2000 start faults[1]',
      '+3000 start faults[2]',
      '+5000 heal faults[0]',
      '+5000 heal faults[1]',
      '+5000 heal faults[2]',
    ]);
    expect(ctx.toxiproxy.clean()).toBe(true);
    expect([...ctx.brokers, ...ctx.sut].every((p) => p.state === 'running')).toBe(true);
    expect(ctx.log).not.toContain('disable broker-1');
  });

  it('an abort before the start applies nothing', async () => {
    const { ctx, base } = setup();
    const result = await runSchedule([{ at: 0, for: '1s', kind: 'partition', target: 'sut->kafka' }], ctx, {
      ...base,
      signal: AbortSignal.abort(),
    });
    expect(result).toMatchObject({ applied: 0, healed: 0, aborted: true });
    expect(ctx.log).toEqual([]);
  });

  it('a heal that throws is reported (no heal record), and the others still heal', async () => {
    const { clock, ctx, base, timeline } = setup();
    ctx.brokers[0]!.failStart = true;
    const faults: FaultSpec[] = [
      { at: '1s', kind: 'kill', target: 'broker:1', restartAfter: '1s' },
      { at: '1s', for: '1s', kind: 'latency', target: 'sut->kafka', latencyMs: 1 },
      { at: '1s', for: '1s', kind: 'pause', target: 'sut' },
    ];
    const result = await clock.drive(runSchedule(faults, ctx, base));
    expect(result.errors).toEqual([
      {
        faultId: 'faults[0]',
        phase: 'heal',
        message: 'faults[0]: healing kill on broker:1 failed: broker:1 killed: broker:1 did not start',
      },
    ]);
    expect(result.unhealed).toEqual(['faults[0]']);
    expect(result).toMatchObject({ applied: 3, healed: 2 });
    expect(timeline().filter((l) => l.includes('heal'))).toEqual(['+2000 heal faults[1]', '+2000 heal faults[2]']);
    expect(ctx.toxiproxy.clean()).toBe(true);
    expect(ctx.sut.every((p) => p.state === 'running')).toBe(true);
  });

  it('an apply that fails is reported (no records) and the schedule goes on', async () => {
    const { clock, ctx, base, timeline } = setup();
    ctx.toxiproxy.failures.push(/^disable broker-1$/);
    const result = await clock.drive(
      runSchedule(
        [
          { at: '1s', for: '1s', kind: 'partition', target: 'sut->kafka' },
          { at: '2s', for: '1s', kind: 'partition', target: 'sut->kafka' },
        ],
        ctx,
        base,
      ),
    );
    expect(result.errors).toEqual([expect.objectContaining({ faultId: 'faults[0]', phase: 'apply' })]);
    expect(timeline()).toEqual(['+2000 start faults[1]', '+3000 heal faults[1]']);
    expect(ctx.toxiproxy.clean()).toBe(true);
  });

  it('a record callback that throws does not stop the heal', async () => {
    const { clock, ctx, base } = setup();
    const result = await clock.drive(
      runSchedule([{ at: 0, for: '1s', kind: 'partition', target: 'sut->kafka' }], ctx, {
        ...base,
        record: () => {
          throw new Error('history full');
        },
      }),
    );
    expect(result.errors.map((e) => e.phase)).toEqual(['record', 'record']);
    expect(ctx.toxiproxy.clean()).toBe(true);
  });
});

describe('planFaults: seeded random times', () => {
  const faults: FaultSpec[] = [
    { at: 'random', for: '5s', kind: 'partition', target: 'sut->kafka' },
    { at: '3s', for: '1s', kind: 'pause', target: 'sut' },
    { at: 'random', kind: 'kill', target: 'broker:1' },
  ];

  it('replays from the seed, fits in the load, and differs between seeds', () => {
    const a = planFaults(faults, { seed: 42, durationMs: 60_000 });
    expect(planFaults(faults, { seed: 42, durationMs: 60_000 })).toEqual(a);
    expect(a[1]!.atMs).toBe(3000);
    expect(a[0]!.atMs).toBeGreaterThanOrEqual(0);
    expect(a[0]!.atMs).toBeLessThanOrEqual(55_000);
    expect(a[2]!.atMs).toBeLessThan(60_000);
    expect(a[2]!.forMs).toBeUndefined();
    const others = [1, 2, 3, 4].map((seed) => planFaults(faults, { seed, durationMs: 60_000 })[0]!.atMs);
    expect(new Set([a[0]!.atMs, ...others]).size).toBeGreaterThan(1);
    expect(a.map((p) => p.faultId)).toEqual(['faults[0]', 'faults[1]', 'faults[2]']);
  });

  it('needs the seed and the load duration', () => {
    expect(() => planFaults(faults, { seed: 1 })).toThrow(StreamproofError);
    expect(() => planFaults(faults, { durationMs: 1000 })).toThrow(/at: "random" needs the run's seed/);
  });

  it('runSchedule applies a random fault at its drawn time', async () => {
    const { clock, ctx, base, timeline } = setup();
    const opts = { ...base, seed: 7, durationMs: 20_000 };
    const planned = planFaults([faults[0]!], opts)[0]!;
    await clock.drive(runSchedule([faults[0]!], ctx, opts));
    expect(timeline()).toEqual([`+${planned.atMs} start faults[0]`, `+${planned.atMs + 5000} heal faults[0]`]);
  });
});
