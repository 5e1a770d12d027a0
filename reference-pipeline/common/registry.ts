/**
 * The two schema-registry calls the pipeline makes (Confluent REST API, as Apicurio's /apis/ccompat/v7 speaks it):
 * register the writer schema (collector) and fetch a schema by id (attributor, lake sink). Schemas are immutable by
 * id, so lookups are cached forever; an unknown id is `undefined` (the record is dead-lettered), any other failure
 * throws (the batch is retried: a registry outage must not send good records to the DLQ).
 */

const contentType = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  private readonly byId = new Map<number, Promise<string | undefined>>();
  constructor(readonly url: string) {}

  async register(subject: string, schema: object): Promise<number> {
    const res = await fetch(`${this.url}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: contentType },
      body: JSON.stringify({ schema: JSON.stringify(schema), schemaType: 'AVRO' }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`registry: POST /subjects/${subject}/versions: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { id: number }).id;
  }

  schemaById(id: number): Promise<string | undefined> {
    return cachedPromise(this.byId, id, (i) => this.fetchSchema(i));
  }

  private async fetchSchema(id: number): Promise<string | undefined> {
    const res = await fetch(`${this.url}/schemas/ids/${id}`, {
      headers: { accept: contentType },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    // 404 is the documented answer for an unknown id; other 4xx (a malformed id) mean the same for us. 5xx and
    // network errors are transient and throw.
    if (res.status >= 400 && res.status < 500) return undefined;
    if (!res.ok) throw new Error(`registry: GET /schemas/ids/${id}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { schema: string }).schema;
  }
}

/**
 * The promise `make(key)` gave for `key`, made once and shared by every caller, even those that ask before it settles;
 * a rejected one is forgotten, so a transient failure is retried by the next caller.
 */
export function cachedPromise<K, V>(cache: Map<K, Promise<V>>, key: K, make: (key: K) => Promise<V>): Promise<V> {
  let p = cache.get(key);
  if (p === undefined) {
    p = make(key);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
