/**
 * Decoding of `events` records, shared by the attributor and the lake sink. A value is either Confluent-framed Avro
 * (magic byte 0, then the registry id of the writer schema) or canonical JSON (first byte `{`). Avro bodies are
 * resolved from the writer's schema (fetched by id) to the latest reader schema (v3), so every consumer sees one shape
 * whatever version a producer wrote. Trailing bytes after an Avro body are an error, not ignored.
 *
 * `decode` returns `{ ok: false }` for a record that can never be decoded (dead-letter it) and throws for a transient
 * failure (registry unreachable: retry the batch).
 */
import avro from 'avsc';
import { type EventV3, LATEST_SCHEMA_VERSION } from '../../generators/event.ts';
import {
  CONFLUENT_MAGIC_BYTE,
  decodeConfluent,
  decodeJson,
  EVENT_TYPES_AVRO,
  type SchemaError,
} from '../../generators/schemas.ts';
import { cachedPromise, type SchemaRegistryClient } from './registry.ts';

export type Decoded = { ok: true; event: EventV3 } | { ok: false; reason: string; message: string };

export class EventDecoder {
  private readonly resolvers = new Map<number, Promise<{ writer: avro.Type; resolver: avro.Resolver } | null>>();
  constructor(private readonly registry: SchemaRegistryClient | undefined) {}

  async decode(value: Buffer | null | undefined): Promise<Decoded> {
    if (value === null || value === undefined || value.length === 0) {
      return { ok: false, reason: 'empty-value', message: 'record has no value' };
    }
    if (value[0] === 0x7b) {
      try {
        return { ok: true, event: decodeJson(value, 3) };
      } catch (err) {
        return { ok: false, reason: (err as SchemaError).code ?? 'invalid-json', message: (err as Error).message };
      }
    }
    if (value[0] !== CONFLUENT_MAGIC_BYTE || value.length < 5) {
      try {
        decodeConfluent(value);
      } catch (err) {
        return { ok: false, reason: (err as SchemaError).code, message: (err as Error).message };
      }
    }
    const { schemaId, body } = decodeConfluent(value);
    const r = await this.resolverFor(schemaId);
    if (r === null)
      return { ok: false, reason: 'unknown-schema-id', message: `schema id ${schemaId} is not registered` };
    let decoded: { value: unknown; offset: number };
    try {
      decoded = EVENT_TYPES_AVRO[LATEST_SCHEMA_VERSION].decode(body, 0, r.resolver);
    } catch (err) {
      return {
        ok: false,
        reason: 'undecodable',
        message: `Avro body (schema id ${schemaId}): ${(err as Error).message}`,
      };
    }
    if (decoded.offset < 0) {
      return { ok: false, reason: 'undecodable', message: `Avro body (schema id ${schemaId}) too short` };
    }
    if (decoded.offset !== body.length) {
      return {
        ok: false,
        reason: 'trailing-bytes',
        message: `${body.length - decoded.offset} bytes after the Avro body (schema id ${schemaId})`,
      };
    }
    return { ok: true, event: decoded.value as EventV3 };
  }

  /**
   * The writer schema `id`'s resolver, built once per id. The promise is what is cached: a batch decodes its records
   * concurrently, and caching only the result let every record of a new process's first batch miss, await the
   * registry, and build its own resolver (thousands of schema parses in one turn of the event loop, long enough for
   * the consumer's heartbeats to lapse).
   */
  private resolverFor(id: number): Promise<{ writer: avro.Type; resolver: avro.Resolver } | null> {
    // A registry that failed (not one that answered "unknown id") is asked again by the next record.
    return cachedPromise(this.resolvers, id, (i) => this.buildResolver(i));
  }

  private async buildResolver(id: number): Promise<{ writer: avro.Type; resolver: avro.Resolver } | null> {
    if (this.registry === undefined)
      throw new Error('an Avro record arrived but STREAMPROOF_SCHEMA_REGISTRY_URL is not set');
    const text = await this.registry.schemaById(id);
    if (text === undefined) return null;
    try {
      const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema, { wrapUnions: 'auto' });
      return { writer, resolver: EVENT_TYPES_AVRO[LATEST_SCHEMA_VERSION].createResolver(writer) };
    } catch {
      // A schema that cannot be resolved to ours (another subject's id): every record with it is undecodable.
      return null;
    }
  }
}
