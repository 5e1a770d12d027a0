/**
 * Test support: build the records of a simulated run, break them in known ways, and judge them with a naive
 * oracle. Used by the property tests of the checkers (checker == oracle on any run) and tested itself in
 * fixtures.test.ts against known-bad input, so a broken helper cannot make a broken checker look correct.
 *
 * Simulated run: events are offered round-robin over `producers` (so each producer's seqs are 0, 1, 2, ... in
 * offer order), each to a user with a per-user `userSeq`; each user lives on partition `userIndex % partitions`.
 * A correct pipeline delivers every acked event once, every failed event never, every unknown one 0 or 1 times,
 * in offer order per partition.
 */

import fc from 'fast-check';
import { formatEventId, type HistoryRecord, type ObservedRecord, type Outcome, parseEventId } from './record.ts';

export interface SimEvent {
  readonly producer: number;
  readonly seq: number;
  readonly eventId: string;
  readonly userId: string;
  readonly userSeq: number;
  readonly partition: number;
  readonly sentAt: number;
  readonly outcome: Outcome;
  /** For unknown outcomes: whether the write landed. */
  readonly landed: boolean;
}

export interface SimRun {
  readonly events: readonly SimEvent[];
  readonly records: readonly HistoryRecord[];
}

export interface SimSpec {
  readonly producers: number;
  readonly users: number;
  readonly partitions: number;
  /** One entry per offered event, in offer order. */
  readonly sends: ReadonlyArray<{ readonly user: number; readonly outcome: Outcome; readonly landed: boolean }>;
  /** ms between offers. Default 10. */
  readonly intervalMs?: number;
  readonly startAt?: number;
  readonly drainComplete?: boolean;
}

/** The records a correct pipeline would produce for `spec` (offers, outcomes, output in order, drain). */
export function simulate(spec: SimSpec): SimRun {
  const interval = spec.intervalMs ?? 10;
  const start = spec.startAt ?? 1_700_000_000_000;
  const userSeq = new Map<number, number>();
  const nextSeq = new Map<number, number>();
  const events: SimEvent[] = spec.sends.map((s, k) => {
    const producer = k % spec.producers;
    const seq = nextSeq.get(producer) ?? 0;
    nextSeq.set(producer, seq + 1);
    const us = userSeq.get(s.user) ?? 0;
    userSeq.set(s.user, us + 1);
    return {
      producer,
      seq,
      eventId: formatEventId(producer, seq),
      userId: `user-${s.user}`,
      userSeq: us,
      partition: s.user % spec.partitions,
      sentAt: start + k * interval,
      outcome: s.outcome,
      landed: s.outcome === 'acked' || (s.outcome === 'unknown' && s.landed),
    };
  });
  const records: HistoryRecord[] = [];
  for (const e of events) {
    records.push({
      kind: 'offered',
      time: e.sentAt,
      eventId: e.eventId,
      userId: e.userId,
      userSeq: e.userSeq,
      sentAt: e.sentAt,
    });
    records.push({ kind: 'outcome', time: e.sentAt + 3, eventId: e.eventId, outcome: e.outcome, sentAt: e.sentAt });
  }
  const offsets = new Map<number, number>();
  for (const e of events) {
    if (!e.landed) continue;
    const offset = offsets.get(e.partition) ?? 0;
    offsets.set(e.partition, offset + 1);
    records.push(observationOf(e, offset, e.sentAt + 40));
  }
  const last = start + events.length * interval + 100;
  records.push({ kind: 'drain', time: last, complete: spec.drainComplete ?? true });
  return { events, records };
}

export function observationOf(e: SimEvent, offset: number, time: number): ObservedRecord {
  return {
    kind: 'observed',
    time,
    eventId: e.eventId,
    key: e.userId,
    partition: e.partition,
    offset,
    userSeq: e.userSeq,
    sentAt: e.sentAt,
  };
}

/** Arbitrary correct-run spec: unknown sends resolved either way (landed once or not at all). */
export function simSpecArbitrary(options: { maxEvents?: number } = {}): fc.Arbitrary<SimSpec> {
  return fc
    .record({
      producers: fc.integer({ min: 1, max: 4 }),
      users: fc.integer({ min: 1, max: 6 }),
      partitions: fc.integer({ min: 1, max: 3 }),
    })
    .chain(({ producers, users, partitions }) =>
      fc.record({
        producers: fc.constant(producers),
        users: fc.constant(users),
        partitions: fc.constant(partitions),
        sends: fc.array(
          fc.record({
            user: fc.integer({ min: 0, max: users - 1 }),
            outcome: fc.constantFrom<Outcome>('acked', 'acked', 'acked', 'failed', 'unknown'),
            landed: fc.boolean(),
          }),
          { minLength: 1, maxLength: options.maxEvents ?? 120 },
        ),
        intervalMs: fc.integer({ min: 1, max: 400 }),
      }),
    );
}

export const MUTATIONS = ['lose', 'duplicate', 'reorder', 'unexpected', 'failed-seen', 'undecodable'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/**
 * Breaks a correct run in one known way; `pick` (0..1) chooses which event. Returns undefined when the run has no
 * event the mutation applies to (e.g. nothing acked to lose), so callers can skip rather than assert nothing.
 */
export function mutate(run: SimRun, mutation: Mutation, pick: number): HistoryRecord[] | undefined {
  const records = [...run.records];
  const observed = records.flatMap((r, i) => (r.kind === 'observed' ? [i] : []));
  const drainAt = records.findIndex((r) => r.kind === 'drain');
  const choose = <T>(xs: readonly T[]): T | undefined => xs[Math.min(xs.length - 1, Math.floor(pick * xs.length))];
  switch (mutation) {
    case 'lose': {
      const acked = observed.filter((i) => {
        const id = (records[i] as ObservedRecord).eventId;
        return run.events.some((e) => e.eventId === id && e.outcome === 'acked');
      });
      const i = choose(acked);
      if (i === undefined) return undefined;
      records.splice(i, 1);
      return records;
    }
    case 'duplicate': {
      const i = choose(observed);
      if (i === undefined) return undefined;
      const r = records[i] as ObservedRecord;
      records.splice(drainAt, 0, { ...r, time: r.time + 1000, offset: r.offset + 100_000 });
      return records;
    }
    case 'reorder': {
      // Swap the output positions of two events of one user (first sightings, same partition).
      for (let a = 0; a < observed.length; a++) {
        const ra = records[observed[a]!] as ObservedRecord;
        for (let b = a + 1; b < observed.length; b++) {
          const rb = records[observed[b]!] as ObservedRecord;
          if (ra.key === rb.key) {
            records[observed[a]!] = { ...rb, time: ra.time, offset: ra.offset };
            records[observed[b]!] = { ...ra, time: rb.time, offset: rb.offset };
            return records;
          }
        }
      }
      return undefined;
    }
    case 'unexpected': {
      const producers = new Set(run.events.map((e) => e.producer));
      const stranger = formatEventId(Math.max(...producers) + 1, 0);
      records.splice(drainAt, 0, {
        kind: 'observed',
        time: records[drainAt]!.time - 1,
        eventId: stranger,
        key: 'user-stranger',
        partition: 0,
        offset: 1_000_000,
        userSeq: 0,
        sentAt: records[drainAt]!.time - 50,
      });
      return records;
    }
    case 'failed-seen': {
      const e = choose(run.events.filter((x) => x.outcome === 'failed'));
      if (e === undefined) return undefined;
      records.splice(drainAt, 0, observationOf(e, 2_000_000, records[drainAt]!.time - 1));
      return records;
    }
    case 'undecodable': {
      records.splice(drainAt, 0, {
        kind: 'observed',
        time: records[drainAt]!.time - 1,
        eventId: undefined,
        key: 'user-0',
        partition: 0,
        offset: 3_000_000,
        userSeq: undefined,
        sentAt: undefined,
        raw: Buffer.from([0xde, 0xad]).toString('base64'),
        decodeError: 'not Avro',
      });
      return records;
    }
  }
}

export interface OracleVerdict {
  lost: string[];
  duplicated: string[];
  unexpected: string[];
  unknownSeen: string[];
  unknownNotSeen: string[];
  reordered: number;
  undecodable: number;
}

/**
 * The naive reference semantics over raw records, with Sets and Maps and no cleverness: what the bitset checkers
 * must agree with. Same rules as the docs: definite outcomes beat unknown, first sightings only for order.
 */
export function oracle(records: readonly HistoryRecord[]): OracleVerdict {
  const offered = new Set<string>();
  const outcome = new Map<string, Set<Outcome>>();
  const seen = new Map<string, number>();
  const last = new Map<string, number>();
  let reordered = 0;
  let undecodable = 0;
  for (const r of records) {
    if (r.kind === 'offered') offered.add(r.eventId);
    else if (r.kind === 'outcome') {
      offered.add(r.eventId);
      const s = outcome.get(r.eventId) ?? new Set<Outcome>();
      s.add(r.outcome);
      outcome.set(r.eventId, s);
    } else if (r.kind === 'observed') {
      if (r.eventId === undefined) {
        undecodable++;
        continue;
      }
      const n = (seen.get(r.eventId) ?? 0) + 1;
      seen.set(r.eventId, n);
      if (n === 1 && r.key !== undefined && r.userSeq !== undefined) {
        const k = `${r.partition}/${r.key}`;
        const prev = last.get(k);
        if (prev !== undefined && r.userSeq <= prev) reordered++;
        else last.set(k, r.userSeq);
      }
    }
  }
  const is = (id: string, o: Outcome) => outcome.get(id)?.has(o) ?? false;
  const definite = (id: string) => is(id, 'acked') || is(id, 'failed');
  const sort = (xs: string[]) => xs.sort(byEventId);
  return {
    lost: sort([...offered].filter((id) => is(id, 'acked') && !is(id, 'failed') && !seen.has(id))),
    duplicated: sort([...seen].filter(([, n]) => n > 1).map(([id]) => id)),
    unexpected: sort([...seen.keys()].filter((id) => !offered.has(id) || (is(id, 'failed') && !is(id, 'acked')))),
    unknownSeen: sort([...offered].filter((id) => !definite(id) && seen.has(id))),
    unknownNotSeen: sort([...offered].filter((id) => !definite(id) && !seen.has(id))),
    reordered,
    undecodable,
  };
}

/** Orders `${producer}-${seq}` ids the way the checkers report them: producer, then seq. */
export function byEventId(a: string, b: string): number {
  const [pa, sa] = a.split('-').map(Number) as [number, number];
  const [pb, sb] = b.split('-').map(Number) as [number, number];
  return pa - pb || sa - sb;
}

/**
 * The records of one send: the offer of `eventId` (user `u`, seq and times from its seq; `bad` marks a bad event)
 * and its outcome one ms later (`none`: the run stopped before one was recorded).
 */
export function sendRecords(eventId: string, outcome: Outcome | 'none' = 'acked', bad = false): HistoryRecord[] {
  const seq = parseEventId(eventId)!.seq;
  const offered: HistoryRecord = {
    kind: 'offered',
    time: seq,
    eventId,
    userId: 'u',
    userSeq: seq,
    sentAt: seq,
    ...(bad ? { bad: true } : {}),
  };
  if (outcome === 'none') return [offered];
  return [offered, { kind: 'outcome', time: seq + 1, eventId, outcome, sentAt: seq }];
}
