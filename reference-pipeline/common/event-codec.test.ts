import avro from 'avsc';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { event } from '../../generators/arbitrary/event.ts';
import { EVENT_SCHEMAS, EVENT_TYPES_AVRO, encodeConfluent } from '../../generators/schemas.ts';
import { EventDecoder } from './event-codec.ts';
import type { SchemaRegistryClient } from './registry.ts';

/** A registry that knows schema id 41 as v1 and answers after a turn of the event loop, as a real one does. */
const registry = (fail = false) => {
  const calls = { n: 0 };
  const client = {
    async schemaById(id: number) {
      calls.n++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('registry unreachable');
      return id === 41 ? JSON.stringify(EVENT_SCHEMAS[1]) : undefined;
    },
  } as unknown as SchemaRegistryClient;
  return { client, calls };
};

afterEach(() => vi.restoreAllMocks());

describe('EventDecoder', () => {
  it('builds one resolver per writer schema for a whole batch decoded at once', async () => {
    const events = fc.sample(event({ schemaVersion: 1 }), { seed: 7, numRuns: 500 });
    const { client } = registry();
    const resolvers = vi.spyOn(avro.Type.prototype, 'createResolver');
    const decoder = new EventDecoder(client);
    const out = await Promise.all(events.map((e) => decoder.decode(encodeConfluent(41, EVENT_TYPES_AVRO[1], e))));
    expect(out.every((d) => d.ok)).toBe(true);
    expect(out.map((d) => (d.ok ? d.event.event_id : ''))).toEqual(events.map((e) => e.event_id));
    // The reader schema (v3) resolved against the writer's once, however many records were waiting for it.
    expect(resolvers.mock.contexts.filter((t) => t === EVENT_TYPES_AVRO[3])).toHaveLength(1);
  });

  it('dead-letters an unknown id, and asks a failing registry again for the next record', async () => {
    const e = fc.sample(event({ schemaVersion: 1 }), { seed: 1, numRuns: 1 })[0]!;
    const unknown = await new EventDecoder(registry().client).decode(encodeConfluent(42, EVENT_TYPES_AVRO[1], e));
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown-schema-id' });
    const down = registry(true);
    const decoder = new EventDecoder(down.client);
    const framed = encodeConfluent(41, EVENT_TYPES_AVRO[1], e);
    await expect(decoder.decode(framed)).rejects.toThrow(/unreachable/);
    await expect(decoder.decode(framed)).rejects.toThrow(/unreachable/);
    expect(down.calls.n).toBe(2);
  });
});
