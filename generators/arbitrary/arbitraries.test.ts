import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleAvroValue } from '../avro-sample.ts';
import { canRead } from '../compatibility.ts';
import { type Event, eventProblems, SCHEMA_VERSIONS } from '../event.ts';
import { Sfc32 } from '../prng.ts';
import { type AvroSchema, decodeAvro, decodeConfluent, decodeJson, eventSchema } from '../schemas.ts';
import { BAD_EVENT_KINDS, badEvent } from './badEvent.ts';
import { event } from './event.ts';
import { journey } from './journey.ts';
import { evolve, SCHEMA_CHANGE_KINDS, type SchemaChangeKind, schemaEvolution } from './schemaEvolution.ts';
import { traffic } from './traffic.ts';

/** A reference collector: what must accept every good record and refuse every bad one. */
function collectorAccepts(
  format: 'json' | 'avro',
  bytes: Buffer,
  ids = new Map([
    [1, 1],
    [2, 2],
    [3, 3],
  ] as const),
): boolean {
  try {
    if (bytes.length > 1_048_576) return false;
    let e: Event;
    if (format === 'json') e = decodeJson(bytes);
    else {
      const { schemaId, body } = decodeConfluent(bytes);
      const v = ids.get(schemaId as 1 | 2 | 3);
      if (v === undefined) return false;
      e = decodeAvro(body, v);
    }
    return eventProblems(e).length === 0;
  } catch {
    return false;
  }
}

describe('badEvent', () => {
  it('every bad event is refused by the reference collector', () => {
    fc.assert(
      fc.property(badEvent(), (bad) => {
        expect(collectorAccepts(bad.format, bad.bytes), `${bad.kind}: ${bad.reason}`).toBe(false);
      }),
      { numRuns: 500, seed: 99 },
    );
  });
  it('every kind is reachable and tagged', () => {
    const kinds = new Set(fc.sample(badEvent(), { seed: 3, numRuns: 600 }).map((b) => b.kind));
    expect([...kinds].sort()).toEqual([...BAD_EVENT_KINDS].sort());
  });
  it('and every good event is accepted (the collector is not just refusing everything)', () => {
    fc.assert(
      fc.property(event({ schemaVersion: 3 }), (e) => {
        expect(collectorAccepts('json', Buffer.from(JSON.stringify(e)))).toBe(true);
      }),
    );
  });
  it('validates its options', () => {
    expect(() => badEvent({ kinds: [] })).toThrowError(/badEvent.kinds/);
  });
});

describe('journey', () => {
  it('touches then maybe one conversion, inside the window, ids and user_seq in order', () => {
    fc.assert(
      fc.property(journey(), (j) => {
        const conv = j.events.filter((e) => e.type === 'conversion');
        expect(conv.length).toBe(j.converted ? 1 : 0);
        if (j.converted) expect(j.events[j.events.length - 1]!.type).toBe('conversion');
        j.events.forEach((e, i) => {
          expect(e.user_seq).toBe(i);
          expect(e.event_id).toBe(`0-${i}`);
          expect(e.user_id).toBe(j.user_id);
          expect(e.event_time).toBeGreaterThanOrEqual(j.windowStart);
          expect(e.event_time).toBeLessThanOrEqual(j.conversionTime);
          if (i > 0) expect(e.event_time).toBeGreaterThanOrEqual(j.events[i - 1]!.event_time);
          expect(eventProblems(e)).toEqual([]);
        });
      }),
    );
  });
  it('stale touches fall before the window when enabled', () => {
    const stale = fc.sample(journey({ staleTouches: true }), { seed: 1, numRuns: 200 });
    expect(stale.some((j) => j.events.some((e) => e.event_time < j.windowStart))).toBe(true);
  });
});

describe('shrinking gives small counterexamples', () => {
  it('a failing traffic property shrinks to the smallest traffic (snapshot at a fixed seed)', () => {
    // "no user ever sends 3 events" is false; the minimal counterexample is 3 plain events of user 0.
    const details = fc.check(
      fc.property(traffic({ users: 20 }), (es) => es.every((e) => e.user_seq < 2)),
      { seed: 42 },
    );
    expect(details.failed).toBe(true);
    expect(details.counterexample).toMatchSnapshot();
  });
});

// A wrapped union value's key is a primitive type name or a qualified (dotted) type name; field names are neither.
const BRANCH = /^(boolean|int|long|float|double|bytes|string|.*\..*)$/;

/** Unwraps {branch: v} so values compare across union shapes; numbers compare as numbers. */
function plain(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && BRANCH.test(keys[0]!)) return plain((v as Record<string, unknown>)[keys[0]!]);
    return Object.fromEntries(keys.map((k) => [k, plain((v as Record<string, unknown>)[k])]));
  }
  return v;
}

// A fresh options object per call: avsc stores its name registry in the options object it is given.
const typeOpts = () => ({ wrapUnions: true as const });

/** What avsc does for reader R / writer W: refuse to build a resolver, or read sampled data. */
function avscReads(
  readerSchema: object,
  writerSchema: object,
  seed: number,
): { ok: true } | { ok: false; error: string } {
  const reader = avro.Type.forSchema(readerSchema as avro.Schema, typeOpts());
  const writer = avro.Type.forSchema(writerSchema as avro.Schema, typeOpts());
  let resolver: avro.Resolver;
  try {
    resolver = reader.createResolver(writer);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const rng = new Sfc32(seed);
  for (let i = 0; i < 20; i++) {
    const value = sampleAvroValue(writer, rng) as Record<string, unknown>;
    const read = reader.fromBuffer(writer.toBuffer(value), resolver) as Record<string, unknown>;
    expect(reader.isValid(read)).toBe(true);
    // Fields the reader matched by name or alias carry the writer's value (modulo promotion and union wrapping).
    for (const f of (readerSchema as { fields: { name: string; aliases?: string[] }[] }).fields) {
      const w = [f.name, ...(f.aliases ?? [])].find((n) => n in value);
      if (w !== undefined && typeof plain(value[w]) !== 'object') expect(plain(read[f.name])).toEqual(plain(value[w]));
    }
  }
  return { ok: true };
}

describe('schemaEvolution labels agree with avsc', () => {
  it('for every pair of schemas in the history, in both directions', () => {
    fc.assert(
      fc.property(schemaEvolution(), fc.nat(), (evo, seed) => {
        const history = [evo.base, ...evo.steps.map((s) => s.schema)];
        for (let i = 1; i < history.length; i++) {
          for (let j = 0; j < i; j++) {
            for (const [r, w] of [
              [history[i]!, history[j]!],
              [history[j]!, history[i]!],
            ] as const) {
              const spec = canRead(r, w);
              const got = avscReads(r, w, seed);
              expect(got.ok, `spec says ${JSON.stringify(spec)}; avsc ${JSON.stringify(got)}`).toBe(spec.ok);
            }
          }
          const labels = evo.steps[i - 1]!.compatibility;
          const back = history.slice(0, i).map((s) => canRead(history[i]!, s).ok);
          const fwd = history.slice(0, i).map((s) => canRead(s, history[i]!).ok);
          expect(labels.BACKWARD).toBe(back[i - 1]);
          expect(labels.FORWARD).toBe(fwd[i - 1]);
          expect(labels.BACKWARD_TRANSITIVE).toBe(back.every(Boolean));
          expect(labels.FORWARD_TRANSITIVE).toBe(fwd.every(Boolean));
          expect(labels.FULL).toBe(labels.BACKWARD && labels.FORWARD);
          expect(labels.FULL_TRANSITIVE).toBe(labels.BACKWARD_TRANSITIVE && labels.FORWARD_TRANSITIVE);
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  // What each kind SHOULD give as a single step from the v1 event schema (hand-derived from the Avro spec).
  const expected: [SchemaChangeKind, number, number, { BACKWARD: boolean; FORWARD: boolean }][] = [
    ['add-field-with-default', 0, 0, { BACKWARD: true, FORWARD: true }],
    ['add-field-without-default', 0, 0, { BACKWARD: false, FORWARD: true }],
    ['remove-field-with-default', 0, 0, { BACKWARD: true, FORWARD: true }],
    ['remove-field-without-default', 0, 0, { BACKWARD: true, FORWARD: false }],
    ['rename-field-with-alias', 0, 0, { BACKWARD: true, FORWARD: false }], // event_id has no default
    ['add-enum-symbol', 0, 0, { BACKWARD: true, FORWARD: false }], // EventType has no enum default
    ['widen-union', 8, 0, { BACKWARD: true, FORWARD: false }], // revenue + string: a double reader cannot read a string
    ['widen-union', 8, 1, { BACKWARD: true, FORWARD: true }], // revenue + long: long promotes to double
  ];
  for (const [kind, pick, typePick, want] of expected) {
    it(`${kind} (${pick}/${typePick}) is labelled as the spec says`, () => {
      const evo = evolve(eventSchema(1), [{ kind, pick, typePick }]);
      expect(evo.steps.length).toBe(1);
      const l = evo.steps[0]!.compatibility;
      expect({ BACKWARD: l.BACKWARD, FORWARD: l.FORWARD }, evo.steps[0]!.change.description).toEqual(want);
      expect(l.FULL).toBe(want.BACKWARD && want.FORWARD);
    });
  }

  it('int -> long is BACKWARD only; transitive labels see the whole history', () => {
    const evo = evolve(eventSchema(1), [
      { kind: 'add-field-without-default', pick: 0, typePick: 0 }, // x1: int, no default: BACKWARD breaks
      { kind: 'promote-int-to-long', pick: 1, typePick: 0 }, // x1: int -> long
      { kind: 'add-field-with-default', pick: 0, typePick: 2 },
    ]);
    const [, promote, last] = evo.steps;
    expect(promote!.change.description).toBe('promote x1: int -> long');
    expect(promote!.compatibility.BACKWARD).toBe(true);
    expect(promote!.compatibility.FORWARD).toBe(false);
    // The last step alone is FULL, but v1 data lacks x1 (no default): BACKWARD_TRANSITIVE fails; and the schema before
    // the promotion (x1: int) cannot read x1: long: FORWARD_TRANSITIVE fails too.
    expect(last!.compatibility).toMatchObject({ FULL: true, BACKWARD_TRANSITIVE: false, FORWARD_TRANSITIVE: false });
  });

  it('every change kind is reachable', () => {
    const seen = new Set(
      fc
        .sample(schemaEvolution({ minSteps: 6 }), { seed: 5, numRuns: 100 })
        .flatMap((e) => e.steps.map((s) => s.change.kind)),
    );
    expect([...seen].sort()).toEqual([...SCHEMA_CHANGE_KINDS].sort());
  });
});

describe('versions', () => {
  it('all event versions are listed', () => expect(SCHEMA_VERSIONS).toEqual([1, 2, 3]));
});

describe('regression: avsc union branch choice (see docs/generators.md)', () => {
  it('avsc reads a writer long into the first reader branch that accepts it (double), not the exact long branch', () => {
    const ws: AvroSchema = { type: 'record', name: 'R', fields: [{ name: 'v', type: ['null', 'double', 'long'] }] };
    const rs: AvroSchema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'v', type: ['null', 'double', 'long'] },
        { name: 'x', type: 'int', default: 0 },
      ],
    };
    const w = avro.Type.forSchema(ws as avro.Schema, typeOpts());
    const r = avro.Type.forSchema(rs as avro.Schema, typeOpts());
    const read = r.fromBuffer(w.toBuffer({ v: { long: 5 } }), r.createResolver(w)) as { v: object };
    // Spec text ("the first schema in the reader's union that matches", promotion counts as a match) allows this;
    // Java's resolver picks the exact branch first and would give { long: 5 }. Compatibility is the same either way.
    expect({ ...read.v }).toEqual({ double: 5 });
    expect(canRead(rs, ws).ok).toBe(true);
  });
});
