/**
 * The changelog's deltas restore exactly the model's states: over generated traffic cut into random batches, with
 * transactions that abort after writing (their records stay in the log below the committed position, as the client's
 * read_committed filter can let them through), and with the log compacted (last record per key). Times and windows are
 * small integers, so pruning by the cutoff and by the touch cap happens often.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttributionInput,
  AttributionModelError,
  applyEvent,
  CHANNELS,
  createUserState,
  type ResolvedAttributionOptions,
  resolveOptions,
  type UserState,
} from '../model/index.ts';
import { click, conversion, impression, T0 } from '../model/test-support.ts';
import { type ChangelogEntry, StateRestore, stateDelta } from './changelog.ts';

// User ids with the separators of the key format in them: a key must still name its user.
const USERS = ['u1', 'a:b', 't:2:x', 'h:'];

const eventArb = fc.record({
  user: fc.constantFrom(...USERS),
  type: fc.constantFrom('impression', 'click', 'click', 'conversion' as const),
  time: fc.integer({ min: 0, max: 150 }),
  channel: fc.constantFrom(...CHANNELS),
  duplicate: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

/** Events in input order, each user's user_seq increasing (a duplicate repeats the user's last one). */
function toEvents(draws: { user: string; type: string; time: number; channel: string; duplicate: boolean }[]) {
  const seq = new Map<string, number>();
  return draws.map((d): AttributionInput => {
    const last = seq.get(d.user) ?? 0;
    const s = d.duplicate && last > 0 ? last : last + 1;
    seq.set(d.user, s);
    return {
      event_id: `${d.user}-${s}-${d.type}`,
      user_id: d.user,
      user_seq: s,
      type: d.type as AttributionInput['type'],
      channel: d.channel as AttributionInput['channel'],
      campaign: 'c',
      event_time: d.time,
      revenue: d.type === 'conversion' ? 10 : null,
      currency: d.type === 'conversion' ? 'USD' : null,
    };
  });
}

/** A batch as the attributor plans it: the changed users' deltas from the states before it. */
function batch(events: readonly AttributionInput[], from: Map<string, UserState>, o: ResolvedAttributionOptions) {
  const states = new Map(from);
  const before = new Map<string, UserState>();
  for (const e of events) {
    const cur = states.get(e.user_id) ?? createUserState();
    const r = applyEvent(cur, e, o);
    if (r.state !== cur) {
      if (!before.has(e.user_id)) before.set(e.user_id, cur);
      states.set(e.user_id, r.state);
    }
  }
  const entries: ChangelogEntry[] = [];
  for (const [user, b] of before) entries.push(...stateDelta(user, b, states.get(user)!));
  return { states, entries };
}

interface Logged extends ChangelogEntry {
  /** The last input index of the batch that wrote it (the restore keeps it when below the committed position). */
  readonly tag: number;
}

function restoreAt(log: readonly Logged[], position: number, o: ResolvedAttributionOptions) {
  const r = new StateRestore();
  for (const e of log) if (e.tag < position) r.apply(e.key, e.value === null ? null : Buffer.from(e.value));
  return r.states(o);
}

/** The log compacted: the last record of each key, in log order. */
function compacted(log: readonly Logged[]): Logged[] {
  const last = new Map<string, number>();
  for (const [i, e] of log.entries()) last.set(e.key, i);
  return log.filter((e, i) => last.get(e.key) === i);
}

const nonEmpty = (m: Map<string, UserState>) => new Map([...m].filter(([, s]) => s.last_user_seq !== null));

describe('changelog deltas', () => {
  it('restore the model state at every committed position, aborted transactions and compaction included', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 120 }),
        fc.array(
          fc.record({ size: fc.integer({ min: 1, max: 12 }), abortAfter: fc.option(fc.integer({ min: 1, max: 12 })) }),
        ),
        fc.record({
          lookbackMs: fc.integer({ min: 0, max: 60 }),
          allowedLatenessMs: fc.integer({ min: 0, max: 60 }),
          maxTouches: fc.integer({ min: 1, max: 5 }),
        }),
        (draws, cuts, opts) => {
          const o = resolveOptions({ ...opts, models: ['last-touch'] });
          const events = toEvents(draws);
          const log: Logged[] = [];
          let states = new Map<string, UserState>();
          let at = 0;
          const committed: number[] = [0];
          for (let i = 0; at < events.length; i++) {
            const cut = cuts[i % Math.max(1, cuts.length)] ?? { size: 5, abortAfter: null };
            // A transaction that wrote its records and aborted: the retry starts from the same state and position.
            if (cut.abortAfter !== null) {
              const aborted = events.slice(at, at + cut.abortAfter);
              const tag = at + aborted.length - 1;
              for (const e of batch(aborted, states, o).entries) log.push({ ...e, tag });
            }
            const taken = events.slice(at, at + cut.size);
            const b = batch(taken, states, o);
            for (const e of b.entries) log.push({ ...e, tag: at + taken.length - 1 });
            states = b.states;
            at += taken.length;
            committed.push(at);
          }
          for (const position of committed) {
            let expected = new Map<string, UserState>();
            for (const e of events.slice(0, position)) {
              const r = applyEvent(expected.get(e.user_id) ?? createUserState(), e, o);
              expected = new Map(expected).set(e.user_id, r.state);
            }
            // The log as written, and as compaction leaves it once everything up to here is committed.
            const prefix = log.filter((e) => e.tag < position);
            expect(restoreAt(log, position, o)).toEqual(nonEmpty(expected));
            expect(restoreAt(compacted(prefix), position, o)).toEqual(nonEmpty(expected));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the head and only what changed: a touch once, a tombstone when it is pruned', () => {
    const o = resolveOptions({ maxTouches: 2, models: ['last-touch'] });
    let s = createUserState();
    const step = (e: AttributionInput) => {
      const next = applyEvent(s, e, o).state;
      const d = stateDelta('u1', s, next);
      s = next;
      return d.map((x) => `${x.key}=${x.value === null ? 'null' : x.key.startsWith('h:') ? x.value : 'touch'}`);
    };
    expect(step(impression(1, T0 - 3))).toEqual([`h:u1={"v":2,"s":1,"m":${T0 - 3}}`, 't:1:u1=touch']);
    expect(step(click(2, T0 - 2))).toEqual([`h:u1={"v":2,"s":2,"m":${T0 - 2}}`, 't:2:u1=touch']);
    // The cap of two: storing the third prunes the first.
    expect(step(click(3, T0 - 1))).toEqual([`h:u1={"v":2,"s":3,"m":${T0 - 1}}`, 't:3:u1=touch', 't:1:u1=null']);
    // A conversion stores no touch: the head alone.
    expect(step(conversion(4, T0))).toEqual([`h:u1={"v":2,"s":4,"m":${T0}}`]);
  });

  it('refuses a record it cannot read, naming the key: an older whole-state changelog, a bad head, a stray touch', () => {
    const o = resolveOptions({});
    const fails = (records: [string, string | null][], message: RegExp) => {
      const r = new StateRestore();
      expect(() => {
        for (const [k, v] of records) r.apply(k, v === null ? null : Buffer.from(v));
        r.states(o);
      }).toThrow(AttributionModelError);
      const r2 = new StateRestore();
      expect(() => {
        for (const [k, v] of records) r2.apply(k, v === null ? null : Buffer.from(v));
        r2.states(o);
      }).toThrow(message);
    };
    fails([['u1', '{"v":1,"s":1,"m":5,"k":[]}']], /neither a head .* nor a touch .*an older attributor/);
    fails([['h:u1', '{"v":1,"s":1,"m":5}']], /unknown changelog version 1/);
    fails([['h:u1', '{"v":2,"s":1,"m":null}']], /s and m must be both null or both set/);
    fails([['h:u1', 'not json']], /not valid JSON/);
    fails([['t:1:u1', '["u1-1",1,"c","search","c",5]']], /touches of user "u1" without a head/);
    fails(
      [
        ['h:u1', '{"v":2,"s":1,"m":5}'],
        ['t:2:u1', '["u1-2",2,"c","search","c",5]'],
      ],
      /past the user's last/,
    );
    fails(
      [
        ['h:u1', '{"v":2,"s":1,"m":5}'],
        ['t:1:u1', '["u1-1",7,"c","search","c",5]'],
      ],
      /not its key's 1/,
    );
    fails(
      [
        ['h:u1', '{"v":2,"s":1,"m":5}'],
        ['t:1:u1', '["u1-1",1,"x","search","c",5]'],
      ],
      /expected "i" or "c"/,
    );
  });
});
