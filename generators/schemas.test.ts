import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { event } from './arbitrary/event.ts';
import { asVersion, eventId, parseEventId, parseUserId, SCHEMA_VERSIONS, userId } from './event.ts';
import {
  decodeAvro,
  decodeConfluent,
  decodeJson,
  EVENT_SCHEMAS,
  EVENT_TYPES_AVRO,
  encodeAvro,
  encodeConfluent,
  encodeJson,
  SchemaError,
} from './schemas.ts';

describe('event ids', () => {
  it('parseEventId inverts eventId', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.maxSafeNat(), (p, s) => {
        expect(parseEventId(eventId(p, s))).toEqual({ producer: p, seq: s });
      }),
    );
  });
  it('parseEventId refuses what eventId cannot produce', () => {
    for (const bad of [
      '',
      '1',
      '-1',
      '1-',
      '01-2',
      '1-02',
      '65536-0',
      '1-2-3',
      ' 1-2',
      '1-2 ',
      'a-b',
      '1-99999999999999999',
    ]) {
      expect(parseEventId(bad), bad).toBeUndefined();
    }
  });
  it('user ids are fixed width and parse back', () => {
    expect(userId(42)).toBe('u0000042');
    expect(parseUserId(userId(9_999_999))).toBe(9_999_999);
    expect(parseUserId('u42')).toBeUndefined();
  });
});

describe('Avro round trip', () => {
  it('every event round-trips at every writer and reader version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCHEMA_VERSIONS).chain((v) => event({ schemaVersion: v }).map((e) => [v, e] as const)),
        fc.constantFrom(...SCHEMA_VERSIONS),
        ([writer, e], reader) => {
          const body = encodeAvro(writer, e);
          expect({ ...decodeAvro(body, writer) }).toEqual(e);
          expect(JSON.parse(JSON.stringify(decodeAvro(body, writer, reader)))).toEqual(asVersion(e, reader));
          const framed = encodeConfluent(1000 + writer, EVENT_TYPES_AVRO[writer], e);
          const { schemaId, body: b2 } = decodeConfluent(framed);
          expect(schemaId).toBe(1000 + writer);
          expect(b2.equals(body)).toBe(true);
          expect(decodeJson(encodeJson(e), writer)).toEqual(e);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the version chain is FULL_TRANSITIVE: all resolvers exist both ways', () => {
    for (const r of SCHEMA_VERSIONS)
      for (const w of SCHEMA_VERSIONS)
        expect(() => EVENT_TYPES_AVRO[r].createResolver(EVENT_TYPES_AVRO[w])).not.toThrow();
  });

  it('exported schema JSON keeps what avsc drops (logical types, enum defaults)', () => {
    expect(JSON.stringify(EVENT_SCHEMAS[3])).toContain('"logicalType":"timestamp-millis"');
    expect(JSON.stringify(EVENT_SCHEMAS[3])).toContain('"default":"unknown"');
  });
});

describe('Confluent wire format errors', () => {
  it('names a short buffer', () => {
    expect(() => decodeConfluent(Buffer.from([0, 0, 1]))).toThrowError(/at least 5 bytes.*got 3/);
    try {
      decodeConfluent(Buffer.alloc(0));
    } catch (err) {
      expect(err).toBeInstanceOf(SchemaError);
      expect((err as SchemaError).code).toBe('short-buffer');
    }
  });
  it('names a wrong magic byte', () => {
    expect(() => decodeConfluent(Buffer.from([0x7b, 0, 0, 0, 1, 2]))).toThrowError(/magic byte 0, got 123 \(0x7b\)/);
  });
  it('reads the schema id big-endian, unsigned', () => {
    expect(decodeConfluent(Buffer.from([0, 0xff, 0xff, 0xff, 0xfe])).schemaId).toBe(0xfffffffe);
  });
  it('refuses trailing bytes and short bodies', () => {
    const e = fc.sample(event({ schemaVersion: 3 }), { seed: 1, numRuns: 1 })[0]!;
    const body = encodeAvro(3, e);
    expect(() => decodeAvro(Buffer.concat([body, Buffer.from([0])]), 3)).toThrowError(/1 bytes after/);
    expect(() => decodeAvro(body.subarray(0, body.length - 1), 3)).toThrowError(SchemaError);
  });
  it('refuses an invalid event with the bad field named', () => {
    const e = fc.sample(event({ schemaVersion: 1 }), { seed: 1, numRuns: 1 })[0]!;
    expect(() => encodeAvro(1, { ...e, user_seq: 1.5 })).toThrowError(/bad user_seq/);
  });
});
