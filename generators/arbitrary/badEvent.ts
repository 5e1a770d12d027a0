/**
 * `badEvent()`: a record a collector must refuse (send it to the DLQ, never to the lake), tagged with what is wrong.
 *
 * Model: start from a valid `event()`, then break exactly one thing: the JSON shape (missing or mistyped field, an
 * unknown enum symbol, not JSON at all), a rule beyond the schema (oversized string, a message over the broker's
 * limit, a timestamp from the future or from before 2000, revenue on a non-conversion, a conversion without revenue),
 * or the Avro bytes (unknown schema id, wrong magic byte, short buffer, truncated body, trailing garbage). The rules
 * are `eventProblems` / `DEFAULT_EVENT_RULES` in event.ts; every kind is refused by schema decoding or those rules,
 * and `badEvent.test.ts` checks that against a reference collector. `bytes` is always what to send.
 */
import fc from 'fast-check';
import { DEFAULT_EVENT_RULES, type Event, type EventRules, SCHEMA_VERSIONS, type SchemaVersion } from '../event.ts';
import { checkKeys, intOption, optionError } from '../options.ts';
import { EVENT_TYPES_AVRO, encodeConfluent, encodeJson } from '../schemas.ts';
import { event } from './event.ts';

export const BAD_EVENT_KINDS = [
  'missing-field',
  'mistyped-field',
  'unknown-enum-symbol',
  'not-json',
  'oversized-value',
  'oversized-message',
  'future-timestamp',
  'ancient-timestamp',
  'revenue-on-non-conversion',
  'conversion-without-revenue',
  'unknown-schema-id',
  'wrong-magic-byte',
  'short-buffer',
  'truncated-avro',
  'trailing-bytes',
] as const;
export type BadEventKind = (typeof BAD_EVENT_KINDS)[number];

export type BadEvent =
  | { kind: BadEventKind; format: 'json'; json: unknown; bytes: Buffer; reason: string }
  | { kind: BadEventKind; format: 'avro'; schemaId: number; bytes: Buffer; reason: string };

export interface BadEventConstraints {
  /** Kinds to draw from. Default all of BAD_EVENT_KINDS. */
  kinds?: readonly BadEventKind[];
  /** Registry ids of schema versions 1..3, as registered. Default { 1: 1, 2: 2, 3: 3 }. */
  schemaIds?: Partial<Record<SchemaVersion, number>>;
  /** The broker's max.message.bytes, for 'oversized-message'. Default 1_048_576 (Kafka's default, ~1 MiB). */
  maxMessageBytes?: number;
  /** The collector's rules (see eventProblems); defaults DEFAULT_EVENT_RULES. */
  rules?: EventRules;
  /** Break this event (of this schema version) instead of a drawn one: its id, user and times stay where they can. */
  event?: { version: SchemaVersion; event: Event };
}

const REQUIRED_FIELDS = [
  'event_id',
  'user_id',
  'user_seq',
  'type',
  'channel',
  'campaign',
  'event_time',
  'sent_at',
  'schema_version',
] as const;

/** Wrong-typed replacements per field: each is refused by the schema (a string where a long goes, and so on). */
const MISTYPES: Record<string, readonly unknown[]> = {
  event_id: [42, null, ['0-1']],
  user_id: [42, null, { id: 'u0000001' }],
  user_seq: ['7', -0.5, 1.5, null, true],
  type: [1, null, 'IMPRESSION'],
  channel: [0, null, 'Search'],
  campaign: [7, null, ['cmp-0001']],
  event_time: ['2023-11-14T22:13:20Z', 1.5, null],
  sent_at: ['now', 1.5, null],
  revenue: ['12.50', true],
  currency: [840, true],
  schema_version: ['3', 3.5, null],
};

export function badEvent(constraints: BadEventConstraints = {}): fc.Arbitrary<BadEvent> {
  const path = 'badEvent';
  checkKeys(path, constraints, ['kinds', 'schemaIds', 'maxMessageBytes', 'rules', 'event']);
  const kinds = constraints.kinds ?? BAD_EVENT_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !BAD_EVENT_KINDS.includes(k))) {
    throw optionError(`${path}.kinds`, `a non-empty list of ${BAD_EVENT_KINDS.join(', ')}`, kinds);
  }
  if (constraints.schemaIds !== undefined) checkKeys(`${path}.schemaIds`, constraints.schemaIds, ['1', '2', '3']);
  const schemaIds: Record<SchemaVersion, number> = { 1: 1, 2: 2, 3: 3 };
  for (const v of SCHEMA_VERSIONS) {
    schemaIds[v] = intOption(`${path}.schemaIds.${v}`, constraints.schemaIds?.[v], v, 0, 0xffffffff);
  }
  const maxMessageBytes = intOption(`${path}.maxMessageBytes`, constraints.maxMessageBytes, 1_048_576, 16, 1 << 28);
  const rules = { ...DEFAULT_EVENT_RULES, ...constraints.rules };
  const knownIds = new Set(Object.values(schemaIds));

  const fixed = constraints.event;
  const good = fixed
    ? fc.constant({ v: fixed.version, e: fixed.event })
    : fc.constantFrom(...SCHEMA_VERSIONS).chain((v) => event({ schemaVersion: v, users: 1000 }).map((e) => ({ v, e })));
  const json = (kind: BadEventKind, value: unknown, reason: string): BadEvent => ({
    kind,
    format: 'json',
    json: value,
    bytes: Buffer.from(JSON.stringify(value)),
    reason,
  });
  const avro = (kind: BadEventKind, schemaId: number, bytes: Buffer, reason: string): BadEvent => ({
    kind,
    format: 'avro',
    schemaId,
    bytes,
    reason,
  });
  const plain = (e: Event): Record<string, unknown> => JSON.parse(encodeJson(e).toString());
  const framed = (v: SchemaVersion, e: Event): Buffer => encodeConfluent(schemaIds[v], EVENT_TYPES_AVRO[v], e);

  const byKind: Record<BadEventKind, fc.Arbitrary<BadEvent>> = {
    'missing-field': fc.tuple(good, fc.constantFrom(...REQUIRED_FIELDS)).map(([{ e }, field]) => {
      const o = plain(e);
      delete o[field];
      return json('missing-field', o, `${field}: missing (required, no default)`);
    }),
    'mistyped-field': fc
      .tuple(good, fc.constantFrom(...Object.keys(MISTYPES)))
      .chain(([g, field]) => fc.constantFrom(...MISTYPES[field]!).map((bad) => ({ g, field, bad })))
      .map(({ g, field, bad }) => {
        const o = plain(g.e);
        o[field] = bad;
        return json('mistyped-field', o, `${field}: ${JSON.stringify(bad)} is not a valid ${field}`);
      }),
    'unknown-enum-symbol': fc
      .tuple(good, fc.constantFrom('type', 'channel'), fc.constantFrom('purchase', 'tv', 'podcast', ''))
      .map(([{ e }, field, symbol]) => {
        const o = plain(e);
        o[field] = symbol;
        return json('unknown-enum-symbol', o, `${field}: ${JSON.stringify(symbol)} is not a symbol of the enum`);
      }),
    'not-json': fc.tuple(good, fc.integer({ min: 1, max: 40 })).map(([{ e }, cut]) => {
      const text = encodeJson(e).toString();
      // A strict prefix of a JSON object is never valid JSON (the closing brace is missing).
      const bytes = Buffer.from(text.slice(0, Math.max(1, text.length - cut)));
      return {
        kind: 'not-json',
        format: 'json',
        json: undefined,
        bytes,
        reason: 'body is not JSON (truncated)',
      } as BadEvent;
    }),
    'oversized-value': fc
      .tuple(good, fc.constantFrom('campaign', 'event_id', 'user_id'), fc.integer({ min: 1, max: 4096 }))
      .map(([{ e }, field, extra]) => {
        const o = plain(e);
        o[field] = `${String(o[field])}${'x'.repeat(rules.maxStringBytes + extra)}`;
        return json('oversized-value', o, `${field}: longer than ${rules.maxStringBytes} bytes`);
      }),
    'oversized-message': fc.tuple(good, fc.integer({ min: 1, max: 1024 })).map(([{ e }, extra]) => {
      const o = plain(e);
      o.campaign = 'x'.repeat(maxMessageBytes + extra);
      return json('oversized-message', o, `message larger than max.message.bytes (${maxMessageBytes})`);
    }),
    'future-timestamp': fc
      .tuple(good, fc.integer({ min: rules.maxFutureSkewMs + 1, max: 10 * 365 * 86_400_000 }))
      .map(([{ e }, ahead]) => {
        const o = plain(e);
        o.event_time = (o.sent_at as number) + ahead;
        return json('future-timestamp', o, `event_time: ${ahead} ms after sent_at`);
      }),
    'ancient-timestamp': fc.tuple(good, fc.integer({ min: 0, max: rules.minEventTime - 1 })).map(([{ e }, t]) => {
      const o = plain(e);
      o.event_time = t;
      return json(
        'ancient-timestamp',
        o,
        `event_time: ${new Date(t).toISOString()} is before ${new Date(rules.minEventTime).toISOString()}`,
      );
    }),
    'revenue-on-non-conversion': fc
      .tuple(good, fc.constantFrom('impression', 'click'), fc.integer({ min: 0, max: 1_000_000 }))
      .map(([{ e }, type, cents]) => {
        const o = plain(e);
        o.type = type;
        o.revenue = cents / 100;
        o.currency = 'USD';
        return json('revenue-on-non-conversion', o, `revenue: set on a ${type}`);
      }),
    'conversion-without-revenue': good.map(({ e }) => {
      const o = plain(e);
      o.type = 'conversion';
      o.revenue = null;
      return json('conversion-without-revenue', o, 'revenue: a conversion needs a revenue');
    }),
    'unknown-schema-id': fc.tuple(good, fc.integer({ min: 0, max: 0xffffffff })).map(([{ v, e }, id]) => {
      let unknownId = id;
      while (knownIds.has(unknownId)) unknownId = (unknownId + 1) >>> 0;
      const bytes = framed(v, e);
      bytes.writeUInt32BE(unknownId, 1);
      return avro('unknown-schema-id', unknownId, bytes, `schema id ${unknownId} is not registered`);
    }),
    'wrong-magic-byte': fc.tuple(good, fc.integer({ min: 1, max: 255 })).map(([{ v, e }, magic]) => {
      const bytes = framed(v, e);
      bytes[0] = magic;
      return avro('wrong-magic-byte', schemaIds[v], bytes, `magic byte ${magic}, expected 0`);
    }),
    'short-buffer': fc.tuple(good, fc.integer({ min: 0, max: 4 })).map(([{ v, e }, len]) => {
      const bytes = framed(v, e).subarray(0, len);
      return avro('short-buffer', schemaIds[v], Buffer.from(bytes), `${len} bytes, shorter than the 5-byte header`);
    }),
    'truncated-avro': fc.tuple(good, fc.integer({ min: 1, max: 1 << 20 })).map(([{ v, e }, cut]) => {
      const full = framed(v, e);
      const bodyLen = full.length - 5;
      // Any strict prefix of a body fails: the decoder follows the same path and runs out of bytes.
      const keep = 5 + (cut % bodyLen);
      return avro(
        'truncated-avro',
        schemaIds[v],
        Buffer.from(full.subarray(0, keep)),
        `body cut to ${keep - 5} of ${bodyLen} bytes`,
      );
    }),
    'trailing-bytes': fc.tuple(good, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([{ v, e }, extra]) => {
      const bytes = Buffer.concat([framed(v, e), extra]);
      return avro('trailing-bytes', schemaIds[v], bytes, `${extra.length} bytes after the Avro body`);
    }),
  };
  return fc.oneof(...(kinds as readonly BadEventKind[]).map((k) => byKind[k]));
}
