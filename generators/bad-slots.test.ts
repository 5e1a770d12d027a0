import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { event } from './arbitrary/event.ts';
import {
  badEventAt,
  DECODE_KINDS,
  isBadSlot,
  JSON_KINDS,
  resolveBadEvents,
  type SlotEvent,
  slotHash,
  traceEventId,
} from './bad-slots.ts';
import { type Event, SCHEMA_VERSIONS, type SchemaVersion } from './event.ts';
import { EVENT_TYPES_AVRO, encodeAvro, encodeConfluent, encodeJson } from './schemas.ts';

const HTTP_DEFAULT_KINDS = JSON_KINDS.filter((k) => k !== 'oversized-message');

/** A good event of `version` for slot (producer, seq): the generator's event with the slot's id. */
function goodEvent(version: SchemaVersion, producer: number, seq: number): Event {
  const [e] = fc.sample(event({ schemaVersion: version }), { seed: producer * 7919 + seq, numRuns: 1 });
  return { ...e!, event_id: `${producer}-${seq}` };
}

describe('resolveBadEvents', () => {
  it('resolves a rate with the default kinds of each transport', () => {
    const kafka = resolveBadEvents({ rate: 0.01 }, 'events.bad');
    expect(kafka).toEqual({ rate: 0.01, kinds: DECODE_KINDS, threshold: Math.floor(0.01 * 2 ** 32) });
    const http = resolveBadEvents({ rate: 0.5 }, 'events.bad', 'http');
    expect(http.kinds).toEqual(HTTP_DEFAULT_KINDS);
    expect(http.kinds).not.toContain('oversized-message');
    expect(resolveBadEvents({ rate: 1 }, 'events.bad').threshold).toBe(2 ** 32);
    expect(resolveBadEvents({ rate: 0 }, 'events.bad').threshold).toBe(0);
  });

  it('keeps chosen kinds once each, and resolves a resolved value to itself', () => {
    const r = resolveBadEvents({ rate: 0.2, kinds: ['not-json', 'trailing-bytes', 'not-json'] }, 'events.bad');
    expect(r.kinds).toEqual(['not-json', 'trailing-bytes']);
    expect(resolveBadEvents(JSON.parse(JSON.stringify(r)), 'events.bad')).toEqual(r);
    expect(resolveBadEvents({ rate: 0.2, kinds: ['oversized-message'] }, 'x').kinds).toEqual(['oversized-message']);
  });

  it.each([-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0.1', null, undefined])('refuses rate %s', (rate) => {
    expect(() => resolveBadEvents({ rate }, 'events.bad')).toThrowError(/^events\.bad\.rate: expected a number in/);
  });

  it.each([
    [['nope'], 'kafka'],
    [[], 'kafka'],
    ['not-json', 'kafka'],
    [['short-buffer'], 'kafka'],
    [['truncated-avro'], 'http'],
    [[42], 'kafka'],
  ] as const)('refuses kinds %j over %s, naming events.bad.kinds', (kinds, via) => {
    let error: unknown;
    try {
      resolveBadEvents({ rate: 0.1, kinds }, 'events.bad', via);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'invalid-option', details: { path: 'events.bad.kinds' } });
    expect((error as Error).message).toMatch(/^events\.bad\.kinds: expected a non-empty list of/);
  });

  it('refuses what is not an object, and unknown keys', () => {
    expect(() => resolveBadEvents(0.1, 'events.bad')).toThrowError(/^events\.bad: expected an object/);
    expect(() => resolveBadEvents([], 'events.bad')).toThrowError(/^events\.bad: expected an object/);
    expect(() => resolveBadEvents({ rate: 0.1, rat: 1 }, 'events.bad')).toThrowError(/^events\.bad\.rat: /);
  });
});

describe('isBadSlot', () => {
  it('is a pure function of (seed, producer, seq)', () => {
    const bad = resolveBadEvents({ rate: 0.3 }, 'b');
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 65_535 }), fc.nat(), (seed, producer, seq) => {
        expect(isBadSlot(bad, seed, producer, seq)).toBe(isBadSlot(bad, seed, producer, seq));
        expect(slotHash(seed, producer, seq)).toBe(slotHash(seed, producer, seq));
        expect(slotHash(seed, producer, seq)).toBeGreaterThanOrEqual(0);
        expect(slotHash(seed, producer, seq)).toBeLessThan(2 ** 32);
      }),
    );
  });

  it('rate 0 marks no slot, rate 1 every slot', () => {
    const none = resolveBadEvents({ rate: 0 }, 'b');
    const all = resolveBadEvents({ rate: 1 }, 'b');
    let noneBad = 0;
    let allBad = 0;
    for (let seq = 0; seq < 10_000; seq++) {
      if (isBadSlot(none, 1, 0, seq)) noneBad++;
      if (isBadSlot(all, 1, 0, seq)) allBad++;
    }
    expect([noneBad, allBad]).toEqual([0, 10_000]);
  });

  it.each([
    [0.001, 42],
    [0.01, 7],
    [0.1, 123_456_789],
    [0.5, 2 ** 40 + 3],
    [0.9, 0],
  ])('marks a fraction close to rate %f of 100k slots (seed %d)', (rate, seed) => {
    const bad = resolveBadEvents({ rate }, 'b');
    const n = 100_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (isBadSlot(bad, seed, i % 4, Math.floor(i / 4))) hits++;
    // Six standard deviations of a binomial: a fair hash fails this about once in 10^9 runs.
    const sd = Math.sqrt(n * rate * (1 - rate));
    expect(Math.abs(hits - n * rate)).toBeLessThan(6 * sd + 1);
  });

  it('another seed picks other slots', () => {
    const bad = resolveBadEvents({ rate: 0.5 }, 'b');
    let differ = 0;
    for (let seq = 0; seq < 1000; seq++) if (isBadSlot(bad, 1, 0, seq) !== isBadSlot(bad, 2, 0, seq)) differ++;
    expect(differ).toBeGreaterThan(400);
    expect(differ).toBeLessThan(600);
  });
});

describe('badEventAt', () => {
  const cases = [
    ...DECODE_KINDS.map((kind) => ({ kind, via: 'kafka' as const })),
    ...HTTP_DEFAULT_KINDS.map((kind) => ({ kind, via: 'http' as const })),
  ];

  it.each(cases)(
    '$kind ($via): same seed, same record; traceable to its slot for JSON and Avro loads',
    ({ kind, via }) => {
      const bad = resolveBadEvents({ rate: 0.1, kinds: [kind] }, 'events.bad', via);
      for (const version of SCHEMA_VERSIONS) {
        for (const schemaId of [0, 7]) {
          for (const [producer, seq] of [
            [0, 0],
            [1, 17],
            [3, 123_456],
          ] as const) {
            const good: SlotEvent = { event: goodEvent(version, producer, seq), version, schemaId };
            const a = badEventAt(bad, 99, producer, seq, good);
            const b = badEventAt(bad, 99, producer, seq, good);
            expect(a.kind).toBe(kind);
            expect(b.bytes.equals(a.bytes)).toBe(true);
            expect(b.reason).toBe(a.reason);
            expect(traceEventId(a.bytes)).toBe(`${producer}-${seq}`);
          }
        }
      }
    },
  );

  it('draws from every chosen kind, and another seed draws other bytes', () => {
    const bad = resolveBadEvents({ rate: 0.1 }, 'events.bad');
    const kinds = new Set<string>();
    let differ = 0;
    for (let seq = 0; seq < 200; seq++) {
      const good: SlotEvent = { event: goodEvent(3, 2, seq), version: 3, schemaId: 3 };
      const a = badEventAt(bad, 1, 2, seq, good);
      kinds.add(a.kind);
      if (!badEventAt(bad, 2, 2, seq, good).bytes.equals(a.bytes)) differ++;
    }
    expect([...kinds].sort()).toEqual([...DECODE_KINDS].sort());
    expect(differ).toBeGreaterThan(150);
  });
});

describe('traceEventId', () => {
  const e1 = goodEvent(1, 3, 17);

  it('reads the id of good JSON and Confluent Avro events of every version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCHEMA_VERSIONS).chain((v) => event({ schemaVersion: v }).map((e) => ({ v, e }))),
        fc.integer({ min: 0, max: 0xffffffff }),
        ({ v, e }, schemaId) => {
          expect(traceEventId(encodeJson(e))).toBe(e.event_id);
          expect(traceEventId(encodeConfluent(schemaId, EVENT_TYPES_AVRO[v], e))).toBe(e.event_id);
        },
      ),
    );
  });

  it('reads plain JSON, a padded id, and ids in a view of a larger buffer', () => {
    expect(traceEventId(Buffer.from('{"event_id":"3-17"}'))).toBe('3-17');
    expect(traceEventId(Buffer.from('{"user_id":"u1","event_id":"3-17xxxxxxxx"}'))).toBe('3-17');
    const big = Buffer.concat([Buffer.from('garbage'), encodeJson(e1), Buffer.from('tail')]);
    expect(traceEventId(big.subarray(7, big.length - 4))).toBe('3-17');
    expect(traceEventId(new Uint8Array(encodeJson(e1)))).toBe('3-17');
  });

  it('reads truncated JSON text when the text goes on past the id', () => {
    const text = encodeJson(e1).toString();
    for (let cut = 1; cut < text.length; cut++) {
      const prefix = text.slice(0, text.length - cut);
      const id = traceEventId(Buffer.from(prefix));
      // Cut before the character after the id: no id (a cut "3-1" of "3-17" must not name slot 3-1).
      if (prefix.length <= '{"event_id":"3-17'.length) expect(id, prefix).toBeUndefined();
      else expect(id, prefix).toBe('3-17');
    }
  });

  it('reads Confluent Avro behind any magic byte and schema id, with trailing bytes or not', () => {
    const framed = encodeConfluent(5, EVENT_TYPES_AVRO[1], e1);
    for (let magic = 0; magic < 256; magic++) {
      for (const schemaId of [0, 1, 0x7b7b7b7b, 0xffffffff]) {
        const b = Buffer.from(framed);
        b[0] = magic;
        b.writeUInt32BE(schemaId, 1);
        expect(traceEventId(b), `magic ${magic} id ${schemaId}`).toBe('3-17');
        expect(traceEventId(Buffer.concat([b, Buffer.from([1, 2, 3])]))).toBe('3-17');
      }
    }
    const body = encodeAvro(2, goodEvent(2, 0, 5));
    expect(traceEventId(Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), body]))).toBe('0-5');
  });

  it('an Avro body cut inside the id names no id', () => {
    const framed = encodeConfluent(5, EVENT_TYPES_AVRO[1], e1);
    // Header (5), length varint (1), then "3-17" (4 bytes).
    for (let keep = 0; keep < 10; keep++) expect(traceEventId(framed.subarray(0, keep))).toBeUndefined();
    expect(traceEventId(framed.subarray(0, 10))).toBe('3-17');
  });

  it('finds nothing in garbage', () => {
    expect(traceEventId(new Uint8Array(0))).toBeUndefined();
    expect(traceEventId(Buffer.from('hello, world'))).toBeUndefined();
    expect(traceEventId(Buffer.from('{"event_id":42}'))).toBeUndefined();
    expect(traceEventId(Buffer.from('{"event_id":"u0000001"}'))).toBeUndefined();
    expect(traceEventId(Buffer.from('{}'))).toBeUndefined();
    expect(traceEventId(Buffer.from('null'))).toBeUndefined();
    expect(traceEventId(Buffer.from([0, 0, 0, 0]))).toBeUndefined();
    // A length varint that never ends, and one far too long for an id.
    expect(traceEventId(Buffer.from([0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x31]))).toBeUndefined();
    expect(traceEventId(Buffer.from([0, 0, 0, 0, 1, 0x80, 0x02, 0x31, 0x2d, 0x31]))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const id = traceEventId(bytes);
        if (id !== undefined) expect(id).toMatch(/^\d+-\d+$/);
      }),
    );
  });
});
