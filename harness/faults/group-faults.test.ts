import { describe, expect, it } from 'vitest';
import { consumerSubscription } from '../kafka/consumer-protocol.ts';
import { StreamproofError } from '../util/errors.ts';
import { applyFault, healAll } from './apply.ts';
import { joinHow } from './apply-group.ts';
import { FakeClock, fakeContext } from './fake-context.ts';
import { classicGroup, FakeSutKafka } from './fake-sut-kafka.ts';
import { type FaultEventRecord, planFaults, runSchedule } from './schedule.ts';
import type { FaultSpec } from './spec.ts';
import { validateFault, validateFaults } from './validate.ts';

function rejected(raw: unknown, limits = {}): string {
  try {
    validateFault(raw, 'faults[0]', limits);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return (err as StreamproofError).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

async function applyError(p: Promise<unknown>): Promise<StreamproofError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StreamproofError);
  return err as StreamproofError;
}

function setup(opts: { sut?: number } = {}) {
  const ctx = fakeContext({ sut: opts.sut ?? 2 });
  const k = new FakeSutKafka();
  ctx.sutKafka = k;
  return { ctx, k };
}

describe('fence and rebalance: validation', () => {
  it('accepts the documented forms', () => {
    const specs = [
      { at: '5s', kind: 'fence', target: 'sut' },
      { at: '5s', kind: 'fence', target: 'sut:1', name: 'zombie' },
      { at: '5s', kind: 'fence', target: 'sut', transactionalId: 'my-app-0' },
      { at: 'random', kind: 'rebalance', target: 'sut', for: '4s' },
    ];
    expect(validateFaults(specs, 'faults', { sutInstances: 2 })).toEqual(specs);
  });

  it('rejects bad fields by name', () => {
    expect(rejected({ at: '5s', kind: 'fence', target: 'broker:1' })).toMatch(
      /^faults\[0\]\.target: expected "sut" .* for a fence fault, got "broker:1"/,
    );
    expect(rejected({ at: '5s', kind: 'fence', target: 'sut:lake' })).toMatch(/^faults\[0\]\.target:/);
    expect(rejected({ at: '5s', kind: 'fence', target: 'sut:2' }, { sutInstances: 2 })).toMatch(
      /^faults\[0\]\.target: expected a SUT instance from sut:0 to sut:1/,
    );
    expect(rejected({ at: '5s', kind: 'fence', target: 'sut', for: '1s' })).toMatch(
      /^faults\[0\]\.for: unknown field for a fence fault \(it takes at, kind, target, name, transactionalId\)/,
    );
    expect(rejected({ at: '5s', kind: 'fence', target: 'sut', transactionalId: '' })).toMatch(
      /^faults\[0\]\.transactionalId: expected a transactional id/,
    );
    expect(rejected({ at: '5s', kind: 'fence', target: 'sut:0', transactionalId: 'x' })).toMatch(
      /^faults\[0\]\.target: expected "sut" for a fence fault that names its transactionalId, got "sut:0"/,
    );
    expect(rejected({ at: '5s', kind: 'rebalance', target: 'sut' })).toMatch(
      /^faults\[0\]\.for: expected a duration like "5s" \(how long the harness member stays in the group\), got nothing/,
    );
    expect(rejected({ at: '5s', kind: 'rebalance', target: 'sut', for: 0 })).toMatch(
      /^faults\[0\]\.for: expected a duration longer than 0/,
    );
    expect(rejected({ at: '5s', kind: 'rebalance', target: 'sut:0', for: '2s' })).toMatch(
      /^faults\[0\]\.target: expected "sut" \(the SUT's consumer group\) for a rebalance fault, got "sut:0"/,
    );
    expect(rejected({ at: '5s', kind: 'rebalance', target: 'sut', for: '2s', members: 2 })).toMatch(
      /^faults\[0\]\.members: unknown field for a rebalance fault/,
    );
  });
});

describe('fence and rebalance: plan', () => {
  it('a fence ends by itself; a rebalance lasts `for` from when the member joined', () => {
    const plan = planFaults([
      { at: '2s', kind: 'fence', target: 'sut' },
      { at: '3s', kind: 'rebalance', target: 'sut', for: '4s' },
    ]);
    expect(plan.map((p) => [p.atMs, p.forMs, p.healFrom])).toEqual([
      [2000, 0, 'ended'],
      [3000, 4000, 'applied'],
    ]);
  });
});

describe('fence: which transactional ids', () => {
  it('sut: the env contract ids the coordinators know, recorded as targets; heal closes the producers', async () => {
    const { ctx, k } = setup({ sut: 3 });
    k.known.set('sut-run-0', 'Ongoing').set('sut-run-2', 'CompleteCommit').set('other-0', 'Ongoing');
    const f = await applyFault({ at: 0, kind: 'fence', target: 'sut' }, ctx);
    expect(f.targets).toEqual(['transactional-id:sut-run-0', 'transactional-id:sut-run-2']);
    expect(k.log).toEqual(['fence sut-run-0', 'fence sut-run-2']);
    await f.ended;
    expect(f.healed).toBe(false);
    await f.heal();
    await f.heal();
    expect(f.healed).toBe(true);
    expect(k.log.slice(2).sort()).toEqual(['close sut-run-0', 'close sut-run-2']);
  });

  it('sut with ids of its own (Kafka Streams): the live ids that start with the prefix or the group id', async () => {
    const { ctx, k } = setup();
    k.known
      .set('sut-run-4f2a-1', 'Ongoing')
      .set('sut-run-4f2a-0', 'Empty')
      .set('sut-run-old', 'Dead')
      .set('x', 'Ongoing');
    const f = await applyFault({ at: 0, kind: 'fence', target: 'sut' }, ctx);
    expect(f.targets).toEqual(['transactional-id:sut-run-4f2a-0', 'transactional-id:sut-run-4f2a-1']);
  });

  it('sut:I fences instance I only, and refuses an id no coordinator knows', async () => {
    const { ctx, k } = setup();
    k.known.set('sut-run-0', 'Ongoing').set('sut-run-1', 'Ongoing');
    const f = await applyFault({ at: 0, kind: 'fence', target: 'sut:1' }, ctx);
    expect(f.targets).toEqual(['transactional-id:sut-run-1']);
    k.known.delete('sut-run-1');
    const err = await applyError(applyFault({ at: 0, kind: 'fence', target: 'sut:1' }, ctx));
    expect(err.code).toBe('FAULT_APPLY_FAILED');
    expect(err.message).toMatch(/no transaction coordinator knows sut:1's transactional id sut-run-1/);
  });

  it('an explicit transactionalId is fenced as given', async () => {
    const { ctx, k } = setup();
    const f = await applyFault({ at: 0, kind: 'fence', target: 'sut', transactionalId: 'legacy-7' }, ctx);
    expect(f.targets).toEqual(['transactional-id:legacy-7']);
    expect(k.log).toEqual(['fence legacy-7']);
  });

  it('refuses a SUT without transactional ids, and says which ids were fenced when one fence fails', async () => {
    const { ctx, k } = setup();
    let err = await applyError(applyFault({ at: 0, kind: 'fence', target: 'sut' }, ctx));
    expect(err.message).toMatch(
      /found no transactional id of the SUT: the coordinators know neither sut-run-0, sut-run-1/,
    );
    k.known.set('sut-run-0', 'Ongoing').set('sut-run-1', 'Ongoing');
    k.failFence.add('sut-run-1');
    err = await applyError(applyFault({ at: 0, kind: 'fence', target: 'sut' }, ctx));
    expect(err.code).toBe('FAULT_APPLY_FAILED');
    expect(err.message).toMatch(/sut-run-1: InitProducerId: .*\(sut-run-0 were fenced all the same/);
    expect(k.log).toEqual(['fence sut-run-0', 'close sut-run-0']);
  });

  it('without the SUT identity in the context: FAULT_APPLY_FAILED', async () => {
    const ctx = fakeContext();
    const err = await applyError(applyFault({ at: 0, kind: 'fence', target: 'sut' }, ctx));
    expect(err.code).toBe('FAULT_APPLY_FAILED');
  });
});

describe('rebalance', () => {
  it('joins with the group protocol, names group and member, leaves on heal (and in healAll)', async () => {
    const { ctx, k } = setup();
    k.group = classicGroup('roundrobin');
    const f = await applyFault({ at: 0, kind: 'rebalance', target: 'sut', for: '3s' }, ctx);
    expect(f.targets).toEqual(['group:sut-run', 'member:m-1']);
    expect(f.ended).toBeUndefined();
    k.failLeave = true;
    await expect(f.heal()).rejects.toMatchObject({ code: 'FAULT_HEAL_FAILED' });
    expect(f.healed).toBe(false);
    await healAll(ctx);
    expect(f.healed).toBe(true);
    expect(k.log).toEqual(['join classic roundrobin', 'leave m-1']);
  });

  it('how to join: standard assignors and KIP-848 groups; Streams and other protocols are refused with why', () => {
    for (const a of ['range', 'roundrobin', 'sticky', 'cooperative-sticky']) {
      expect(joinHow(classicGroup(a), 'g')).toEqual({ type: 'classic', protocolType: 'consumer', protocol: a });
    }
    expect(joinHow(classicGroup('uniform', { type: 'consumer', brokerType: 'consumer' }), 'g')).toEqual({
      type: 'consumer',
    });
    expect(() => joinHow(classicGroup('stream'), 'g')).toThrow(
      /assignor "stream" \(Kafka Streams: .*\): the harness joins/,
    );
    expect(() => joinHow(classicGroup('range', { protocolType: 'connect' }), 'g')).toThrow(/protocol type "connect"/);
    expect(() => joinHow(classicGroup('range', { members: [], state: 'Empty' }), 'g')).toThrow(
      /has no member \(Empty\)/,
    );
    expect(() => joinHow(undefined, 'g')).toThrow(/unknown to its coordinator/);
    expect(() => joinHow(classicGroup('', { type: 'unknown', brokerType: 'streams' }), 'g')).toThrow(/a streams group/);
  });

  it('a refused join is FAULT_APPLY_FAILED and joins nothing', async () => {
    const { ctx, k } = setup();
    k.group = classicGroup('stream');
    const err = await applyError(applyFault({ at: 0, kind: 'rebalance', target: 'sut', for: '1s' }, ctx));
    expect(err.code).toBe('FAULT_APPLY_FAILED');
    expect(err.message).toMatch(/^rebalance: rebalance on sut failed: the group sut-run uses the assignor "stream"/);
    expect(k.log).toEqual([]);
  });

  it('in a schedule: a member for `for` after it joined, a fence started and healed at once', async () => {
    const clock = new FakeClock();
    const { ctx, k } = setup();
    k.group = classicGroup('range');
    k.known.set('sut-run-0', 'Ongoing');
    const records: FaultEventRecord[] = [];
    const start = clock.time;
    const faults: FaultSpec[] = [
      { at: '1s', kind: 'rebalance', target: 'sut', for: '4s', name: 'join' },
      { at: '2s', kind: 'fence', target: 'sut:0', name: 'zombie' },
    ];
    const result = await clock.drive(
      runSchedule(faults, ctx, { start, now: clock.now, sleep: clock.sleep, record: (r) => records.push(r) }),
    );
    expect(result.errors).toEqual([]);
    expect(records.map((r) => `+${r.time - start} ${r.phase} ${r.faultId} ${r.targets.join(',')}`)).toEqual([
      '+1000 start join group:sut-run,member:m-1',
      '+2000 start zombie transactional-id:sut-run-0',
      '+2000 heal zombie transactional-id:sut-run-0',
      '+5000 heal join group:sut-run,member:m-1',
    ]);
  });
});

describe('consumerSubscription', () => {
  it('is a ConsumerProtocolSubscription v0: version, int32 topic count, int16 names, empty user data', () => {
    expect(consumerSubscription(['ab']).toString('hex')).toBe(`0000${'00000001'}0002${'6162'}${'00000000'}`);
  });
});
