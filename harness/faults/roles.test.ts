import { describe, expect, it } from 'vitest';
import type { ListedTransaction } from '../kafka/roles.ts';
import { applyFault } from './apply.ts';
import { FakeClock, fakeContext } from './fake-context.ts';
import { parseRoleTarget } from './role-targets.ts';
import { type FaultEventRecord, runSchedule } from './schedule.ts';
import type { FaultSpec } from './spec.ts';
import { busiestCoordinator, sutTransactions } from './stack-roles.ts';
import { validateFault } from './validate.ts';

const spec = (kind: string, target: string, extra: Record<string, unknown> = {}): FaultSpec =>
  ({ at: 0, kind, target, ...extra }) as FaultSpec;

describe('parseRoleTarget', () => {
  it.each([
    ['leader:events/0', 'process', { role: 'leader', topic: 'events', partition: 0 }],
    ['sut->leader:my.topic_x-1/12', 'connection', { role: 'leader', topic: 'my.topic_x-1', partition: 12 }],
    ['controller', 'process', { role: 'controller' }],
    ['sut->group-coordinator', 'connection', { role: 'group-coordinator' }],
    ['txn-coordinator', 'process', { role: 'txn-coordinator' }],
  ])('%s', (target, via, role) => {
    expect(parseRoleTarget(target)).toMatchObject({ via, role });
  });
  it.each(['leader:events', 'leader:events/01', 'leader:/0', 'leader:a b/0', 'broker:1', 'sut->kafka', 'coordinator'])(
    'not %s',
    (target) => {
      expect(parseRoleTarget(target)).toBeUndefined();
    },
  );
});

describe('validation of role targets and leader-move', () => {
  const topics = { events: { partitions: 3, replicationFactor: 3 }, solo: { partitions: 1, replicationFactor: 1 } };
  it('accepts each role with the form of its kind', () => {
    for (const f of [
      spec('kill', 'leader:events/2'),
      spec('pause', 'controller', { for: '1s' }),
      spec('restart', 'group-coordinator'),
      spec('kill', 'txn-coordinator', { for: '2s' }),
      spec('partition', 'sut->leader:__consumer_offsets/7', { for: '1s' }),
      spec('latency', 'sut->controller', { for: '1s', latencyMs: 5 }),
      spec('timeout', 'sut->txn-coordinator', { for: '1s' }),
      spec('leader-move', 'leader:events/1', { for: '5s' }),
    ]) {
      expect(validateFault(f, 'faults[0]', { topics, brokers: 3 })).toEqual(f);
    }
  });

  it.each([
    [
      spec('kill', 'sut->leader:events/0'),
      /^faults\[0\]\.target: expected a process target for a kill fault: "leader:events\/0"/,
    ],
    [
      spec('partition', 'controller', { for: '1s' }),
      /^faults\[0\]\.target: expected a connection target for a partition fault: "sut->controller"/,
    ],
    [
      spec('kill', 'leader:events'),
      /^faults\[0\]\.target: expected a process target \(.*"leader:<topic>\/<partition>"/,
    ],
    [
      spec('leader-move', 'controller', { for: '1s' }),
      /^faults\[0\]\.target: expected "leader:<topic>\/<partition>" for a leader-move/,
    ],
    [
      spec('leader-move', 'sut->leader:events/0', { for: '1s' }),
      /^faults\[0\]\.target: expected "leader:<topic>\/<partition>"/,
    ],
    [spec('leader-move', 'leader:events/0'), /^faults\[0\]\.for: expected a duration/],
    [spec('leader-move', 'leader:events/0', { for: '1s', latencyMs: 3 }), /^faults\[0\]\.latencyMs: unknown field/],
    [
      spec('leader-move', 'leader:solo/0', { for: '1s' }),
      /^faults\[0\]\.target: expected a topic of replication factor 2 or more .*solo has 1/,
    ],
    [
      spec('kill', 'leader:events/3'),
      /^faults\[0\]\.target: expected a partition of events from 0 to 2, got "leader:events\/3"/,
    ],
    [spec('rolling-restart', 'controller'), /^faults\[0\]\.target: expected a target of a rolling-restart fault/],
  ])('refuses %o', (f, message) => {
    expect(() => validateFault(f, 'faults[0]', { topics })).toThrow(
      expect.objectContaining({ code: 'INVALID_SCENARIO', message: expect.stringMatching(message) }),
    );
  });

  it('refuses a leader-move on a stack of one broker', () => {
    expect(() => validateFault(spec('leader-move', 'leader:x/0', { for: '1s' }), 'f', { brokers: 1 })).toThrow(
      /^f\.target: expected a stack of 3 brokers for a leader-move fault/,
    );
  });
});

describe('role faults applied (fake cluster)', () => {
  it('a process kind hits the broker process holding the role, resolved when applied', async () => {
    const ctx = fakeContext();
    ctx.roles.partitions.set('events/0', { leader: 3, replicas: [3, 1, 2], isr: [3, 1, 2] });
    const f = await applyFault(spec('kill', 'leader:events/0'), ctx);
    expect(f.resolved).toEqual({ role: 'leader:events/0', brokerId: 3 });
    expect(f.targets).toEqual(['broker:3']);
    expect(ctx.brokers[2]!.state).toBe('dead');
    await f.heal();
    expect(ctx.brokers[2]!.state).toBe('running');
    expect(f.healed).toBe(true);
  });

  it('a connection kind hits that broker proxy', async () => {
    const ctx = fakeContext();
    const cut = await applyFault(spec('partition', 'sut->group-coordinator', { for: '1s' }), ctx);
    expect(cut.resolved).toEqual({ role: 'group-coordinator', brokerId: 2 });
    expect(cut.targets).toEqual(['broker-2']);
    expect(ctx.toxiproxy.proxies.get('broker-2')!.enabled).toBe(false);
    const slow = await applyFault(spec('latency', 'sut->controller', { for: '1s', latencyMs: 9 }), ctx);
    expect(slow.targets).toEqual(['broker-1']);
    expect(ctx.toxiproxy.proxies.get('broker-1')!.toxics.size).toBe(2);
    await cut.heal();
    await slow.heal();
    expect(ctx.toxiproxy.clean()).toBe(true);
  });

  it('the role is read at apply time, each time', async () => {
    const ctx = fakeContext();
    const a = await applyFault(spec('pause', 'controller', { for: '1s' }), ctx);
    ctx.roles.controllerId = 3;
    const b = await applyFault(spec('pause', 'controller', { for: '1s' }), ctx);
    expect([a.resolved?.brokerId, b.resolved?.brokerId]).toEqual([1, 3]);
    await Promise.all([a.heal(), b.heal()]);
  });

  it('a role that cannot be resolved is FAULT_APPLY_FAILED with the reason, and nothing is applied', async () => {
    const ctx = fakeContext();
    ctx.roles.txn = new Error('no transactional id of the SUT is known to the cluster yet');
    await expect(applyFault(spec('kill', 'txn-coordinator'), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringMatching(
        /kill on txn-coordinator failed: the txn-coordinator could not be resolved: no transactional id/,
      ),
    });
    ctx.roles.partitions.set('events/1', { leader: -1, replicas: [1, 2, 3], isr: [] });
    await expect(applyFault(spec('kill', 'leader:events/1'), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringContaining('events/1 has no leader'),
    });
    await expect(applyFault(spec('kill', 'leader:nope/0'), ctx)).rejects.toMatchObject({ code: 'FAULT_APPLY_FAILED' });
    expect(ctx.brokers.every((b) => b.state === 'running')).toBe(true);
  });

  it('the wrong form for the kind, or a context without roles, is FAULT_UNKNOWN_TARGET', async () => {
    const ctx = fakeContext();
    await expect(applyFault(spec('kill', 'sut->controller'), ctx)).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN_TARGET',
    });
    await expect(applyFault(spec('leader-move', 'controller', { for: '1s' }), ctx)).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN_TARGET',
    });
    const bare = { ...fakeContext(), roles: undefined };
    await expect(applyFault(spec('kill', 'controller'), bare)).rejects.toMatchObject({ code: 'FAULT_UNKNOWN_TARGET' });
  });
});

describe('leader-move (fake cluster)', () => {
  it('moves the leadership to the next in-sync replica; the heal restores the order and the preferred leader', async () => {
    const ctx = fakeContext();
    ctx.roles.partitions.set('events/0', { leader: 1, replicas: [1, 2, 3], isr: [1, 3] });
    const f = await applyFault(spec('leader-move', 'leader:events/0', { for: '5s' }), ctx);
    expect(f.resolved).toEqual({ role: 'leader:events/0', brokerId: 1, movedTo: 3 });
    expect(ctx.roles.partitions.get('events/0')).toMatchObject({ leader: 3, replicas: [3, 1, 2] });
    await f.heal();
    await f.heal();
    expect(ctx.roles.partitions.get('events/0')).toMatchObject({ leader: 1, replicas: [1, 2, 3] });
    expect(ctx.log.filter((l) => l.startsWith('reorder'))).toEqual([
      'reorder events/0 3,1,2',
      'reorder events/0 1,2,3',
    ]);
  });

  it('a failed heal is reported and retried', async () => {
    const ctx = fakeContext();
    const f = await applyFault(spec('leader-move', 'leader:events/0', { for: '5s' }), ctx);
    ctx.roles.failures.push(/^reorder events\/0 1,2,3$/);
    await expect(f.heal()).rejects.toMatchObject({ code: 'FAULT_HEAL_FAILED' });
    expect(f.healed).toBe(false);
    await f.heal();
    expect(f.healed).toBe(true);
    expect(ctx.roles.partitions.get('events/0')).toMatchObject({ leader: 1, replicas: [1, 2, 3] });
  });

  it('fails to apply (FAULT_APPLY_FAILED) without another in-sync replica, with one replica, or when the move fails', async () => {
    const ctx = fakeContext();
    ctx.roles.partitions.set('a/0', { leader: 2, replicas: [2, 1, 3], isr: [2] });
    ctx.roles.partitions.set('b/0', { leader: 1, replicas: [1], isr: [1] });
    await expect(applyFault(spec('leader-move', 'leader:a/0', { for: '1s' }), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringContaining('no other in-sync replica'),
    });
    await expect(applyFault(spec('leader-move', 'leader:b/0', { for: '1s' }), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringContaining('replication factor 1'),
    });
    ctx.roles.failures.push(/^reorder events\/0 2,1,3$/);
    await expect(applyFault(spec('leader-move', 'leader:events/0', { for: '1s' }), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
    });
    // Rolled back: the original order was put back.
    expect(ctx.roles.partitions.get('events/0')).toMatchObject({ leader: 1, replicas: [1, 2, 3] });
  });
});

describe('in the schedule and the reports', () => {
  it('the fault record carries resolved { role, brokerId } and the target names the broker hit', async () => {
    const clock = new FakeClock();
    const ctx = fakeContext();
    const records: FaultEventRecord[] = [];
    const start = clock.time;
    const faults = [
      spec('kill', 'leader:events/0', { at: '1s', restartAfter: '1s' }),
      spec('leader-move', 'leader:events/0', { at: '3s', for: '1s' }),
    ];
    const r = await clock.drive(
      runSchedule(faults, ctx, { start, now: clock.now, sleep: clock.sleep, record: (x) => records.push(x) }),
    );
    expect(r.errors).toEqual([]);
    expect(records.map((x) => [x.phase, x.target, x.resolved])).toEqual([
      ['start', 'leader:events/0 → broker:1', { role: 'leader:events/0', brokerId: 1 }],
      ['heal', 'leader:events/0 → broker:1', { role: 'leader:events/0', brokerId: 1 }],
      ['start', 'leader:events/0 → broker:1 (moved to broker:2)', { role: 'leader:events/0', brokerId: 1, movedTo: 2 }],
      ['heal', 'leader:events/0 → broker:1 (moved to broker:2)', { role: 'leader:events/0', brokerId: 1, movedTo: 2 }],
    ]);
  });
});

describe('the SUT transactional ids (txn-coordinator)', () => {
  const t = (transactionalId: string, producerId: number, coordinator: number): ListedTransaction => ({
    transactionalId,
    producerId: BigInt(producerId),
    state: 'Ongoing',
    coordinator,
  });
  const listed = [
    t('sut-run-0', 1, 2),
    t('sut-run-p3', 2, 3),
    t('sut-run-pX', 3, 3),
    t('sut-run2-0', 4, 1),
    t('streamproof-probe-x', 5, 1),
    t('app-1-a', 6, 1),
  ];
  it('the env contract ids first (`<id>` and `<id>-...`), never another run ids', () => {
    expect(sutTransactions(listed, 'sut-run', new Set([6n])).map((x) => x.transactionalId)).toEqual([
      'sut-run-0',
      'sut-run-p3',
      'sut-run-pX',
    ]);
    expect(busiestCoordinator(sutTransactions(listed, 'sut-run', undefined))).toBe(3);
  });
  it('else the ids whose producer wrote to the output topic; none: undefined', () => {
    expect(sutTransactions(listed, 'other', new Set([6n])).map((x) => x.transactionalId)).toEqual(['app-1-a']);
    expect(busiestCoordinator(sutTransactions(listed, 'other', new Set()))).toBeUndefined();
    expect(busiestCoordinator([t('a', 1, 3), t('b', 2, 2)])).toBe(2);
  });
});
