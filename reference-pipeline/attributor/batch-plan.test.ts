import { describe, expect, it } from 'vitest';
import type { Decoded } from '../common/event-codec.ts';
import { headerValue } from '../common/kafka.ts';
import {
  type AttributionInput,
  applyEvent,
  createUserState,
  deserializeState,
  resolveOptions,
  type UserState,
} from '../model/index.ts';
import { click, conversion, DAY, impression, T0 } from '../model/test-support.ts';
import {
  type DecodedInput,
  GROUP_HEADER,
  INPUT_OFFSET_HEADER,
  type PlanContext,
  planBatch,
  planMessages,
  selectBatch,
} from './batch-plan.ts';

const ctx: PlanContext = {
  outputTopic: 'attributions',
  changelogTopic: 'state',
  dlqTopic: 'events.dlq',
  groupId: 'g',
  options: resolveOptions({ models: ['last-touch', 'linear'] }),
};

/** An input record at `partition`/`offset` holding event `e` (decoded), or undecodable bytes. */
function rec(partition: number, offset: number, e: AttributionInput | Decoded): DecodedInput {
  const decoded: Decoded = 'ok' in e ? e : ({ ok: true, event: e } as unknown as Decoded);
  const user = 'ok' in e ? 'u9' : e.user_id;
  return {
    topic: 'events',
    partition,
    offset: BigInt(offset),
    key: Buffer.from(user),
    value: Buffer.from(`raw-${partition}-${offset}`),
    decoded,
  };
}

const none = () => new Map<string, UserState>();
const header = (h: Map<Buffer, Buffer> | undefined, name: string) => headerValue(h as Map<unknown, unknown>, name);

describe('selectBatch', () => {
  const queue = [5n, 6n, 7n, 8n, 9n].map((offset) => ({ offset }));
  it('takes the records at or past the position, at most batchMax, in order', () => {
    expect(selectBatch(queue, 7n, 10).map((m) => m.offset)).toEqual([7n, 8n, 9n]);
    expect(selectBatch(queue, 6n, 2).map((m) => m.offset)).toEqual([6n, 7n]);
  });
  it('takes everything from the start when there is no committed position (-1)', () => {
    expect(selectBatch(queue, -1n, 3).map((m) => m.offset)).toEqual([5n, 6n, 7n]);
  });
  it('takes nothing when every record is before the position (redelivered after a rebalance)', () => {
    expect(selectBatch(queue, 10n, 5)).toEqual([]);
  });
});

describe('planBatch', () => {
  it('a conversion after touches: its attribution records, the user state on the changelog, offset last + 1', () => {
    const events = [impression(1, T0 - 2 * DAY), click(2, T0 - DAY), conversion(3, T0)];
    const [plan, ...rest] = planBatch(
      events.map((e, i) => rec(0, 10 + i, e)),
      none,
      ctx,
    );
    expect(rest).toEqual([]);
    expect(plan).toMatchObject({ partition: 0, records: 3, lastOffset: 12n, commitOffset: 13n, dlq: [] });
    // The same records the model gives, folded from an empty state.
    let state = createUserState();
    const expected = [];
    for (const e of events) {
      const r = applyEvent(state, e, ctx.options);
      state = r.state;
      expected.push(...r.outputs);
    }
    expect(plan!.attributions).toEqual(expected);
    expect(plan!.attributions.map((r) => [r.model, r.touch_event_id])).toEqual([
      ['last-touch', 'u1-2'],
      ['linear', 'u1-1'],
      ['linear', 'u1-2'],
    ]);
    expect([...plan!.states.keys()]).toEqual(['u1']);
    expect(plan!.states.get('u1')).toEqual(state);
    expect(plan!.changelog).toHaveLength(1);
    const c = plan!.changelog[0]!;
    expect(c).toMatchObject({ topic: 'state', partition: 0, key: Buffer.from('u1') });
    expect(deserializeState(c.value.toString())).toEqual(state);
    expect(header(c.headers, INPUT_OFFSET_HEADER)).toBe('12');
    expect(header(c.headers, GROUP_HEADER)).toBe('g');
  });

  it('a conversion without touches: attributed to the unattributed channel, once per model', () => {
    const [plan] = planBatch([rec(1, 0, conversion(1, T0))], none, ctx);
    expect(plan!.attributions.map((r) => [r.model, r.channel, r.credit])).toEqual([
      ['last-touch', 'direct', 1],
      ['linear', 'direct', 1],
    ]);
    expect(plan!.commitOffset).toBe(1n);
  });

  it('starts from the state it is given, and does not modify it', () => {
    const before = applyEvent(createUserState(), click(1, T0 - DAY), ctx.options).state;
    const users = new Map([['u1', before]]);
    const [plan] = planBatch([rec(0, 5, conversion(2, T0))], () => users, ctx);
    expect(plan!.attributions.filter((r) => r.model === 'last-touch').map((r) => r.touch_event_id)).toEqual(['u1-1']);
    expect(users.get('u1')).toBe(before);
    expect(plan!.states.get('u1')).not.toBe(before);
  });

  it('routes undecodable, invalid and late records to the DLQ with their reason; touches only change state', () => {
    const undecodable: Decoded = { ok: false, reason: 'bad-magic', message: 'not avro' };
    const invalid = { ...click(2, T0), channel: 'carrier-pigeon' } as unknown as AttributionInput;
    const late = click(3, T0 - 3 * DAY);
    const [plan] = planBatch(
      [rec(2, 0, click(1, T0)), rec(2, 1, undecodable), rec(2, 2, invalid), rec(2, 3, late)],
      none,
      ctx,
    );
    expect(plan!.attributions).toEqual([]);
    expect(plan!.dlqReasons).toEqual(['bad-magic', 'invalid-field', 'late']);
    expect(plan!.dlq.map((d) => header(d.headers, 'streamproof-dlq-origin'))).toEqual([
      'events/2/1',
      'events/2/2',
      'events/2/3',
    ]);
    expect(plan!.dlq.map((d) => header(d.headers, 'streamproof-dlq-kind'))).toEqual(['undecodable', 'invalid', 'late']);
    expect(plan!.dlq.every((d) => d.topic === 'events.dlq')).toBe(true);
    // An undecodable record goes as it came; a rejected event as its decoded JSON.
    expect(plan!.dlq[0]!.value.toString()).toBe('raw-2-1');
    expect(JSON.parse(plan!.dlq[2]!.value.toString())).toMatchObject({ event_id: 'u1-3' });
    expect([...plan!.states.keys()]).toEqual(['u1']);
    expect(plan!.commitOffset).toBe(4n);
  });

  it('plans several partitions apart: each its own state, records and offset last + 1', () => {
    const u2 = { user: 'u2' };
    const plans = planBatch(
      [
        rec(3, 40, click(1, T0 - DAY, u2)),
        rec(1, 7, click(1, T0 - DAY)),
        rec(3, 41, conversion(2, T0, 100, 'USD', u2)),
        rec(1, 8, conversion(2, T0)),
        rec(1, 9, click(3, T0)),
      ],
      none,
      ctx,
    );
    expect(plans.map((p) => [p.partition, p.records, p.lastOffset, p.commitOffset])).toEqual([
      [1, 3, 9n, 10n],
      [3, 2, 41n, 42n],
    ]);
    expect(plans[0]!.attributions.every((r) => r.user_id === 'u1')).toBe(true);
    expect(plans[1]!.attributions.every((r) => r.user_id === 'u2')).toBe(true);
    expect(plans.map((p) => p.changelog.map((c) => c.partition))).toEqual([[1], [3]]);
  });

  it("planMessages: the transaction's records in order (attributions, changelog, DLQ), attributions replaceable", () => {
    const [plan] = planBatch([rec(0, 0, conversion(1, T0)), rec(0, 1, click(2, T0 - 5 * DAY))], none, ctx);
    const msgs = planMessages(plan!, ctx);
    expect(msgs.map((m) => m.topic)).toEqual(['attributions', 'attributions', 'state', 'events.dlq']);
    expect(JSON.parse(msgs[0]!.value.toString())).toEqual(plan!.attributions[0]);
    expect(msgs[0]!.key.toString()).toBe('u1');
    const doubled = planMessages(plan!, ctx, [...plan!.attributions, plan!.attributions[1]!]);
    expect(doubled.map((m) => m.topic)).toEqual([
      'attributions',
      'attributions',
      'attributions',
      'state',
      'events.dlq',
    ]);
  });
});
