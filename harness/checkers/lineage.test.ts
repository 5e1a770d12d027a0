import { describe, expect, it } from 'vitest';
import { sendRecords } from '../history/fixtures.ts';
import { type History, type HistoryRecord, historyOf, parseEventId } from '../history/index.ts';
import { checkLineage, lineage, lineageEntries, listLineageAnomalies } from './lineage.ts';
import { BAD, COMMITTED_PAST, LineageTally } from './lineage-tally.ts';

/** An offer of `eventId` and its outcome (`none`: the run stopped before one was recorded). */
const send = sendRecords;

interface Input {
  /** Event id -> outputs it must produce (0: filtered). */
  readonly expected?: number;
  readonly committedPast?: boolean;
}

interface TallySpec {
  /** What landed in the input topic (bad offers land with BAD and expected 0, as the contract does). */
  readonly landed?: Readonly<Record<string, Input | number>>;
  /** Output records, by the id each names. */
  readonly seen?: readonly string[];
  /** undefined: the input was not read back. */
  readonly drainComplete: boolean | undefined;
}

/** Fills a tally the way the lineage contract does: offered range, bad offers, input records, then outputs. */
function tallyOf(history: History, spec: TallySpec): LineageTally {
  const tally = new LineageTally();
  for (const p of history.outcomes.producers()) {
    tally.reserve(p, history.outcomes.get(p)!.offered.size);
    const bad = history.outcomes.get(p)!.bad;
    for (let seq = 0; seq < bad.size; seq++) if (bad.get(seq)) tally.markBad(p, seq);
  }
  for (const [id, v] of Object.entries(spec.landed ?? {})) {
    const input: Input = typeof v === 'number' ? { expected: v } : v;
    const ref = parseEventId(id)!;
    const past = input.committedPast ? COMMITTED_PAST : 0;
    if (history.outcomes.isBad(ref.producer, ref.seq)) tally.land(id, 0, BAD | past);
    else tally.land(id, input.expected ?? 1, past);
  }
  for (const id of spec.seen ?? []) tally.see(id);
  tally.drainComplete = spec.drainComplete;
  return tally;
}

function judge(records: HistoryRecord[], spec: TallySpec) {
  const h = historyOf(records);
  const tally = tallyOf(h, spec);
  return { h, tally, r: checkLineage(h, tally) };
}

describe('lineage', () => {
  it('passes when every landed input comes out as often as expected', () => {
    const { r } = judge([...send('0-0'), ...send('0-1')], {
      landed: { '0-0': 1, '0-1': 1 },
      seen: ['0-0', '0-1'],
      drainComplete: true,
    });
    expect(r.valid).toBe(true);
    expect(r.anomalyTypes).toEqual([]);
    expect(r.reason).toBeUndefined();
    expect(r.drainComplete).toBe(true);
    expect(r.counts).toMatchObject({ offered: 2, acked: 2, landed: 2, expectedInputs: 2, outputs: 2, ok: 2 });
  });

  it('lost: a landed input that never came out after a complete drain', () => {
    const { r } = judge([...send('0-0'), ...send('0-1')], {
      landed: { '0-0': 1, '0-1': 1 },
      seen: ['0-0'],
      drainComplete: true,
    });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
    expect(r.counts).toMatchObject({ lost: 1, ok: 1, unseen: 0 });
  });

  it('unseen: missing after an incomplete drain is unknown, never false', () => {
    const { r } = judge([...send('0-0'), ...send('0-1')], {
      landed: { '0-0': 1, '0-1': 1 },
      seen: ['0-0'],
      drainComplete: false,
    });
    expect(r.valid).toBe('unknown');
    expect(r.anomalyTypes).toEqual([]);
    expect(r.unseen).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
    expect(r.lost).toEqual([]);
    expect(r.counts).toMatchObject({ unseen: 1, lost: 0 });
    expect(r.reason).toMatch(/1 input events came out fewer times than expected.*raise drain\.timeout/);
    expect(r.drainComplete).toBe(false);
  });

  it('lost after an incomplete drain when the pipeline committed past the input record', () => {
    const { r } = judge([...send('0-0'), ...send('0-1'), ...send('0-2')], {
      landed: { '0-0': { committedPast: true }, '0-1': 1, '0-2': { expected: 2, committedPast: true } },
      seen: ['0-2'],
      drainComplete: false,
    });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.lost).toEqual([
      { eventId: '0-0', expected: 1, seen: 0 },
      { eventId: '0-2', expected: 2, seen: 1 },
    ]);
    expect(r.unseen).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
    // The unseen one still explains itself beside the false verdict.
    expect(r.reason).toMatch(/fate is unknown/);
  });

  it('duplicated: more outputs than expected', () => {
    const { r } = judge([...send('0-0')], { landed: { '0-0': 1 }, seen: ['0-0', '0-0'], drainComplete: true });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['duplicated']);
    expect(r.duplicated).toEqual([{ eventId: '0-0', expected: 1, seen: 2 }]);
  });

  it('fan-out: expected 2 seen 2 is ok; 3 is duplicated; 1 is lost', () => {
    const ok = judge([...send('0-0')], { landed: { '0-0': 2 }, seen: ['0-0', '0-0'], drainComplete: true }).r;
    expect(ok.valid).toBe(true);
    expect(ok.counts).toMatchObject({ ok: 1, expectedInputs: 1, expectedOutputs: 2, outputs: 2 });
    const dup = judge([...send('0-0')], { landed: { '0-0': 2 }, seen: ['0-0', '0-0', '0-0'], drainComplete: true }).r;
    expect(dup.duplicated).toEqual([{ eventId: '0-0', expected: 2, seen: 3 }]);
    const lost = judge([...send('0-0')], { landed: { '0-0': 2 }, seen: ['0-0'], drainComplete: true }).r;
    expect(lost.lost).toEqual([{ eventId: '0-0', expected: 2, seen: 1 }]);
  });

  it('counts of 255 and more are exact', () => {
    const seen300 = Array.from({ length: 300 }, () => '0-0');
    expect(judge([...send('0-0')], { landed: { '0-0': 300 }, seen: seen300, drainComplete: true }).r.valid).toBe(true);
    const r = judge([...send('0-0')], { landed: { '0-0': 300 }, seen: [...seen300, '0-0'], drainComplete: true }).r;
    expect(r.duplicated).toEqual([{ eventId: '0-0', expected: 300, seen: 301 }]);
  });

  it('unexpected never-offered: ids past the offered range, in a gap, of another producer, or no id at all', () => {
    const { r } = judge([...send('0-0'), ...send('0-2')], {
      landed: { '0-0': 1, '0-2': 1 },
      seen: ['0-0', '0-2', '0-1', '0-9', '7-3', 'garbage', '0-9'],
      drainComplete: true,
    });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual([
      { eventId: '0-1', reason: 'never-offered', seen: 1 },
      { eventId: '0-9', reason: 'never-offered', seen: 2 },
      { eventId: '7-3', reason: 'never-offered', seen: 1 },
      { eventId: 'garbage', reason: 'never-offered', seen: 1 },
    ]);
    expect(r.counts).toMatchObject({ unexpected: 4, unexpectedNeverOffered: 4, ok: 2, outputs: 7 });
  });

  it('unexpected not-in-input: a failed or unknown send that did not land, named by an output', () => {
    const { r } = judge([...send('0-0', 'failed'), ...send('0-1', 'unknown'), ...send('0-2', 'none')], {
      seen: ['0-0', '0-1', '0-2'],
      drainComplete: true,
    });
    expect(r.valid).toBe(false);
    expect(r.unexpected).toEqual([
      { eventId: '0-0', reason: 'not-in-input', seen: 1 },
      { eventId: '0-1', reason: 'not-in-input', seen: 1 },
      { eventId: '0-2', reason: 'not-in-input', seen: 1 },
    ]);
    expect(r.counts).toMatchObject({ unexpectedNotInInput: 3, unknownSends: 2, unknownNotLanded: 2, failed: 1 });
  });

  it('a failed or unknown send that did not land and never came out is fine', () => {
    const { r } = judge([...send('0-0', 'failed'), ...send('0-1', 'unknown'), ...send('0-2')], {
      landed: { '0-2': 1 },
      seen: ['0-2'],
      drainComplete: true,
    });
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ ok: 1, unknownNotLanded: 1, failed: 1 });
  });

  it('unexpected filtered: an input expected 0 times that came out; not coming out is fine', () => {
    const { r } = judge([...send('0-0'), ...send('0-1')], {
      landed: { '0-0': 0, '0-1': 0 },
      seen: ['0-1'],
      drainComplete: true,
    });
    expect(r.valid).toBe(false);
    expect(r.unexpected).toEqual([{ eventId: '0-1', reason: 'filtered', seen: 1 }]);
    expect(r.counts).toMatchObject({ filteredInputs: 2, unexpectedFiltered: 1, expectedInputs: 0 });
  });

  it('unexpected bad-event: a bad event must never come out, landed or not', () => {
    const records = [...send('0-0', 'acked', true), ...send('0-1', 'acked', true), ...send('0-2', 'failed', true)];
    const clean = judge(records, { landed: { '0-0': 0 }, seen: [], drainComplete: true }).r;
    expect(clean.valid).toBe(true);
    // An acked bad event that is not in the input is not "acked-not-landed": it must not come out anyway.
    expect(clean.counts).toMatchObject({ badInputs: 3, ackedNotLanded: 0 });
    const r = judge(records, { landed: { '0-0': 0 }, seen: ['0-0', '0-2', '0-2'], drainComplete: true }).r;
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual([
      { eventId: '0-0', reason: 'bad-event', seen: 1 },
      { eventId: '0-2', reason: 'bad-event', seen: 2 },
    ]);
    expect(r.counts.unexpectedBadEvent).toBe(2);
  });

  it('acked but not landed: unknown with a reason, whatever the output says', () => {
    const { r } = judge([...send('0-0'), ...send('0-1')], {
      landed: { '0-0': 1 },
      seen: ['0-0', '0-1'],
      drainComplete: true,
    });
    expect(r.valid).toBe('unknown');
    expect(r.ackedNotLanded).toEqual(['0-1']);
    expect(r.reason).toMatch(/1 acked events are not in the input topic/);
  });

  it('a failed send that landed is judged like an acked one', () => {
    const ok = judge([...send('0-0', 'failed')], { landed: { '0-0': 1 }, seen: ['0-0'], drainComplete: true }).r;
    expect(ok.valid).toBe(true);
    expect(ok.counts).toMatchObject({ failedButLanded: 1, ok: 1 });
    const lost = judge([...send('0-0', 'failed')], { landed: { '0-0': 1 }, drainComplete: true }).r;
    expect(lost.anomalyTypes).toEqual(['lost']);
  });

  it('an unknown send that landed is judged like an acked one', () => {
    const { r } = judge([...send('0-0', 'unknown'), ...send('0-1', 'none')], {
      landed: { '0-0': 1, '0-1': 1 },
      seen: ['0-0', '0-1', '0-1'],
      drainComplete: true,
    });
    expect(r.counts).toMatchObject({ unknownSends: 2, unknownLanded: 2, ok: 1, duplicated: 1 });
    expect(r.anomalyTypes).toEqual(['duplicated']);
  });

  it('conflicting outcomes are unknown', () => {
    const { r } = judge([...send('0-0', 'acked'), ...send('0-0', 'failed')], {
      landed: { '0-0': 1 },
      seen: ['0-0'],
      drainComplete: true,
    });
    expect(r.valid).toBe('unknown');
    expect(r.counts.conflictingOutcomes).toBe(1);
    expect(r.reason).toMatch(/both acked and failed/);
  });

  it('an empty run is unknown; so is a tally the contract never filled', () => {
    const empty = judge([], { drainComplete: true }).r;
    expect(empty.valid).toBe('unknown');
    expect(empty.reason).toMatch(/nothing was offered/);
    const unread = judge([...send('0-0')], { drainComplete: undefined }).r;
    expect(unread.valid).toBe('unknown');
    expect(unread.drainComplete).toBeNull();
    expect(unread.reason).toMatch(/not read back/);
  });

  it('the drain state falls back to the history when the tally has none', () => {
    const records: HistoryRecord[] = [...send('0-0'), { kind: 'drain', time: 9, complete: true }];
    const h = historyOf(records);
    const tally = tallyOf(h, { landed: { '0-0': 1 }, drainComplete: undefined });
    // Judged lost (the history's drain completed); the missing read-back is reported beside the false verdict.
    const r = checkLineage(h, tally);
    expect(r.counts.lost).toBe(1);
    expect(r.anomalyTypes).toEqual(['lost']);
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/not read back/);
  });

  it('caps examples, counts everything, and lists everything on demand', () => {
    const records = Array.from({ length: 30 }, (_, i) => send(`0-${i}`)).flat();
    const landed = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`0-${i}`, 1]));
    const h = historyOf(records);
    const tally = tallyOf(h, { landed, drainComplete: true });
    const r = checkLineage(h, tally, { maxExamples: 3 });
    expect(r.lost.map((x) => x.eventId)).toEqual(['0-0', '0-1', '0-2']);
    expect(r.counts.lost).toBe(30);
    expect(listLineageAnomalies(h, tally).lost).toHaveLength(30);
    expect([...lineageEntries(h, tally)]).toHaveLength(30);
    expect(() => checkLineage(h, tally, { maxExamples: -1 })).toThrowError(/lineage\.maxExamples/);
    expect(() => lineage(tally, { maxExamples: 1.5 })).toThrowError(/lineage\.maxExamples/);
  });

  it('the checker reads its tally when it runs (a function) or as given', () => {
    const h = historyOf(send('0-0'));
    let tally = new LineageTally();
    const checker = lineage(() => tally);
    expect(checker.name).toBe('lineage');
    expect(checker.check(h).valid).toBe('unknown');
    tally = tallyOf(h, { landed: { '0-0': 1 }, seen: ['0-0'], drainComplete: true });
    expect(checker.check(h).valid).toBe(true);
    expect(lineage(tally).check(h).valid).toBe(true);
  });

  it('lists every finding in producer, seq order, then ids outside every range', () => {
    const { h, tally } = judge([...send('1-0'), ...send('0-0'), ...send('0-1', 'acked', true), ...send('0-2')], {
      landed: { '0-0': 1, '1-0': 0, '0-1': 0 },
      seen: ['x', '1-0', '0-1', '0-0', '0-0'],
      drainComplete: true,
    });
    expect([...lineageEntries(h, tally)]).toEqual([
      { anomaly: 'duplicated', eventId: '0-0', expected: 1, seen: 2 },
      { anomaly: 'unexpected', eventId: '0-1', reason: 'bad-event', seen: 1 },
      { anomaly: 'acked-not-landed', eventId: '0-2' },
      { anomaly: 'unexpected', eventId: '1-0', reason: 'filtered', seen: 1 },
      { anomaly: 'unexpected', eventId: 'x', reason: 'never-offered', seen: 1 },
    ]);
    expect(listLineageAnomalies(h, tally)).toEqual({
      lost: [],
      unseen: [],
      duplicated: [{ eventId: '0-0', expected: 1, seen: 2 }],
      unexpected: [
        { eventId: '0-1', reason: 'bad-event', seen: 1 },
        { eventId: '1-0', reason: 'filtered', seen: 1 },
        { eventId: 'x', reason: 'never-offered', seen: 1 },
      ],
      ackedNotLanded: ['0-2'],
    });
  });
});
