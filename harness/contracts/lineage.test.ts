import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asVersion, type Event } from '../../generators/event.ts';
import { encodeConfluent, encodeJson, eventType } from '../../generators/schemas.ts';
import { ev } from '../../test/fixtures/models/support.ts';
import { type LatencyResult, type LineageResult, latency, order, runCheckers, schema } from '../checkers/index.ts';
import { History, type HistoryRecord, type Outcome } from '../history/index.ts';
import { recordObserved } from '../runner/observer-decode.ts';
import { StreamproofError } from '../util/errors.ts';
import type { ContractRun, ContractSetup, InputRecord, OutputRecord } from './contract.ts';
import { createLineageContract, lineageContract } from './lineage.ts';
import { validateLineage } from './lineage-spec.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/lineage');

function setup(over: Partial<ContractSetup> = {}): ContractSetup {
  return { format: 'json', versionOf: () => undefined, registryUrl: undefined, baseDir: fixtures, ...over };
}

function contract(lineage: unknown, over: Partial<ContractSetup> = {}): Promise<ContractRun> {
  return createLineageContract(validateLineage(lineage, 'sut.lineage'), setup(over));
}

/** A history in which each event was offered and got `outcome` (the records written, for inspection). */
function sent(events: readonly Event[], outcome: Outcome = 'acked'): { history: History; records: HistoryRecord[] } {
  const history = new History();
  const records: HistoryRecord[] = [];
  const record = history.record.bind(history);
  history.record = (r) => {
    records.push(r);
    record(r);
  };
  for (const e of events) {
    const { event_id: eventId, user_id: userId, user_seq: userSeq, sent_at: sentAt } = e;
    history.record({ kind: 'offered', time: sentAt, eventId, userId, userSeq, sentAt });
    history.record({ kind: 'outcome', time: sentAt + 1, eventId, outcome, sentAt });
  }
  records.length = 0;
  return { history, records };
}

/** The input topic as it landed: one partition, offsets in order. */
function landed(events: readonly Event[]): InputRecord[] {
  return events.map((e, offset) => ({ key: e.user_id, value: encodeJson(e), partition: 0, offset, event: e }));
}

let nextOffset = 0;
/** An output record; a non-Buffer value is written as JSON. */
function out(value: unknown, o: Partial<OutputRecord> = {}): OutputRecord {
  const v = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
  return { key: undefined, value: v, headers: new Map(), partition: 0, offset: nextOffset++, time: 5000, ...o };
}

async function judge(
  c: ContractRun,
  history: History,
  input: readonly InputRecord[],
  o: { drainComplete?: boolean; committed?: Record<string, number> } = {},
) {
  await c.finish({
    history,
    input: async () => input,
    drainComplete: o.drainComplete ?? true,
    committed: o.committed ?? {},
    outDir: tmpdir(),
  });
  const composed = runCheckers(history, [...c.checkers(), order({ keyAffinity: c.keyAffinity }), schema(), latency()]);
  return { composed, r: composed.results.lineage as LineageResult };
}

const clicks = [ev(0, 'u0000001', 'click', 0), ev(1, 'u0000001', 'click', 1), ev(2, 'u0000002', 'click', 0)];

describe('lineage contract: where outputs name their source', () => {
  it('field:event_id of JSON values: every input once passes', async () => {
    const c = await contract({ id: 'field:event_id' });
    expect(c).toMatchObject({ name: 'lineage', keyAffinity: false });
    for (const e of clicks) expect(c.decode(out({ event_id: e.event_id, enriched: true }))).toBeNull();
    const { history } = sent(clicks);
    const { r, composed } = await judge(c, history, landed(clicks));
    expect(r).toMatchObject({ valid: true, anomalyTypes: [], drainComplete: true });
    expect(r.counts).toMatchObject({ offered: 3, landed: 3, expectedInputs: 3, outputs: 3, ok: 3 });
    expect(composed.verdict).toBe('pass');
    expect(c.anomalies(history, composed)).toEqual({
      lost: [],
      unseen: [],
      duplicated: [],
      unexpected: [],
      ackedNotLanded: [],
    });
  });

  const variants: [string, string, (id: string) => OutputRecord, OutputRecord, RegExp][] = [
    ['a nested field', 'field:meta.src', (id) => out({ meta: { src: id } }), out({ meta: {} }), /no field:meta\.src/],
    [
      'a header',
      'header:x-source-id',
      (id) => out({ n: 1 }, { headers: new Map([['x-source-id', Buffer.from(id)]]) }),
      out({ n: 1 }, { headers: new Map([['x-other', Buffer.from('0-0')]]) }),
      /no header:x-source-id in the output record \(absent\)/,
    ],
    ['the key', 'key', (id) => out(Buffer.from('opaque'), { key: id }), out(Buffer.from('opaque')), /no key/],
    [
      'a lake row',
      'field:source_id',
      (id) => out(Buffer.alloc(0), { row: { source_id: id, n: 3 } }),
      out(Buffer.alloc(0), { row: { n: 3 } }),
      /no field:source_id/,
    ],
  ];
  it.each(variants)('%s (%s); an output without it throws from decode', async (_, id, named, without, message) => {
    const c = await contract({ id });
    for (const e of clicks) expect(c.decode(named(e.event_id))).toBeNull();
    expect(() => c.decode(without)).toThrow(message);
    const { r } = await judge(c, sent(clicks).history, landed(clicks));
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ ok: 3, outputs: 3 });
  });

  it('an output with no usable id is undecodable: the runner records it, the schema checker flags it', async () => {
    const c = await contract({ id: 'field:event_id' });
    expect(() => c.decode(out({ id: '0-0' }))).toThrow(/no field:event_id in the output record \(absent\)/);
    expect(() => c.decode(out({ event_id: '' }))).toThrow(/\(""\)/);
    expect(() => c.decode(out({ event_id: { id: '0-0' } }))).toThrow(/\{"id":"0-0"\}/);
    expect(() => c.decode(out(Buffer.from('not json')))).toThrow();
    expect(() => c.decode(out(Buffer.alloc(0)))).toThrow();
    const lake = await contract({ id: 'field:n' });
    expect(() => lake.decode(out(Buffer.alloc(0), { row: { n: null } }))).toThrow(/no field:n .*\(null\)/);
    const { history } = sent([clicks[0]!]);
    recordObserved(history, c.decode, undefined, out({ id: '0-0' }, { offset: 7 }));
    c.decode(out({ event_id: '0-0' }));
    const { composed } = await judge(c, history, landed([clicks[0]!]));
    expect(composed.results.lineage!.valid).toBe(true);
    expect(composed.results.schema).toMatchObject({ valid: false, counts: { undecodable: 1 } });
    expect(history.observations.undecodableExamples[0]).toMatchObject({ offset: 7, decodeError: /no field:event_id/ });
  });

  it('no output carrying the id at all is an error of the scenario: LINEAGE_ID_NOT_FOUND (exit 3) at finish', async () => {
    const c = await contract({ id: 'field:nope' });
    for (let i = 0; i < 3; i++) expect(() => c.decode(out({ event_id: `0-${i}` }))).toThrow(/no field:nope/);
    const err = await judge(c, sent([]).history, []).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LINEAGE_ID_NOT_FOUND', details: { path: 'sut.lineage.id' } });
    expect((err as Error).message).toMatch(/none of the 3 output record\(s\) has field:nope .*event_id/);
  });

  it('a numeric id is read as its decimal text (a bigint lake cell too)', async () => {
    const c = await contract({ id: 'field:src' });
    c.decode(out({ src: 42 }));
    c.decode(out(Buffer.alloc(0), { row: { src: 43n } }));
    expect(() => c.decode(out(Buffer.alloc(0), { row: { src: { n: 1n } } }))).toThrow(/\(\{"n":"1n"\}\)$/);
    expect(() => c.decode(out({ src: ['x'.repeat(500)] }))).toThrow(/\(\["x{75}\.\.\.\)$/);
    const { r } = await judge(c, sent([]).history, []);
    expect(r.unexpected).toEqual([
      { eventId: '42', reason: 'never-offered', seen: 1 },
      { eventId: '43', reason: 'never-offered', seen: 1 },
    ]);
  });
});

describe('lineage contract: how often each input must come out', () => {
  // impression, click, conversion, impression, click
  const mixed = [
    ev(0, 'u0000001', 'impression', 0),
    ev(1, 'u0000001', 'click', 1),
    ev(2, 'u0000001', 'conversion', 2),
    ev(3, 'u0000002', 'impression', 0),
    ev(4, 'u0000002', 'click', 1),
  ];

  it('where: filtered inputs must not come out (unexpected, filtered); a missing one is lost', async () => {
    const c = await contract({ id: 'field:event_id', expect: { where: { type: ['click', 'conversion'] } } });
    for (const id of ['0-1', '0-2', '0-3']) c.decode(out({ event_id: id }));
    const { history } = sent(mixed);
    const { r, composed } = await judge(c, history, landed(mixed));
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['lost', 'unexpected']);
    expect(r.unexpected).toEqual([{ eventId: '0-3', reason: 'filtered', seen: 1 }]);
    expect(r.lost).toEqual([{ eventId: '0-4', expected: 1, seen: 0 }]);
    expect(r.counts).toMatchObject({ filteredInputs: 2, expectedInputs: 3, ok: 2, unexpectedFiltered: 1 });
    expect(composed.verdict).toBe('fail');
    expect(c.anomalies(history, composed)).toMatchObject({ lost: r.lost, unexpected: r.unexpected });
  });

  it('once: a second output is duplicated, no output lost', async () => {
    const c = await contract({ id: 'field:event_id' });
    for (const id of ['0-0', '0-0', '0-2']) c.decode(out({ event_id: id }));
    const { r } = await judge(c, sent(clicks).history, landed(clicks));
    expect(r.anomalyTypes).toEqual(['lost', 'duplicated']);
    expect(r.duplicated).toEqual([{ eventId: '0-0', expected: 1, seen: 2 }]);
    expect(r.lost).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
  });

  it('a module expectation fans out: two per click, none for the rest', async () => {
    const c = await contract({ id: 'field:event_id', expect: './two-per-click.ts' });
    // 0-1 twice (ok), 0-4 once (lost one), 0-0 an impression (filtered)
    for (const id of ['0-1', '0-4', '0-1', '0-0']) c.decode(out({ event_id: id }));
    const { r } = await judge(c, sent(mixed).history, landed(mixed));
    expect(r.counts).toMatchObject({ expectedInputs: 2, expectedOutputs: 4, filteredInputs: 3, ok: 1, outputs: 4 });
    expect(r.lost).toEqual([{ eventId: '0-4', expected: 2, seen: 1 }]);
    expect(r.unexpected).toEqual([{ eventId: '0-0', reason: 'filtered', seen: 1 }]);
    const more = await contract({ id: 'field:event_id', expect: './two-per-click.ts' });
    for (const id of ['0-1', '0-1', '0-1', '0-4', '0-4']) more.decode(out({ event_id: id }));
    const { r: r2 } = await judge(more, sent(mixed).history, landed(mixed));
    expect(r2.anomalyTypes).toEqual(['duplicated']);
    expect(r2.duplicated).toEqual([{ eventId: '0-1', expected: 2, seen: 3 }]);
  });

  it('a JavaScript module returning booleans counts true as once, false as never', async () => {
    const c = await contract({ id: 'field:event_id', expect: './consented.mjs' });
    for (const id of ['0-1', '0-2', '0-4']) c.decode(out({ event_id: id }));
    const { r } = await judge(c, sent(mixed).history, landed(mixed));
    expect(r).toMatchObject({ valid: true, counts: { expectedInputs: 3, filteredInputs: 2, ok: 3 } });
  });

  it('a module that throws or returns no count fails at finish (EXPECT_FAILED, exit 3) naming the event', async () => {
    const throws = await contract({ id: 'field:event_id', expect: './throws.ts' });
    const err = await judge(throws, sent(mixed).history, landed(mixed)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamproofError);
    expect(err).toMatchObject({ code: 'EXPECT_FAILED', exit: 3, details: { path: 'sut.lineage.expect' } });
    expect((err as Error).message).toBe('sut.lineage.expect: threw on event 0-2: cannot count a conversion');
    const fraction = await contract({ id: 'field:event_id', expect: './fraction.ts' });
    const err2 = await judge(fraction, sent(mixed).history, landed(mixed)).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'EXPECT_FAILED', message: /returned 0\.5 for event 0-0: expected an integer/ });
  });

  it.each([
    ['./missing.ts', /missing\.ts: no such file/],
    ['./not-a-function.ts', /not-a-function\.ts: the default export is not a function/],
  ])('%s is bad input (EXPECT_INVALID, exit 64) before anything runs', async (module, message) => {
    const err = await contract({ id: 'field:event_id', expect: module }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamproofError);
    expect(err).toMatchObject({ code: 'EXPECT_INVALID', exit: 64, details: { path: 'sut.lineage.expect' } });
    expect((err as Error).message).toMatch(/^sut\.lineage\.expect: /);
    expect((err as Error).message).toMatch(message);
  });
});

describe('lineage contract: judging against what landed', () => {
  it('an id nobody offered is unexpected (never-offered); a failed send that never landed, not-in-input', async () => {
    const c = lineageContract(validateLineage({ id: 'field:event_id' }, 'sut.lineage'), setup(), () => 1);
    for (const id of ['0-0', '9-3', 'garbage', '0-7']) c.decode(out({ event_id: id }));
    const { history } = sent([clicks[0]!]);
    history.record({ kind: 'offered', time: 1, eventId: '0-1', userId: 'u0000001', userSeq: 1, sentAt: 1 });
    history.record({ kind: 'outcome', time: 2, eventId: '0-1', outcome: 'failed', sentAt: 1 });
    c.decode(out({ event_id: '0-1' }));
    const { r } = await judge(c, history, landed([clicks[0]!]));
    expect(r.anomalyTypes).toEqual(['unexpected']);
    expect(r.unexpected).toEqual([
      { eventId: '0-1', reason: 'not-in-input', seen: 1 },
      { eventId: '9-3', reason: 'never-offered', seen: 1 },
      { eventId: 'garbage', reason: 'never-offered', seen: 1 },
      { eventId: '0-7', reason: 'never-offered', seen: 1 },
    ]);
  });

  it('after an incomplete drain a missing event is unseen (unknown), lost once the group committed past it', async () => {
    const run = async (committed: Record<string, number>) => {
      const c = await contract({ id: 'field:event_id' });
      for (const id of ['0-0', '0-2']) c.decode(out({ event_id: id }));
      return judge(c, sent(clicks).history, landed(clicks), { drainComplete: false, committed });
    };
    const notYet = await run({});
    expect(notYet.r).toMatchObject({ valid: 'unknown', anomalyTypes: [], drainComplete: false });
    expect(notYet.r.unseen).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
    expect(notYet.r.reason).toMatch(/raise drain\.timeout/);
    expect(notYet.composed.verdict).toBe('unknown');
    // the committed offset is the next one to read: 1 is not past offset 1, 2 is
    expect((await run({ '0': 1 })).r.valid).toBe('unknown');
    const past = await run({ '0': 2 });
    expect(past.r).toMatchObject({ valid: false, anomalyTypes: ['lost'] });
    expect(past.r.lost).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
    expect((await run({ '1': 99 })).r.valid).toBe('unknown');
  });

  it('records first sightings as observed, in consumption order, with the source user, seq and send time', async () => {
    const c = await contract({ id: 'field:event_id' });
    // u0000001's seq 1 comes out before its seq 0 on partition 1; 0-1 comes out twice
    c.decode(out({ event_id: '0-1' }, { partition: 1, offset: 0, time: 5000 }));
    c.decode(out({ event_id: '0-0' }, { partition: 1, offset: 1, time: 5100 }));
    c.decode(out({ event_id: '0-2' }, { partition: 0, offset: 0, time: 5200 }));
    c.decode(out({ event_id: '0-1' }, { partition: 1, offset: 2, time: 5300 }));
    const { history, records } = sent(clicks);
    const { r, composed } = await judge(c, history, landed(clicks));
    expect(records).toEqual([
      {
        kind: 'observed',
        time: 5200,
        eventId: '0-2',
        key: 'u0000002',
        partition: 0,
        offset: 0,
        userSeq: 0,
        sentAt: 1002,
      },
      {
        kind: 'observed',
        time: 5000,
        eventId: '0-1',
        key: 'u0000001',
        partition: 1,
        offset: 0,
        userSeq: 1,
        sentAt: 1001,
      },
      {
        kind: 'observed',
        time: 5100,
        eventId: '0-0',
        key: 'u0000001',
        partition: 1,
        offset: 1,
        userSeq: 0,
        sentAt: 1000,
      },
    ]);
    expect(r.duplicated).toEqual([{ eventId: '0-1', expected: 1, seen: 2 }]);
    expect(composed.results.order).toMatchObject({
      valid: false,
      anomalyTypes: ['reordered'],
      reordered: [{ userId: 'u0000001', partition: 1, eventId: '0-0', userSeq: 0, previousUserSeq: 1 }],
    });
    const e2e = (composed.results.latency as LatencyResult).e2e;
    expect(e2e.count).toBe(3);
    expect(e2e.minMs).toBeCloseTo(3999, -1);
    expect(e2e.maxMs).toBeCloseTo(4198, -1);
  });
});

describe('lineage contract: Avro outputs', () => {
  const v3 = (e: Event): Event => ({ ...asVersion(e, 3), schema_version: 3 });

  it("decodes the run's own schemas without a registry", async () => {
    const c = await contract(
      { id: 'field:event_id' },
      { format: 'avro', versionOf: (id) => (({ 7: 3, 8: 1 }) as const)[id] },
    );
    c.decode(out(encodeConfluent(7, eventType(3), v3(clicks[0]!))));
    c.decode(out(encodeConfluent(8, eventType(1), clicks[1]!)));
    c.decode(out(encodeConfluent(7, eventType(3), v3(clicks[2]!))));
    expect(() => c.decode(out(encodeConfluent(8, eventType(3), v3(clicks[2]!))))).toThrow(/trailing|v1/);
    const { r, composed } = await judge(c, sent(clicks).history, landed(clicks));
    expect(r.counts).toMatchObject({ ok: 3, outputs: 3 });
    expect(composed.results.schema!.valid).toBe(true);
  });

  it('an unknown schema id without a registry: undecodable, recorded in the history at finish', async () => {
    const c = await contract(
      { id: 'field:event_id' },
      { format: 'avro', versionOf: (id) => (id === 7 ? 3 : undefined) },
    );
    c.decode(out(encodeConfluent(7, eventType(3), v3(clicks[0]!))));
    expect(c.decode(out(encodeConfluent(99, eventType(3), v3(clicks[1]!)), { offset: 41 }))).toBeNull();
    const { history } = sent(clicks.slice(0, 2));
    expect(history.observations.undecodableCount).toBe(0);
    const { r, composed } = await judge(c, history, landed(clicks.slice(0, 2)));
    expect(history.observations.undecodableExamples).toEqual([
      expect.objectContaining({ offset: 41, decodeError: 'schema id 99: the run has no schema registry' }),
    ]);
    expect(composed.results.schema).toMatchObject({ valid: false, anomalyTypes: ['undecodable'] });
    expect(r.lost).toEqual([{ eventId: '0-1', expected: 1, seen: 0 }]);
  });

  it("fetches another schema from the registry once; a fetched record keeps its place as the source's first", async () => {
    const enriched = {
      type: 'record',
      name: 'Enriched',
      fields: [
        { name: 'source', type: { type: 'record', name: 'Source', fields: [{ name: 'id', type: 'string' }] } },
        { name: 'score', type: 'double' },
      ],
    };
    const type = (await import('avsc')).default.Type.forSchema(enriched as never);
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const found = req.url === '/schemas/ids/21';
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ? { schema: JSON.stringify(enriched) } : { error_code: 40403 }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = await contract(
        { id: 'field:source.id', expect: './two-per-click.ts' },
        { format: 'avro', registryUrl },
      );
      const rec = (id: string, o: Partial<OutputRecord>) =>
        out(encodeConfluent(21, type, { source: { id }, score: 0.5 }), o);
      // read while the schema is being fetched: kept until finish
      expect(c.decode(rec('0-0', { offset: 0, time: 5000 }))).toBeNull();
      c.decode(out(encodeConfluent(22, type, { source: { id: '0-1' }, score: 1 }), { offset: 1, time: 5050 }));
      await new Promise((ok) => setTimeout(ok, 200));
      // read once it is known: decoded at once
      c.decode(rec('0-0', { offset: 2, time: 6000 }));
      c.decode(rec('0-2', { offset: 3, time: 6100 }));
      c.decode(rec('0-2', { offset: 4, time: 6200 }));
      const { history, records } = sent(clicks);
      const { r, composed } = await judge(c, history, landed(clicks));
      expect(asked.sort()).toEqual(['/schemas/ids/21', '/schemas/ids/22']);
      expect(r.counts).toMatchObject({ ok: 2, outputs: 4 });
      expect(r.lost).toEqual([{ eventId: '0-1', expected: 2, seen: 0 }]);
      expect(composed.results.schema).toMatchObject({ valid: false, counts: { undecodable: 1 } });
      expect(history.observations.undecodableExamples[0]!.decodeError).toMatch(/HTTP 404/);
      expect(records.filter((x) => x.kind === 'observed' && x.eventId !== undefined)).toEqual([
        expect.objectContaining({ eventId: '0-0', offset: 0, time: 5000 }),
        expect.objectContaining({ eventId: '0-2', offset: 3, time: 6100 }),
      ]);
    } finally {
      server.close();
    }
  });
});
