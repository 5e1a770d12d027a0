/**
 * Component targets (`sut:lake`, `sut:collector`): parsed apart from instances, resolved by the stack's context from
 * the components the runner passes, faulted and healed like any process, and healed by healAll.
 */
import { describe, expect, it } from 'vitest';
import type { StartedStack } from '../stack/stack.ts';
import { applyFault, healAll } from './apply.ts';
import { everyProcess, type ProcessTarget, stackFaultContext } from './context.ts';
import { FakeProcess, fakeContext } from './fake-context.ts';
import { parseTarget } from './spec.ts';

describe('parseTarget: component targets', () => {
  it('reads sut:<name> (lowercase, not a number) as a component; the other forms are unchanged', () => {
    expect(parseTarget('sut:lake')).toEqual({ type: 'process', role: 'sut', component: 'lake' });
    expect(parseTarget('sut:collector')).toEqual({ type: 'process', role: 'sut', component: 'collector' });
    expect(parseTarget('sut')).toEqual({ type: 'process', role: 'sut', instance: 'all' });
    expect(parseTarget('sut:0')).toEqual({ type: 'process', role: 'sut', instance: 0 });
    expect(parseTarget('sut:12')).toEqual({ type: 'process', role: 'sut', instance: 12 });
    expect(parseTarget('broker:2')).toEqual({ type: 'process', role: 'broker', id: 2 });
    expect(parseTarget('sut->kafka')).toEqual({ type: 'connection', brokerId: 'all' });
  });

  it('refuses names that are not lowercase words', () => {
    for (const t of ['sut:Lake', 'sut:01', 'sut:1a', 'sut:-lake', 'sut:', 'sut:lake sink', `sut:${'a'.repeat(33)}`]) {
      expect(parseTarget(t), t).toBeUndefined();
    }
  });
});

describe('component faults on a fake context', () => {
  it('kill, pause and restart act on the component only, and heal it', async () => {
    const ctx = fakeContext({ components: ['collector', 'lake'] });
    const kill = await applyFault({ at: 0, kind: 'kill', target: 'sut:lake', restartAfter: '1s' }, ctx);
    expect(kill.targets).toEqual(['sut:lake']);
    expect(ctx.components.lake!.state).toBe('dead');
    expect([...ctx.sut, ctx.components.collector!].map((p) => p.state)).toEqual(['running', 'running', 'running']);
    await kill.heal();
    const pause = await applyFault({ at: 0, for: '1s', kind: 'pause', target: 'sut:collector' }, ctx);
    expect(ctx.components.collector!.state).toBe('paused');
    await pause.heal();
    const restart = await applyFault({ at: 0, kind: 'restart', target: 'sut:lake' }, ctx);
    await restart.heal();
    expect(ctx.log).toEqual([
      'kill sut:lake',
      'start sut:lake',
      'pause sut:collector',
      'resume sut:collector',
      'stop sut:lake',
      'start sut:lake',
    ]);
  });

  it('`sut` is the instances only; an unknown component is FAULT_UNKNOWN_TARGET, nothing applied', async () => {
    const ctx = fakeContext({ sut: 1, components: ['lake'] });
    const all = await applyFault({ at: 0, kind: 'kill', target: 'sut' }, ctx);
    expect(all.targets).toEqual(['sut:0']);
    await all.heal();
    await expect(applyFault({ at: 0, kind: 'kill', target: 'sut:collector' }, ctx)).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN_TARGET',
    });
    expect(ctx.log).toEqual(['kill sut:0', 'start sut:0']);
  });

  it('healAll resumes and restarts components too', async () => {
    const ctx = fakeContext({ components: ['collector', 'lake'] });
    await applyFault({ at: 0, kind: 'kill', target: 'sut:lake' }, ctx);
    await applyFault({ at: 0, for: '1s', kind: 'pause', target: 'sut:collector' }, ctx);
    await healAll(ctx);
    expect(Object.values(ctx.components).map((p) => p.state)).toEqual(['running', 'running']);
  });
});

describe('stackFaultContext: components', () => {
  const stack = {
    toxiproxy: {},
    status: () => ({ kafka: { brokers: [{ id: 1, running: true, direct: '127.0.0.1:1' }] } }),
    broker: (id: number) => ({ id }),
  } as unknown as StartedStack;

  it('resolves sut:<name> from the components it is given, asked each time', () => {
    const log: string[] = [];
    const instances: ProcessTarget[] = [new FakeProcess('sut:0', log)];
    let components: Record<string, ProcessTarget> = { lake: new FakeProcess('sut:lake', log) };
    const ctx = stackFaultContext(
      stack,
      () => instances,
      () => components,
    );
    expect(ctx.processes({ type: 'process', role: 'sut', component: 'lake' }).map((p) => p.name)).toEqual(['sut:lake']);
    expect(() => ctx.processes({ type: 'process', role: 'sut', component: 'collector' })).toThrow(
      'sut:collector: no such SUT component (sut:lake)',
    );
    // Only own names: `constructor` is not a component.
    expect(() => ctx.processes({ type: 'process', role: 'sut', component: 'constructor' })).toThrow(
      /no such SUT component/,
    );
    components = { ...components, collector: new FakeProcess('sut:collector', log) };
    expect(ctx.sutComponents?.()).toEqual(['collector', 'lake']);
    expect(everyProcess(ctx).map((p) => p.name)).toEqual(['broker:1', 'sut:0', 'sut:collector', 'sut:lake']);
  });

  it('a SUT without components: component targets are FAULT_UNKNOWN_TARGET, everyProcess has none', () => {
    const ctx = stackFaultContext(stack, () => [new FakeProcess('sut:0', [])]);
    expect(() => ctx.processes({ type: 'process', role: 'sut', component: 'lake' })).toThrow(
      expect.objectContaining({ code: 'FAULT_UNKNOWN_TARGET', message: expect.stringMatching(/this SUT has none/) }),
    );
    expect(everyProcess(ctx).map((p) => p.name)).toEqual(['broker:1', 'sut:0']);
  });
});
