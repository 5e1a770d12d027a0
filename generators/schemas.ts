/**
 * Avro schemas of the event (v1..v3), their avsc types, and the encodings a pipeline sees on the wire.
 *
 * Model: the schema JSON objects below are the source of truth (they are what a registry client registers, e.g.
 * `registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(EVENT_SCHEMAS[3]) })`). We export them rather
 * than avsc's `type.schema()` because avsc drops what it does not interpret: logical types and enum defaults vanish
 * from `schema()`, and a registry must see them. Values on the wire use the Confluent framing:
 *
 *   byte 0      magic byte 0
 *   bytes 1..4  schema id, unsigned 32-bit big-endian (the registry's global id)
 *   bytes 5..   the Avro binary body
 *
 * JSON is the plain JSON a collector receives over HTTP (not Avro's JSON encoding: unions are not wrapped), with keys
 * in schema field order so equal events give equal bytes.
 */
import avro from 'avsc';
import { type Event, type EventOf, LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS, type SchemaVersion } from './event.ts';

export const EVENT_NAMESPACE = 'streamproof.attribution';
export const EVENT_NAME = 'Event';
export const EVENT_FULL_NAME = `${EVENT_NAMESPACE}.${EVENT_NAME}`;

/** A JSON Avro schema (what a registry stores). Deliberately loose: Avro schemas are open-ended JSON. */
export type AvroSchema = string | AvroSchema[] | AvroRecordSchema | { [key: string]: unknown };

export interface AvroField {
  name: string;
  type: AvroSchema;
  default?: unknown;
  doc?: string;
  aliases?: string[];
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  aliases?: string[];
  fields: AvroField[];
}

const V1_FIELDS: AvroField[] = [
  { name: 'event_id', type: 'string', doc: '"<producer_id>-<seq>", unique per event' },
  { name: 'user_id', type: 'string', doc: 'the Kafka key, "u" + 7 digits' },
  { name: 'user_seq', type: 'long', doc: "per-user sequence from 0, strictly increasing in the user's emission order" },
  { name: 'type', type: { type: 'enum', name: 'EventType', symbols: ['impression', 'click', 'conversion'] } },
  {
    name: 'channel',
    type: { type: 'enum', name: 'Channel', symbols: ['search', 'social', 'display', 'email', 'affiliate', 'direct'] },
  },
  { name: 'campaign', type: 'string' },
  { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'when it happened' },
  { name: 'sent_at', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'intended send time (open model)' },
  { name: 'revenue', type: ['null', 'double'], default: null, doc: 'conversions only' },
  { name: 'currency', type: ['null', 'string'], default: null, doc: 'conversions only, ISO 4217' },
  { name: 'schema_version', type: 'int', doc: "the writer's schema version" },
];

const DEVICE_FIELD: AvroField = {
  name: 'device',
  // The enum default lets a v2 reader survive a device a later writer adds (Avro 1.9+ enum default).
  type: { type: 'enum', name: 'Device', symbols: ['desktop', 'mobile', 'tablet', 'unknown'], default: 'unknown' },
  default: 'unknown',
};

const CONSENT_FIELD: AvroField = {
  name: 'consent',
  type: {
    type: 'record',
    name: 'Consent',
    fields: [
      { name: 'analytics', type: 'boolean', default: true },
      { name: 'ads', type: 'boolean', default: true },
    ],
  },
  default: { analytics: true, ads: true },
};

function record(fields: AvroField[], version: number): AvroRecordSchema {
  return {
    type: 'record',
    name: EVENT_NAME,
    namespace: EVENT_NAMESPACE,
    doc: `Marketing-attribution event, schema version ${version}`,
    fields,
  };
}

/** The schema JSON of each version, frozen deep: register these, never mutate them. */
export const EVENT_SCHEMAS: Readonly<Record<SchemaVersion, Readonly<AvroRecordSchema>>> = deepFreeze({
  1: record(V1_FIELDS, 1),
  2: record([...V1_FIELDS, DEVICE_FIELD], 2),
  3: record([...V1_FIELDS, DEVICE_FIELD, CONSENT_FIELD], 3),
});

/** A deep copy of a version's schema JSON, for code that wants to edit one (the evolution generator does). */
export function eventSchema(version: SchemaVersion): AvroRecordSchema {
  return structuredClone(EVENT_SCHEMAS[version]) as AvroRecordSchema;
}

/** avsc types of each version. `wrapUnions: 'auto'` keeps ['null', X] unions as plain values (null or X). */
export const EVENT_TYPES_AVRO: Readonly<Record<SchemaVersion, avro.Type>> = Object.freeze({
  1: avro.Type.forSchema(EVENT_SCHEMAS[1] as avro.Schema, { wrapUnions: 'auto' }),
  2: avro.Type.forSchema(EVENT_SCHEMAS[2] as avro.Schema, { wrapUnions: 'auto' }),
  3: avro.Type.forSchema(EVENT_SCHEMAS[3] as avro.Schema, { wrapUnions: 'auto' }),
});

export function eventType(version: SchemaVersion): avro.Type {
  return EVENT_TYPES_AVRO[version];
}

// Resolvers between versions are built once: createResolver compiles code, far too slow per message.
const resolvers = new Map<string, avro.Resolver>();
function resolver(reader: SchemaVersion, writer: SchemaVersion): avro.Resolver {
  const key = `${reader}<${writer}`;
  let r = resolvers.get(key);
  if (r === undefined) {
    r = EVENT_TYPES_AVRO[reader].createResolver(EVENT_TYPES_AVRO[writer]);
    resolvers.set(key, r);
  }
  return r;
}

export const SCHEMA_ERROR_CODES = [
  'short-buffer',
  'wrong-magic-byte',
  'invalid-event',
  'trailing-bytes',
  'undecodable',
  'invalid-json',
] as const;
export type SchemaErrorCode = (typeof SCHEMA_ERROR_CODES)[number];

/** One error class for every encode/decode failure; `code` is stable, the message says what was wrong. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(
    readonly code: SchemaErrorCode,
    message: string,
  ) {
    super(message);
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Avro binary body of `event` under `version`'s schema. Throws `invalid-event` naming the bad field paths. */
export function encodeAvro(version: SchemaVersion, event: Event): Buffer {
  const type = EVENT_TYPES_AVRO[version];
  const paths: string[] = [];
  if (!type.isValid(event, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
    throw new SchemaError('invalid-event', `event is not valid for schema v${version}: bad ${paths.join(', ')}`);
  }
  return type.toBuffer(event);
}

/**
 * Decodes an Avro body written with `writerVersion` as seen by `readerVersion` (default: the writer's).
 * Refuses trailing bytes: a body that decodes with bytes left over is corrupt, not "fine".
 */
export function decodeAvro<V extends SchemaVersion>(
  body: Uint8Array,
  writerVersion: SchemaVersion,
  readerVersion: V = writerVersion as V,
): EventOf<V> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const reader = EVENT_TYPES_AVRO[readerVersion];
  let decoded: { value: unknown; offset: number };
  try {
    decoded =
      readerVersion === writerVersion
        ? reader.decode(buf, 0)
        : reader.decode(buf, 0, resolver(readerVersion, writerVersion));
  } catch (err) {
    throw new SchemaError('undecodable', `not a v${writerVersion} Avro event: ${(err as Error).message}`);
  }
  if (decoded.offset < 0) throw new SchemaError('undecodable', `not a v${writerVersion} Avro event: body too short`);
  if (decoded.offset !== buf.length) {
    throw new SchemaError(
      'trailing-bytes',
      `${buf.length - decoded.offset} bytes after a v${writerVersion} Avro event`,
    );
  }
  return decoded.value as EventOf<V>;
}

export const CONFLUENT_MAGIC_BYTE = 0;
export const CONFLUENT_HEADER_BYTES = 5;
export const MAX_SCHEMA_ID = 0xffffffff;

export function writeConfluentHeader(buf: Uint8Array, offset: number, schemaId: number): void {
  buf[offset] = CONFLUENT_MAGIC_BYTE;
  buf[offset + 1] = schemaId >>> 24;
  buf[offset + 2] = (schemaId >>> 16) & 0xff;
  buf[offset + 3] = (schemaId >>> 8) & 0xff;
  buf[offset + 4] = schemaId & 0xff;
}

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new RangeError(`schemaId must be an integer in [0, ${MAX_SCHEMA_ID}], got ${schemaId}`);
  }
}

/** Confluent-framed Avro: magic byte, schema id, then the body of `event` under `type`. */
export function encodeConfluent(schemaId: number, type: avro.Type, event: unknown): Buffer {
  checkSchemaId(schemaId);
  const paths: string[] = [];
  if (!type.isValid(event, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
    throw new SchemaError(
      'invalid-event',
      `value is not valid for ${type.name ?? type.typeName}: bad ${paths.join(', ')}`,
    );
  }
  const body = type.toBuffer(event);
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES + body.length);
  writeConfluentHeader(out, 0, schemaId);
  body.copy(out, CONFLUENT_HEADER_BYTES);
  return out;
}

/** Splits a Confluent-framed value. `body` is a view into `buf` (no copy). */
export function decodeConfluent(buf: Uint8Array): { schemaId: number; body: Buffer } {
  if (buf.length < CONFLUENT_HEADER_BYTES) {
    throw new SchemaError(
      'short-buffer',
      `Confluent wire format needs at least ${CONFLUENT_HEADER_BYTES} bytes (magic byte + 4-byte schema id), got ${buf.length}`,
    );
  }
  if (buf[0] !== CONFLUENT_MAGIC_BYTE) {
    throw new SchemaError(
      'wrong-magic-byte',
      `Confluent wire format starts with magic byte 0, got ${buf[0]} (0x${buf[0]!.toString(16).padStart(2, '0')}): ` +
        'the value was not written by a Confluent Avro serializer',
    );
  }
  const schemaId = ((buf[1]! << 24) | (buf[2]! << 16) | (buf[3]! << 8) | buf[4]!) >>> 0;
  const body = Buffer.from(buf.buffer, buf.byteOffset + CONFLUENT_HEADER_BYTES, buf.length - CONFLUENT_HEADER_BYTES);
  return { schemaId, body };
}

/** Canonical JSON of an event: keys in schema field order, so equal events encode to equal bytes. */
export function encodeJson(event: Event): Buffer {
  const version = 'consent' in event ? 3 : 'device' in event ? 2 : 1;
  const fields = EVENT_SCHEMAS[version].fields;
  const ordered: Record<string, unknown> = {};
  for (const f of fields) {
    const v = (event as unknown as Record<string, unknown>)[f.name];
    ordered[f.name] =
      f.name === 'consent'
        ? { analytics: (v as { analytics: boolean }).analytics, ads: (v as { ads: boolean }).ads }
        : v;
  }
  return Buffer.from(JSON.stringify(ordered));
}

/**
 * Parses and validates a JSON event against `version`'s schema (default: the latest). Fields a version added may be
 * absent and take their defaults, as Avro resolution would give them.
 */
export function decodeJson<V extends SchemaVersion = typeof LATEST_SCHEMA_VERSION>(
  bytes: Uint8Array | string,
  version: V = LATEST_SCHEMA_VERSION as V,
): EventOf<V> {
  let value: unknown;
  try {
    value = JSON.parse(
      typeof bytes === 'string'
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    );
  } catch (err) {
    throw new SchemaError('invalid-json', `not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SchemaError('invalid-event', 'a JSON event must be an object');
  }
  const obj = { ...(value as Record<string, unknown>) };
  for (const f of EVENT_SCHEMAS[version].fields) {
    if (obj[f.name] === undefined && f.default !== undefined) obj[f.name] = structuredClone(f.default);
  }
  const type = EVENT_TYPES_AVRO[version];
  const paths: string[] = [];
  if (!type.isValid(obj, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
    throw new SchemaError('invalid-event', `not a valid v${version} event: bad ${paths.join(', ')}`);
  }
  const known = new Set(EVENT_SCHEMAS[version].fields.map((f) => f.name));
  const unknown = Object.keys(obj).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new SchemaError('invalid-event', `not a valid v${version} event: unknown field ${unknown.join(', ')}`);
  if (!(SCHEMA_VERSIONS as readonly number[]).includes(obj.schema_version as number)) {
    throw new SchemaError(
      'invalid-event',
      `not a valid v${version} event: bad schema_version ${String(obj.schema_version)}`,
    );
  }
  return obj as unknown as EventOf<V>;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
