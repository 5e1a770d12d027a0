/**
 * The lineage contract: every output record names the input event it came from (`sut.lineage.id`), and each input
 * must come out as often as `sut.lineage.expect` says (once by default; 0 when filtered; N for a fan-out).
 *
 * `decode` only reads the id (a JSON or Avro field, a header, or the key; Avro in the Confluent wire format with the
 * run's own schemas, or any schema the registry holds, fetched by id once) and counts outputs per id, keeping the
 * first sighting's position. `finish` reads the input back (what really landed: unknown sends resolved), fills a
 * LineageTally (landed, expected count, bad, committed past) for the `lineage` checker, and records each source's
 * first sighting in the history as an `observed` record carrying the source's user, `user_seq` and intended send
 * time, in consumption order: the order (per user, by source `user_seq`), latency and SLO checkers apply unchanged.
 *
 * Memory: one map entry per distinct source id seen (about 100 bytes), plus the tally's 3 bytes per offered event.
 */

import avro from 'avsc';
import { traceEventId } from '../../generators/bad-slots.ts';
import type { Event } from '../../generators/event.ts';
import { decodeAvro, decodeConfluent } from '../../generators/schemas.ts';
import { BAD, COMMITTED_PAST, LineageTally, lineage, listLineageAnomalies } from '../checkers/index.ts';
import { type History, parseEventId } from '../history/index.ts';
import { RegistryClient } from '../registry/client.ts';
import { StreamproofError } from '../util/errors.ts';
import { importDefault } from '../util/import-module.ts';
import {
  type ContractFinish,
  type ContractRun,
  type ContractSetup,
  type OutputRecord,
  recordUndecodable,
} from './contract.ts';
import { type LineageSpec, valueAt, whereCount } from './lineage-spec.ts';

/** The outputs that named one source id: how many, and where the first one was read. */
interface Seen {
  n: number;
  time: number;
  partition: number;
  offset: number;
}

/** A value as a decode error shows it: JSON (bigints as `12n`), cut to 80 characters. */
function shown(v: unknown): string {
  if (v === undefined) return 'absent';
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    s = undefined;
  }
  s ??= String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Most outputs one input may be expected to produce (a guard against an expectation returning garbage). */
const MAX_EXPECTED = 1_000_000;

/** How many outputs `e` must produce, from the spec (a module's function is loaded by `createLineageContract`). */
function expectation(spec: LineageSpec, fn: ((e: Event) => unknown) | undefined): (e: Event) => number {
  const x = spec.expect;
  if (x.kind === 'once') return () => 1;
  if (x.kind === 'where') return (e) => whereCount(x.where, e);
  const at = `${spec.path}.expect`;
  return (e) => {
    let n: unknown;
    try {
      n = fn!(e);
    } catch (err) {
      throw StreamproofError.at('EXPECT_FAILED', `threw on event ${e.event_id}: ${(err as Error)?.message ?? err}`, {
        path: at,
        cause: err,
      });
    }
    if (typeof n === 'boolean') return n ? 1 : 0;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_EXPECTED) {
      throw StreamproofError.at(
        'EXPECT_FAILED',
        `returned ${JSON.stringify(n)} for event ${e.event_id}: expected an integer count in [0, ${MAX_EXPECTED}]`,
        { path: at },
      );
    }
    return n;
  };
}

/** Avro schemas by registry id, fetched once each (the run's own versions decode without a fetch). */
class WriterSchemas {
  readonly #types = new Map<number, Promise<avro.Type>>();
  readonly #ready = new Map<number, avro.Type>();
  constructor(private readonly setup: ContractSetup) {}

  /** The decoded body, or undefined when the schema is still being fetched (the caller keeps the record). */
  decode(schemaId: number, body: Buffer): unknown {
    const v = this.setup.versionOf(schemaId);
    if (v !== undefined) return decodeAvro(body, v);
    const t = this.#ready.get(schemaId);
    if (t) return t.fromBuffer(body);
    this.fetch(schemaId);
    return undefined;
  }

  fetch(schemaId: number): Promise<avro.Type> {
    let p = this.#types.get(schemaId);
    if (p === undefined) {
      const url = this.setup.registryUrl;
      p = url
        ? new RegistryClient(url).schemaById(schemaId).then((s) => {
            const t = avro.Type.forSchema(JSON.parse(s));
            this.#ready.set(schemaId, t);
            return t;
          })
        : Promise.reject(new Error(`schema id ${schemaId}: the run has no schema registry`));
      p.catch(() => undefined); // awaited in finish
      this.#types.set(schemaId, p);
    }
    return p;
  }
}

/** An output record without the id `sut.lineage.id` names. */
class NoId extends Error {}

/** The id an output record names, read the way `spec.id` says; throws (undecodable) when it has none. */
function idReader(spec: LineageSpec, schemas: WriterSchemas): (r: OutputRecord) => string | undefined {
  const id = spec.id;
  const text = (v: unknown): string => {
    if (typeof v === 'string' && v.length > 0) return v;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') return String(v);
    throw new NoId(`no ${id.text} in the output record (${shown(v)})`);
  };
  if (id.kind === 'key') return (r) => text(r.key);
  if (id.kind === 'header') return (r) => text(r.headers.get(id.name)?.toString('utf8'));
  return (r) => {
    if (r.row) return text(valueAt(r.row, id.path));
    const v = r.value;
    // Confluent's wire format starts with a zero byte; anything else is read as JSON text.
    if (v.length === 0 || v[0] !== 0) return text(valueAt(JSON.parse(v.toString('utf8')), id.path));
    const { schemaId, body } = decodeConfluent(v);
    const decoded = schemas.decode(schemaId, body);
    return decoded === undefined ? undefined : text(valueAt(decoded, id.path));
  };
}

/** Loads `expect`'s module when it names one (bad input, exit 64, before anything runs) and builds the contract. */
export async function createLineageContract(spec: LineageSpec, setup: ContractSetup): Promise<ContractRun> {
  let fn: ((e: Event) => unknown) | undefined;
  if (spec.expect.kind === 'module') {
    const at = `${spec.path}.expect`;
    const { value, abs } = await importDefault(
      spec.expect.module,
      setup.baseDir,
      'EXPECT_INVALID',
      at,
      'export default (event) => number',
    );
    if (typeof value !== 'function') {
      throw StreamproofError.at('EXPECT_INVALID', `${abs}: the default export is not a function (event) => number`, {
        path: at,
      });
    }
    fn = value as (e: Event) => unknown;
  }
  return lineageContract(spec, setup, expectation(spec, fn));
}

export function lineageContract(spec: LineageSpec, setup: ContractSetup, expected: (e: Event) => number): ContractRun {
  const schemas = new WriterSchemas(setup);
  const readId = idReader(spec, schemas);
  const seen = new Map<string, Seen>();
  /** Avro records whose writer schema was being fetched when they were read. */
  const pending: OutputRecord[] = [];
  let tally = new LineageTally();
  /** Output records read, and those without the id (with an example): all of them means the scenario is wrong. */
  let read = 0;
  let noId = 0;
  let noIdExample = '';

  const count = (id: string, r: OutputRecord) => {
    const s = seen.get(id);
    if (s === undefined) {
      seen.set(id, { n: 1, time: r.time, partition: r.partition, offset: r.offset });
      return;
    }
    s.n++;
    // Records kept while their writer schema was fetched are counted at finish, after records read later: the first
    // sighting is the earliest read (by offset within a partition, else by time), not the first counted.
    if (r.partition === s.partition ? r.offset < s.offset : r.time < s.time) {
      s.time = r.time;
      s.partition = r.partition;
      s.offset = r.offset;
    }
  };

  /** The pending records, once their schemas are fetched (a schema that cannot be: each record undecodable). */
  const settlePending = async (history: History) => {
    for (const r of pending) {
      try {
        await schemas.fetch(decodeConfluent(r.value).schemaId);
        count(readId(r)!, r);
      } catch (err) {
        recordUndecodable(history, r, err as Error);
      }
    }
    pending.length = 0;
  };

  return {
    name: 'lineage',
    keyAffinity: false,
    decode(record) {
      read++;
      let id: string | undefined;
      try {
        id = readId(record);
      } catch (err) {
        if (err instanceof NoId && noId++ === 0) {
          noIdExample = record.row
            ? JSON.stringify(record.row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))
            : record.value.subarray(0, 120).toString('utf8');
        }
        throw err;
      }
      if (id === undefined) pending.push(record);
      else count(id, record);
      return null;
    },
    async finish(ctx: ContractFinish) {
      const { history } = ctx;
      if (read > 0 && noId === read) {
        // Not the pipeline's anomaly: no output has the id where the scenario says it is. Unknown (exit 3), with why.
        throw StreamproofError.at(
          'LINEAGE_ID_NOT_FOUND',
          `none of the ${read} output record(s) has ${spec.id.text} (the first: ${JSON.stringify(noIdExample.slice(0, 120))}); name where the output carries its source event's id`,
          { path: `${spec.path}.id` },
        );
      }
      await settlePending(history);
      tally = new LineageTally();
      for (const p of history.outcomes.producers()) {
        const out = history.outcomes.get(p)!;
        tally.reserve(p, out.offered.size);
        const b = out.bad.words();
        for (let i = 0; i < b.length; i++) {
          for (let w = b[i]!; w !== 0; w &= w - 1) tally.markBad(p, (i << 5) + (31 - Math.clz32(w & -w)));
        }
      }
      const sources = new Map<string, Event>();
      for (const r of await ctx.input()) {
        tally.inputRecords++;
        const c = ctx.committed[String(r.partition)];
        const past = c !== undefined && r.offset < c ? COMMITTED_PAST : 0;
        const e = r.event;
        const id = e?.event_id ?? traceEventId(r.value);
        const ref = id === undefined ? undefined : parseEventId(id);
        const bad = ref !== undefined && history.outcomes.isBad(ref.producer, ref.seq);
        if (bad) {
          tally.land(id!, 0, BAD | past);
          continue;
        }
        if (e === undefined || ref === undefined || !tally.land(e.event_id, expected(e), past)) {
          tally.unusableInputs++;
          continue;
        }
        if (seen.has(e.event_id)) sources.set(e.event_id, e);
      }
      for (const [id, s] of seen) for (let k = 0; k < s.n; k++) tally.see(id);
      tally.drainComplete = ctx.drainComplete;
      // Each landed source's first output, in consumption order (per partition, by offset), for order and latency.
      const firsts = [...sources.values()]
        .map((e) => ({ e, s: seen.get(e.event_id)! }))
        .sort((a, b) => a.s.partition - b.s.partition || a.s.offset - b.s.offset);
      for (const { e, s } of firsts) {
        history.record({
          kind: 'observed',
          time: s.time,
          eventId: e.event_id,
          key: e.user_id,
          partition: s.partition,
          offset: s.offset,
          userSeq: e.user_seq,
          sentAt: e.sent_at,
        });
      }
    },
    checkers: () => [lineage(() => tally)],
    anomalies: (history) => listLineageAnomalies(history, tally),
  };
}
