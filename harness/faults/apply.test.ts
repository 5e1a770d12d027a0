import { describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { applyFault, healAll } from './apply.ts';
import { fakeContext } from './fake-context.ts';
import type { FaultSpec, ToxicFault } from './spec.ts';

const net = { at: 0, for: '1s' } as const;

function toxicsOf(ctx: ReturnType<typeof fakeContext>, proxy: string) {
  return [...ctx.toxiproxy.proxies.get(proxy)!.toxics.values()];
}

describe('applyFault: toxics', () => {
  it('latency on sut->kafka adds one toxic per direction on every broker proxy; heal removes them all', async () => {
    const ctx = fakeContext();
    const f = await applyFault({ ...net, kind: 'latency', target: 'sut->kafka', latencyMs: 500, jitterMs: 100 }, ctx, {
      faultId: 'faults[1]',
    });
    expect(f.targets).toEqual(['broker-1', 'broker-2', 'broker-3']);
    expect(f.toxics).toHaveLength(2);
    for (const proxy of f.targets) {
      const toxics = toxicsOf(ctx, proxy);
      expect(toxics.map((t) => t.stream).sort()).toEqual(['downstream', 'upstream']);
      for (const t of toxics) {
        expect(t).toMatchObject({ type: 'latency', toxicity: 1, attributes: { latency: 500, jitter: 100 } });
        expect(t.name).toMatch(/^sp-[0-9a-f]{6}-\d+-faults_1_-latency-(up|down)$/);
      }
    }
    expect(f.healed).toBe(false);
    await f.heal();
    expect(f.healed).toBe(true);
    expect(ctx.toxiproxy.clean()).toBe(true);
    const calls = ctx.log.length;
    await f.heal();
    expect(ctx.log.length).toBe(calls);
  });

  it('one stream and a toxicity give one toxic with those settings, on the named broker only', async () => {
    const ctx = fakeContext();
    await applyFault({ ...net, kind: 'timeout', target: 'sut->broker:2', stream: 'upstream', toxicity: 0.25 }, ctx);
    expect(toxicsOf(ctx, 'broker-1')).toEqual([]);
    expect(toxicsOf(ctx, 'broker-2')).toEqual([
      expect.objectContaining({ type: 'timeout', stream: 'upstream', toxicity: 0.25, attributes: { timeout: 0 } }),
    ]);
  });

  const attributes: [ToxicFault, Record<string, number>][] = [
    [
      { ...net, target: 'sut->kafka', kind: 'latency', latencyMs: 7 },
      { latency: 7, jitter: 0 },
    ],
    [{ ...net, target: 'sut->kafka', kind: 'bandwidth', rateKBps: 16 }, { rate: 16 }],
    [{ ...net, target: 'sut->kafka', kind: 'slow_close', delayMs: 300 }, { delay: 300 }],
    [{ ...net, target: 'sut->kafka', kind: 'timeout', timeoutMs: 200 }, { timeout: 200 }],
    [{ ...net, target: 'sut->kafka', kind: 'reset_peer' }, { timeout: 0 }],
    [
      { ...net, target: 'sut->kafka', kind: 'slicer', averageSize: 10, sizeVariation: 3, delayUs: 50 },
      { average_size: 10, size_variation: 3, delay: 50 },
    ],
    [
      { ...net, target: 'sut->kafka', kind: 'slicer', averageSize: 10 },
      { average_size: 10, size_variation: 0, delay: 0 },
    ],
    [{ ...net, target: 'sut->kafka', kind: 'limit_data', bytes: 99 }, { bytes: 99 }],
  ];
  it.each(attributes)('%o becomes Toxiproxy attributes %o', async (spec, expected) => {
    const ctx = fakeContext({ brokers: 1 });
    await applyFault({ ...spec, stream: 'downstream' }, ctx);
    expect(toxicsOf(ctx, 'broker-1')).toEqual([
      expect.objectContaining({ type: spec.kind, stream: 'downstream', attributes: expected }),
    ]);
  });

  it('two overlapping toxics of one kind get distinct names and heal independently', async () => {
    const ctx = fakeContext({ brokers: 1 });
    const spec: FaultSpec = { ...net, kind: 'latency', target: 'sut->kafka', latencyMs: 5 };
    const a = await applyFault(spec, ctx);
    const b = await applyFault(spec, ctx);
    expect(toxicsOf(ctx, 'broker-1')).toHaveLength(4);
    await a.heal();
    expect(toxicsOf(ctx, 'broker-1').map((t) => t.name)).toEqual(b.toxics);
  });

  it('heal tolerates toxics removed meanwhile (a Toxiproxy reset: 404s count as healed)', async () => {
    const ctx = fakeContext();
    const f = await applyFault({ ...net, kind: 'bandwidth', target: 'sut->kafka', rateKBps: 1 }, ctx);
    await ctx.toxiproxy.reset();
    await f.heal();
    expect(f.healed).toBe(true);
  });

  it('a failure half-way rolls back what was applied, then throws FAULT_APPLY_FAILED', async () => {
    const ctx = fakeContext();
    ctx.toxiproxy.failures.push(/^add broker-3 .*-down$/);
    const err = await applyFault({ ...net, kind: 'latency', target: 'sut->kafka', latencyMs: 5 }, ctx, {
      faultId: 'x',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('FAULT_APPLY_FAILED');
    expect((err as StreamproofError).message).toMatch(
      /^x: latency on sut->kafka failed: injected failure: add broker-3/,
    );
    expect(ctx.toxiproxy.clean()).toBe(true);
  });

  it('a failed heal of one part still heals the others, and a retry heals the rest', async () => {
    const ctx = fakeContext();
    const f = await applyFault(
      { ...net, kind: 'slow_close', target: 'sut->kafka', delayMs: 1, stream: 'upstream' },
      ctx,
    );
    ctx.toxiproxy.failures.push(/^remove broker-2 /);
    const err = await f.heal().catch((e: unknown) => e);
    expect((err as StreamproofError).code).toBe('FAULT_HEAL_FAILED');
    expect(toxicsOf(ctx, 'broker-1')).toEqual([]);
    expect(toxicsOf(ctx, 'broker-2')).toHaveLength(1);
    expect(toxicsOf(ctx, 'broker-3')).toEqual([]);
    expect(f.healed).toBe(false);
    await f.heal();
    expect(f.healed).toBe(true);
    expect(ctx.toxiproxy.clean()).toBe(true);
  });

  it('unknown brokers are FAULT_UNKNOWN_TARGET, and nothing is applied', async () => {
    const ctx = fakeContext();
    await expect(applyFault({ ...net, kind: 'timeout', target: 'sut->broker:7' }, ctx)).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN_TARGET',
    });
    await expect(applyFault({ at: 0, kind: 'kill', target: 'broker:9' }, ctx)).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN_TARGET',
    });
    expect(ctx.log).toEqual([]);
  });
});

describe('applyFault: partition', () => {
  it('disables the proxies and re-enables them on heal', async () => {
    const ctx = fakeContext();
    const f = await applyFault({ ...net, kind: 'partition', target: 'sut->broker:1' }, ctx);
    expect(ctx.toxiproxy.proxies.get('broker-1')!.enabled).toBe(false);
    expect(ctx.toxiproxy.proxies.get('broker-2')!.enabled).toBe(true);
    await f.heal();
    expect(ctx.toxiproxy.clean()).toBe(true);
    expect(ctx.log).toEqual(['disable broker-1', 'enable broker-1']);
  });

  it('overlapping partitions of one proxy: it comes back when the last one heals', async () => {
    const ctx = fakeContext();
    const all = await applyFault({ ...net, kind: 'partition', target: 'sut->kafka' }, ctx);
    const one = await applyFault({ ...net, kind: 'partition', target: 'sut->broker:2' }, ctx);
    await all.heal();
    expect([...ctx.toxiproxy.proxies.values()].map((p) => p.enabled)).toEqual([true, false, true]);
    await one.heal();
    expect(ctx.toxiproxy.clean()).toBe(true);
  });

  it('heal re-enables a proxy even after healAll reset the counts', async () => {
    const ctx = fakeContext();
    const f = await applyFault({ ...net, kind: 'partition', target: 'sut->kafka' }, ctx);
    await healAll(ctx);
    await f.heal();
    expect(f.healed).toBe(true);
    expect(ctx.toxiproxy.clean()).toBe(true);
  });
});

describe('applyFault: processes', () => {
  it('kill then heal starts it again; kill on `sut` kills every instance', async () => {
    const ctx = fakeContext({ sut: 3 });
    const f = await applyFault({ at: 0, kind: 'kill', target: 'sut' }, ctx);
    expect(f.targets).toEqual(['sut:0', 'sut:1', 'sut:2']);
    expect(ctx.sut.map((p) => p.state)).toEqual(['dead', 'dead', 'dead']);
    await f.heal();
    expect(ctx.sut.map((p) => p.state)).toEqual(['running', 'running', 'running']);
  });

  it('pause then heal resumes; restart stops then heal starts', async () => {
    const ctx = fakeContext();
    const p = await applyFault({ at: 0, for: '1s', kind: 'pause', target: 'broker:2' }, ctx);
    expect(ctx.brokers[1]!.state).toBe('paused');
    await p.heal();
    expect(ctx.brokers[1]!.state).toBe('running');
    const r = await applyFault({ at: 0, kind: 'restart', target: 'sut:1' }, ctx);
    expect(ctx.sut[1]!.state).toBe('dead');
    await r.heal();
    expect(ctx.log).toEqual(['pause broker:2', 'resume broker:2', 'stop sut:1', 'start sut:1']);
  });

  it('overlapping kills of one process: it starts when the last heals', async () => {
    const ctx = fakeContext();
    const a = await applyFault({ at: 0, kind: 'kill', target: 'sut:0' }, ctx);
    const b = await applyFault({ at: 0, kind: 'kill', target: 'sut' }, ctx);
    await b.heal();
    expect(ctx.sut.map((p) => p.state)).toEqual(['dead', 'running']);
    await a.heal();
    expect(ctx.sut.map((p) => p.state)).toEqual(['running', 'running']);
  });

  it('a start that fails is a FAULT_HEAL_FAILED, and a retry starts it', async () => {
    const ctx = fakeContext();
    const f = await applyFault({ at: 0, kind: 'kill', target: 'broker:3' }, ctx);
    ctx.brokers[2]!.failStart = true;
    await expect(f.heal()).rejects.toMatchObject({ code: 'FAULT_HEAL_FAILED' });
    await f.heal();
    expect(ctx.brokers[2]!.state).toBe('running');
  });
});

describe('healAll', () => {
  it('from a messy state: toxics, a disabled proxy, a paused broker, a killed SUT instance -> clean', async () => {
    const ctx = fakeContext();
    await applyFault({ ...net, kind: 'latency', target: 'sut->kafka', latencyMs: 5 }, ctx);
    await applyFault({ ...net, kind: 'limit_data', target: 'sut->broker:1', bytes: 5 }, ctx);
    await applyFault({ ...net, kind: 'partition', target: 'sut->broker:3' }, ctx);
    await applyFault({ at: 0, for: '1s', kind: 'pause', target: 'broker:2' }, ctx);
    await applyFault({ at: 0, kind: 'kill', target: 'sut:1' }, ctx);
    expect(ctx.toxiproxy.clean()).toBe(false);
    await healAll(ctx);
    expect(ctx.toxiproxy.clean()).toBe(true);
    expect([...ctx.brokers, ...ctx.sut].map((p) => p.state)).toEqual(Array(5).fill('running'));
  });

  it('tries every step and reports every failure', async () => {
    const ctx = fakeContext();
    await applyFault({ at: 0, kind: 'kill', target: 'sut' }, ctx);
    ctx.toxiproxy.failures.push(/^reset$/);
    ctx.sut[0]!.failStart = true;
    const err = (await healAll(ctx).catch((e: unknown) => e)) as StreamproofError;
    expect(err.code).toBe('FAULT_HEAL_FAILED');
    expect(err.message).toMatch(/toxiproxy reset: injected failure: reset/);
    expect(err.message).toMatch(/sut:0: sut:0 did not start/);
    expect(ctx.sut[1]!.state).toBe('running');
  });
});
