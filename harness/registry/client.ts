/**
 * A small client for the Confluent Schema Registry REST API (the part every compatible registry speaks: Confluent,
 * Apicurio's /apis/ccompat/v7, Redpanda). Used for what the common JS clients leave out: compatibility config and
 * checks. Registration and serde can equally go through @kafkajs/confluent-schema-registry.
 */
import { StreamproofError } from '../util/errors.ts';

export const compatibilityLevels = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

const contentType = 'application/vnd.schemaregistry.v1+json';

/** HTTP Basic credentials per registry URL (an external cluster's registry): every client of that URL sends them. */
const basicAuth = new Map<string, string>();

/** Registers the credentials of the registry at `url`; returns the release. */
export function useRegistryAuth(url: string, username: string, password: string): () => void {
  const header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  basicAuth.set(url, header);
  return () => {
    if (basicAuth.get(url) === header) basicAuth.delete(url);
  };
}

export class RegistryClient {
  constructor(readonly url: string) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        'content-type': contentType,
        accept: contentType,
        ...(basicAuth.has(this.url) ? { authorization: basicAuth.get(this.url)! } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    if (!res.ok && !okStatuses.includes(res.status)) {
      throw new StreamproofError('REGISTRY_ERROR', `${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`, {
        status: res.status,
      });
    }
    return { status: res.status, body: parsed };
  }

  async register(subject: string, schema: object | string): Promise<number> {
    const r = await this.call<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: typeof schema === 'string' ? schema : JSON.stringify(schema),
      schemaType: 'AVRO',
    });
    return r.body.id;
  }

  async schemaById(id: number): Promise<string> {
    return (await this.call<{ schema: string }>('GET', `/schemas/ids/${id}`)).body.schema;
  }

  async versions(subject: string): Promise<number[]> {
    return (await this.call<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions`)).body;
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  async compatibility(subject: string): Promise<CompatibilityLevel> {
    const r = await this.call<{ compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel }>(
      'GET',
      `/config/${encodeURIComponent(subject)}`,
    );
    return (r.body.compatibilityLevel ?? r.body.compatibility)!;
  }

  /**
   * Is `schema` compatible with one registered version (`latest` by default) under the subject's level? This
   * endpoint compares with that one version only, even for a *_TRANSITIVE level. Pass `version: 'all'` for the
   * versionless endpoint, which is meant to follow the level (Apicurio 3.3 checks every version there whatever the
   * level: see docs/generators.md). Registering is the check that always follows the level.
   */
  async isCompatible(subject: string, schema: object | string, version: string | number = 'latest'): Promise<boolean> {
    const path = version === 'all' ? '/versions' : `/versions/${version}`;
    const r = await this.call<{ is_compatible: boolean }>(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}${path}`,
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema), schemaType: 'AVRO' },
    );
    return r.body.is_compatible;
  }

  /**
   * `isCompatible` with the registry's reasons: `?verbose=true` asks for them (`messages`; a registry that does not
   * give any answers with an empty list).
   */
  async checkCompatibility(
    subject: string,
    schema: object | string,
    version: string | number = 'latest',
  ): Promise<{ compatible: boolean; messages: string[] }> {
    const path = version === 'all' ? '/versions' : `/versions/${version}`;
    const r = await this.call<{ is_compatible: boolean; messages?: unknown }>(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}${path}?verbose=true`,
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema), schemaType: 'AVRO' },
    );
    const messages = Array.isArray(r.body.messages) ? r.body.messages.map((m) => String(m)) : [];
    return { compatible: r.body.is_compatible === true, messages };
  }

  /** Registers, or says why the registry refused (HTTP 409: incompatible under the subject's level). */
  async tryRegister(subject: string, schema: object | string): Promise<{ id: number } | { refused: string }> {
    const r = await this.call<{ id?: number; message?: string }>(
      'POST',
      `/subjects/${encodeURIComponent(subject)}/versions`,
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema), schemaType: 'AVRO' },
      [409],
    );
    if (r.status === 409) return { refused: r.body?.message ?? JSON.stringify(r.body ?? 'HTTP 409') };
    return { id: r.body.id! };
  }

  /** The subject's compatibility level, else the registry's global one; undefined when neither is readable. */
  async effectiveCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    for (const path of [`/config/${encodeURIComponent(subject)}`, '/config']) {
      const r = await this.call<{ compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel }>(
        'GET',
        path,
        undefined,
        [404],
      );
      const level = r.status === 404 ? undefined : (r.body?.compatibilityLevel ?? r.body?.compatibility);
      if (level) return level;
    }
    return undefined;
  }

  async deleteSubject(subject: string): Promise<void> {
    await this.call('DELETE', `/subjects/${encodeURIComponent(subject)}`, undefined, [404]);
    await this.call('DELETE', `/subjects/${encodeURIComponent(subject)}?permanent=true`, undefined, [404]);
  }
}
